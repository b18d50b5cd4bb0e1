"""The dbt-athena project on the local Athena, driven by Dagster's partitioned dbt assets, over history:
unit tests and data tests pass, fct_unicorn_minute has DynamoDB's numbers, runs are window-incremental,
and ``dbt docs generate`` works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.quality.compare import reconcile
from orchestration.defs.quality.sources import window_label
from tests.support.aggregation_oracle import actual_items
from tests.support.orchestration_stack import HOURS, UNICORNS, HistoryStack, environment, started_history_stack

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HistoryStack]:
    """History registered hour by hour, then the hourly models as one backfill run over both hours,
    then the daily and current models."""
    from orchestration.defs.archive.assets import raw_unicorn_status
    from orchestration.defs.dbt.assets import dbt_current_models, dbt_daily_models, dbt_hourly_models
    from tests.support.orchestration_stack import code_location_resources

    for loaded in started_history_stack(tmp_path_factory.mktemp("dbt")):
        with environment(loaded.env):
            res = code_location_resources()
            for key in loaded.hour_keys():
                assert dg.materialize([raw_unicorn_status], partition_key=key, resources=res).success
            first, last = loaded.hour_keys()[0], loaded.hour_keys()[-1]
            hourly = dg.materialize([dbt_hourly_models], resources=res, tags={
                "dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last})
            assert hourly.success
            loaded.hourly_result = hourly  # type: ignore[attr-defined]
            day = f"{loaded.report.start:%Y-%m-%d}"
            daily = dg.materialize([dbt_daily_models], partition_key=day, resources=res)
            assert daily.success
            current = dg.materialize([dbt_current_models], resources=res)
            assert current.success
            loaded.results = [hourly, daily, current]  # type: ignore[attr-defined]
        yield loaded


def query(loaded: HistoryStack, sql: str) -> list[dict[str, str | None]]:
    from orchestration.defs.platform.resources import AthenaResource

    with environment(loaded.env):
        return AthenaResource().query_rows(sql)


def test_dbt_data_tests_ran_as_passing_asset_checks(built: HistoryStack) -> None:
    evaluations = [e for result in built.results for e in result.get_asset_check_evaluations()]  # type: ignore[attr-defined]
    assert len(evaluations) >= 20
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]
    materialized = {m.asset_key.to_user_string() for r in built.results for m in r.get_asset_materialization_events()}  # type: ignore[attr-defined]
    assert materialized >= {"stg_unicorn_status", "fct_unicorn_minute", "fct_unicorn_daily", "dim_unicorn",
                            "fct_low_vitals_episodes", "fct_unicorn_trips"}


def test_fct_unicorn_minute_has_dynamodbs_numbers(built: HistoryStack) -> None:
    rows = query(built, "select unicorn_name, to_unixtime(minute_start) as epoch, distance_m, min_health_points, "
                        "max_health_points, min_magic_points, max_magic_points, record_count "
                        "from wildrydes.fct_unicorn_minute")
    facts = {(r["unicorn_name"], window_label(int(float(r["epoch"])))): {
        "Distance": float(r["distance_m"]), "MinHealthPoints": int(r["min_health_points"]),
        "MaxHealthPoints": int(r["max_health_points"]), "MinMagicPoints": int(r["min_magic_points"]),
        "MaxMagicPoints": int(r["max_magic_points"]), "RecordCount": int(r["record_count"])} for r in rows}
    items = actual_items(built.stack.client("dynamodb"), "UnicornSensorData")
    result = reconcile(facts, items)
    assert result.passed, result.mismatches[:5]
    assert result.matched == HOURS * 60 * UNICORNS


def test_marts_answer_plausibly(built: HistoryStack) -> None:
    [daily] = query(built, "select count(*) as n, sum(record_count) as records, max(minutes_active) as minutes "
                           "from wildrydes.fct_unicorn_daily")
    assert int(daily["n"]) == UNICORNS and int(daily["records"]) == HOURS * 3600 * UNICORNS
    assert int(daily["minutes"]) == HOURS * 60
    dims = query(built, "select unicorn_name, lifetime_records from wildrydes.dim_unicorn")
    assert len(dims) == UNICORNS and all(int(d["lifetime_records"]) == HOURS * 3600 for d in dims)
    trips = query(built, "select unicorn_name, duration_s, record_count from wildrydes.fct_unicorn_trips")
    assert len(trips) == UNICORNS  # history is continuous: one trip per unicorn
    assert all(float(t["duration_s"]) > HOURS * 3600 - 5 for t in trips)


def test_an_hourly_partition_rewrites_only_its_hour(built: HistoryStack) -> None:
    from orchestration.defs.dbt.assets import dbt_hourly_models
    from tests.support.orchestration_stack import code_location_resources

    counts = "select dt, hour, count(*) as n from wildrydes.fct_unicorn_minute group by 1, 2 order by 1, 2"
    before = query(built, counts)
    with environment(built.env):
        result = dg.materialize([dbt_hourly_models], partition_key=built.hour_keys()[1],
                                resources=code_location_resources())
    assert result.success
    after = query(built, counts)
    assert after == before and len(after) == HOURS


def test_dbt_docs_generate(built: HistoryStack) -> None:
    from orchestration.defs.platform.stack import load_names

    with environment(built.env):
        env = {**os.environ, **load_names().dbt_env()}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "docs", "generate", "--project-dir", "dbt_project",
         "--profiles-dir", "dbt_project", "--target-path", "target/docs"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (REPO / "dbt_project" / "target" / "docs" / "catalog.json").exists()


# --------------------------------------------------------------------------- the analysts' README


def guide_blocks(language: str) -> list[str]:
    """The code blocks of the analysts' guide (docs/analysts.md)."""
    text = (REPO / "docs" / "analysts.md").read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_the_analysts_guide_sql_examples_run_and_answer(built: HistoryStack) -> None:
    blocks = guide_blocks("sql")
    assert len(blocks) >= 7
    for sql in blocks:
        rows = query(built, sql)
        assert rows, f"no rows for:\n{sql}"
    trip_points = query(built, blocks[2])
    assert len(trip_points) == HOURS * 3600  # the whole (only) trip of Shadowfax, one point a second


def test_the_analysts_guide_python_and_cli_examples_run(built: HistoryStack) -> None:
    [python] = guide_blocks("python")
    with environment(built.env):
        result = subprocess.run([sys.executable, "-c", python], capture_output=True, text=True, timeout=300,
                                env=dict(os.environ))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count(" km") == UNICORNS
    [shell] = guide_blocks("sh")
    sql = re.search(r'wildrydes query "(.*)"', shell).group(1)  # type: ignore[union-attr]
    with environment(built.env):
        cli = subprocess.run([sys.executable, "-m", "infra.cli", "query", sql], capture_output=True, text=True,
                             timeout=300, env=dict(os.environ), cwd=REPO)
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert "Shadowfax" in cli.stdout
