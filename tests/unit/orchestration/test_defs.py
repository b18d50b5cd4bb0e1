"""The Dagster code location loads, and its configuration comes only from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from infra.deploy.state import outputs_environment
from orchestration.defs.platform import keys
from orchestration.defs.platform.stack import OUTPUTS, StackLookupError, env_name, load_names, resolve

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    from orchestration.definitions import load

    return load()


def test_workspace_validates() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Validation successful for code location wildrydes" in result.stdout + result.stderr


def test_dg_lists_the_code_location(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dg")), "list", "defs", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    listed = json.loads(result.stdout)
    assets = {a["asset_key"] for a in listed["assets"]}
    assert {"raw_unicorn_status", "stg_unicorn_status", "fct_unicorn_minute", "dim_unicorn"} <= assets
    assert "raw_unicorn_status:archive_matches_dynamodb" in {c["key"] for c in listed["asset_checks"]}
    assert {"complete_hours_sensor"} <= {s["name"] for s in listed["sensors"]}


def test_lineage_stream_to_aggregates_and_archive(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    assert keys.SOURCE_STREAM in graph.get(keys.SUMMARY_STREAM).parent_keys
    assert keys.SUMMARY_STREAM in graph.get(keys.AGGREGATES).parent_keys
    assert keys.SOURCE_STREAM in graph.get(keys.ARCHIVE).parent_keys
    assert keys.ARCHIVE in graph.get(keys.RAW).parent_keys
    raw = graph.get(keys.RAW)
    assert raw.partitions_def is not None and raw.is_materializable
    assert graph.get(keys.AGGREGATES).is_observable


def test_env_name_and_lookup_order() -> None:
    assert env_name("ArchiveBucketName") == "WILDRYDES_ARCHIVE_BUCKET_NAME"
    # the same names the deployer hands to the platform's processes
    assert outputs_environment({"Outputs": {o: o for o in OUTPUTS}}) == {env_name(o): o for o in OUTPUTS}
    environ = {env_name(o): f"env-{o}" for o in OUTPUTS if o != "SensorTableName"}
    names = load_names(environ, fallback=lambda stack: {"SensorTableName": "from-stack", "ArchiveBucketName": "x"})
    assert names.sensor_table == "from-stack"
    assert names.archive_bucket == "env-ArchiveBucketName"


def test_lookup_falls_back_to_the_cloudformation_stack() -> None:
    asked: list[str] = []

    def stack_outputs(stack: str) -> dict[str, str]:
        asked.append(stack)
        return {o: f"cfn-{o}" for o in OUTPUTS}

    found = resolve({"WILDRYDES_STACK_NAME": "prod"}, stack_outputs)
    assert found["GlueDatabaseName"] == "cfn-GlueDatabaseName"
    assert asked == ["prod"]


def test_missing_names_say_which_variables_to_set() -> None:
    with pytest.raises(StackLookupError, match="WILDRYDES_ARCHIVE_BUCKET_NAME"):
        load_names({}, fallback=lambda stack: {})


def test_no_endpoint_or_region_in_the_code_location() -> None:
    """Assets never branch on local vs AWS: no endpoint URL, port or account anywhere in orchestration/."""
    for path in (REPO / "orchestration").rglob("*.py"):
        text = path.read_text()
        for needle in ("127.0.0.1", "localhost", "4566", "123456789012", "endpoint_url="):
            if needle == "endpoint_url=" and path.name == "resources.py":
                continue  # forwards the optional boto3 setting, unset by default
            assert needle not in text, f"{needle} in {path}"



def test_both_dbt_jobs_carry_the_tag_the_run_queue_limits_to_one_run(definitions: dg.Definitions) -> None:
    from localaws.supervisor.dagster_home import DAGSTER_YAML
    from orchestration.defs.automation.jobs import DBT_DAILY, DBT_HOURLY
    from orchestration.defs.platform.run_tags import DBT_RUNS_TAG

    for name in (DBT_HOURLY, DBT_DAILY):
        assert DBT_RUNS_TAG in definitions.resolve_job_def(name).tags, name
    limits = yaml.safe_load(DAGSTER_YAML)["run_queue"]["tag_concurrency_limits"]
    assert {"key": DBT_RUNS_TAG, "limit": 1} in limits
