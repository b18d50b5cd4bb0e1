"""`wildrydes local up` runs Dagster: the webserver on loopback, the daemon, and, on a fresh data directory,
past hours of history that the sensors register, reconcile and model without anyone clicking."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psutil
import pytest

from localaws.supervisor.dagster_home import prepare_home
from localaws.supervisor.preflight import free_port
from localaws.supervisor.services import HISTORY_MARKER
from tests.stack import LocalStack, started_stack

HISTORY_HOURS = 2
UNICORNS = 3


def test_prepare_home_writes_a_valid_instance_and_fixes_the_start_date_once(tmp_path: Path) -> None:
    from dagster._core.instance.ref import InstanceRef

    home = prepare_home(tmp_path, now=datetime(2026, 11, 25, 18, tzinfo=UTC))
    assert home.path == tmp_path / "dagster" and home.start_date == "2026-11-24"
    assert prepare_home(tmp_path, now=datetime(2026, 12, 25, tzinfo=UTC)).start_date == "2026-11-24"
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home.path)))
    try:
        assert instance.run_coordinator is not None
    finally:
        instance.dispose()


class Platform:
    def __init__(self, stack: LocalStack, dagster_port: int) -> None:
        self.stack = stack
        self.url = f"http://127.0.0.1:{dagster_port}"
        self.port = dagster_port

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload
        return payload["data"]

    def wait_for(self, what: str, condition: Any, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = condition()
            if last:
                return last
            time.sleep(2)
        raise AssertionError(f"{what} not within {timeout:.0f}s; stack log:\n{self.stack.log_tail(6000)}")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    port = free_port()
    tmp = tmp_path_factory.mktemp("local-dagster")
    for stack in started_stack(tmp, ["--unicorns", str(UNICORNS), "--history-hours", str(HISTORY_HOURS),
                                     "--dagster-port", str(port), "--no-map"]):
        yield Platform(stack, port)


def test_webserver_listens_on_loopback_only_and_loads_the_code_location(platform: Platform) -> None:
    listening = [c for c in psutil.net_connections("tcp") if c.status == "LISTEN" and c.laddr.port == platform.port]
    assert listening and {c.laddr.ip for c in listening} == {"127.0.0.1"}

    def loaded() -> list[dict[str, Any]]:
        entries = platform.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                                   "locationOrLoadError { __typename } } } } }")["workspaceOrError"]["locationEntries"]
        return [e for e in entries if e["name"] == "wildrydes" and e["loadStatus"] == "LOADED"]

    entry = platform.wait_for("the wildrydes code location", loaded, timeout=180)[0]
    assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"


def runs(platform: Platform, statuses: list[str]) -> list[dict[str, Any]]:
    return platform.graphql(
        "query($statuses: [RunStatus!]) { runsOrError(filter: {statuses: $statuses}) "
        "{ ... on Runs { results { runId jobName status } } } }", statuses=statuses)["runsOrError"]["results"]


def test_kill_9_of_the_daemon_mid_run_is_survived(platform: Platform) -> None:
    """The daemon is killed while a run it launched is in progress: the supervisor restarts it, and the
    history's hours still end registered, reconciled and modelled (checked by the next test)."""
    platform.wait_for("a run in progress", lambda: runs(platform, ["STARTING", "STARTED"]), timeout=600)
    run_file = platform.stack.data_dir / "run" / "stack.json"
    before = json.loads(run_file.read_text())["components"]["daemon"]["pid"]
    os.kill(before, signal.SIGKILL)

    def restarted() -> bool:
        after = json.loads(run_file.read_text())["components"]["daemon"]
        return after["pid"] != before and after["restarts"] >= 1

    platform.wait_for("the daemon's restart", restarted, timeout=120)


def test_sensors_register_reconcile_and_model_the_loaded_history(platform: Platform) -> None:
    marker = platform.stack.data_dir / HISTORY_MARKER
    platform.wait_for("the history marker", marker.exists, timeout=420)
    loaded = json.loads(marker.read_text())
    assert loaded["records"] == HISTORY_HOURS * 3600 * UNICORNS
    first_hour = f"{datetime.fromisoformat(loaded['hours'][0]):%Y-%m-%d-%H}:00"

    def daemon_healthy() -> bool:
        statuses = platform.graphql("{ instance { daemonHealth { allDaemonStatuses { daemonType healthy "
                                    "required } } } }")["instance"]["daemonHealth"]["allDaemonStatuses"]
        required = [s for s in statuses if s["required"]]
        return bool(required) and all(s["healthy"] for s in required)

    platform.wait_for("a healthy daemon", daemon_healthy, timeout=180)

    def finished_runs(job: str) -> list[dict[str, Any]]:
        runs = platform.graphql(
            "query($job: String!, $partition: String!) { runsOrError(filter: {pipelineName: $job, tags: "
            '[{key: "dagster/partition", value: $partition}]}) { ... on Runs { results { runId status } } } }',
            job=job, partition=first_hour)["runsOrError"]["results"]
        return [r for r in runs if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")]

    # The complete-hours sensor requests the hour; the run registers it and runs the blocking reconciliation.
    # (A run whose worker died with the daemon is retried by run monitoring: look for the success.)
    registered = platform.wait_for("the first history hour's registration", lambda: [
        r for r in finished_runs("register_and_reconcile_hour") if r["status"] == "SUCCESS"], timeout=600)
    assert registered
    dt, hour = first_hour[:10], first_hour[11:13]
    glue = platform.stack.client("glue")
    partition = glue.get_partition(DatabaseName="wildrydes", TableName="unicorn_status", PartitionValues=[dt, hour])
    assert partition["Partition"]["StorageDescriptor"]["Location"].endswith(f"/raw/dt={dt}/hour={hour}/")
    # Then the run-status sensor runs the hour's dbt models.
    modelled = platform.wait_for("the hour's dbt models", lambda: [
        r for r in finished_runs("dbt_hourly") if r["status"] == "SUCCESS"], timeout=600)
    assert modelled


def test_history_hours_end_before_the_current_hour(platform: Platform) -> None:
    marker = platform.stack.data_dir / HISTORY_MARKER
    platform.wait_for("the history marker", marker.exists, timeout=420)
    hours = [datetime.fromisoformat(h).replace(tzinfo=UTC) for h in json.loads(marker.read_text())["hours"]]
    assert len(hours) == HISTORY_HOURS
    assert hours[-1] + timedelta(hours=1) <= datetime.now(UTC)
