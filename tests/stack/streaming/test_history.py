"""backfill-history: past hours through the real handlers; DynamoDB equals an independent aggregation of
the archive's Parquet (DuckDB), and the hours become Glue partitions when materialized."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from localaws.backfill.archive import history_key
from localaws.backfill.deployment import HistoryError
from localaws.backfill.loader import load_history
from localaws.backfill.records import generate
from tests.support.aggregation_oracle import actual_items
from tests.support.orchestration_stack import HOURS, SEED, UNICORNS, HistoryStack, environment, started_history_stack

WINDOW_S = 60


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HistoryStack]:
    yield from started_history_stack(tmp_path_factory.mktemp("history"))


def download_archive(loaded: HistoryStack, target: Path) -> list[Path]:
    s3 = loaded.stack.client("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("wildrydes-archive-"))
    paths = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="raw/"):
        for obj in page.get("Contents", []):
            path = target / obj["Key"].replace("/", "__")
            path.write_bytes(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            paths.append(path)
    return paths


def test_generated_records_are_deterministic_and_inside_the_hours() -> None:
    start = datetime(2026, 11, 25, 10, tzinfo=UTC)
    first = [r for tick in generate(3, 1, start, start + timedelta(minutes=2)) for r in tick]
    again = [r for tick in generate(3, 1, start, start + timedelta(minutes=2)) for r in tick]
    assert first == again and len(first) == 3 * 120
    arrivals = [r.arrival_ms for r in first]
    assert arrivals == sorted(arrivals)
    assert start.timestamp() * 1000 <= arrivals[0] and arrivals[-1] < (start.timestamp() + 120) * 1000
    assert len({r.sequence_number for r in first}) == len(first)


def test_dynamodb_equals_duckdb_aggregation_of_the_archive(loaded: HistoryStack, tmp_path: Path) -> None:
    assert loaded.report.records == HOURS * 3600 * UNICORNS
    paths = download_archive(loaded, tmp_path)
    assert paths
    rows = duckdb.sql(f"""
        select name, strftime(to_timestamp(floor(epoch(arrivaltime) / {WINDOW_S}) * {WINDOW_S}),
                              '%Y-%m-%d %H:%M:%S.000') as window_start,
               sum(distance) as distance, min(healthpoints), max(healthpoints), min(magicpoints),
               max(magicpoints), count(*)
        from read_parquet({[str(p) for p in paths]})
        group by all
    """).fetchall()
    expected = {(r[0], r[1]): r[2:] for r in rows}
    actual = actual_items(loaded.stack.client("dynamodb"), "UnicornSensorData")
    assert set(actual) == set(expected)
    assert len(actual) == HOURS * 60 * UNICORNS
    for key, (distance, min_h, max_h, min_m, max_m, count) in expected.items():
        item = actual[key]
        assert math.isclose(item["Distance"], distance, rel_tol=1e-12), key
        assert (item["MinHealthPoints"], item["MaxHealthPoints"], item["MinMagicPoints"], item["MaxMagicPoints"],
                item["RecordCount"]) == (min_h, max_h, min_m, max_m, count), key
    total = duckdb.sql(f"select count(*), count(distinct sequencenumber) from read_parquet({[str(p) for p in paths]})")
    assert total.fetchall() == [(loaded.report.records, loaded.report.records)]


def test_loading_again_with_the_same_arguments_changes_nothing(loaded: HistoryStack) -> None:
    s3, dynamodb = loaded.stack.client("s3"), loaded.stack.client("dynamodb")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("wildrydes-archive-"))
    before_keys = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="raw/")["Contents"]}
    before_items = actual_items(dynamodb, "UnicornSensorData")
    assert all(history_key(k) for k in before_keys)
    with environment(loaded.stack.env):
        load_history(HOURS, UNICORNS, SEED, loaded.report.end)
    after_keys = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="raw/")["Contents"]}
    assert after_keys == before_keys
    assert actual_items(dynamodb, "UnicornSensorData") == before_items


def test_refuses_hours_that_hold_live_data(loaded: HistoryStack) -> None:
    s3 = loaded.stack.client("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("wildrydes-archive-"))
    end = loaded.report.start
    hour = end - timedelta(hours=1)
    s3.put_object(Bucket=bucket, Key=f"raw/dt={hour:%Y-%m-%d}/hour={hour:%H}/wildrydes-archive-1-"
                  "2026-01-01-00-00-00-0b5c5f3e-2f0a-4e0e-9d4c-5b7a0f1e2d3c", Body=b"live")
    try:
        with environment(loaded.stack.env), pytest.raises(HistoryError, match="already holds data"):
            load_history(1, UNICORNS, SEED, end)
    finally:
        s3.delete_object(Bucket=bucket, Key=f"raw/dt={hour:%Y-%m-%d}/hour={hour:%H}/wildrydes-archive-1-"
                         "2026-01-01-00-00-00-0b5c5f3e-2f0a-4e0e-9d4c-5b7a0f1e2d3c")


def test_materialized_hours_are_glue_partitions_with_footer_metadata(loaded: HistoryStack) -> None:
    from orchestration.defs.archive.assets import raw_unicorn_status
    from tests.support.orchestration_stack import code_location_resources

    with environment(loaded.env):
        for key in loaded.hour_keys():
            result = dg.materialize([raw_unicorn_status], partition_key=key,
                                    resources=code_location_resources())
            assert result.success
            [materialization] = result.asset_materializations_for_node("raw_unicorn_status")
            meta = materialization.metadata
            assert meta["rows"].value == 3600 * UNICORNS
            assert meta["objects"].value == 60
            assert meta["error_records"].value == 0
            assert meta["glue_action"].value == "created"
        again = dg.materialize([raw_unicorn_status], partition_key=loaded.hour_keys()[0],
                               resources=code_location_resources())
        assert again.asset_materializations_for_node("raw_unicorn_status")[0].metadata["glue_action"].value \
            == "unchanged"
    glue = loaded.stack.client("glue")
    partitions = glue.get_partitions(DatabaseName="wildrydes", TableName="unicorn_status")["Partitions"]
    values = sorted(p["Values"] for p in partitions)
    start = loaded.report.start
    assert values == [[f"{start + timedelta(hours=h):%Y-%m-%d}", f"{start + timedelta(hours=h):%H}"]
                      for h in range(HOURS)]
    for partition in partitions:
        dt, hour = partition["Values"]
        assert partition["StorageDescriptor"]["Location"].endswith(f"/raw/dt={dt}/hour={hour}/")


def test_cli_with_a_marker_loads_once(loaded: HistoryStack, tmp_path: Path) -> None:
    import subprocess
    import sys

    marker = tmp_path / "history" / "loaded.json"
    end = loaded.report.start - timedelta(hours=2)
    argv = [sys.executable, "-m", "infra.cli", "backfill-history", "--hours", "1", "--unicorns", "2", "--seed", "3",
            "--end", f"{end:%Y-%m-%d %H:%M}", "--marker", str(marker)]
    first = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=dict(os.environ) | loaded.stack.env)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "7200 records" in first.stdout and marker.exists()
    again = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=dict(os.environ) | loaded.stack.env)
    assert again.returncode == 0 and "already loaded" in again.stdout
