"""`wildrydes local up` runs Dagster: the webserver on loopback, the daemon, and, on a fresh data directory,
past hours of history that the sensors register, reconcile and model without anyone clicking."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psutil
import pytest

from localaws.supervisor.dagster_home import prepare_home
from localaws.supervisor.dagster_launcher import LocalRunLauncher, worker_alive
from localaws.supervisor.preflight import free_port
from localaws.supervisor.services import HISTORY_MARKER
from tests.support.stack import LocalStack, started_stack

HISTORY_HOURS = 2
WORKER_STARTED = re.compile(r"Started process for run \(pid: (\d+)\)")
UNICORNS = 3


def test_prepare_home_writes_a_valid_instance_and_fixes_the_start_date_once(tmp_path: Path) -> None:
    from dagster._core.instance.ref import InstanceRef

    home = prepare_home(tmp_path, now=datetime(2026, 11, 25, 18, tzinfo=UTC))
    assert home.path == tmp_path / "dagster" and home.start_date == "2026-11-24"
    assert prepare_home(tmp_path, now=datetime(2026, 12, 25, tzinfo=UTC)).start_date == "2026-11-24"
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home.path)))
    try:
        assert instance.run_coordinator is not None
        assert isinstance(instance.run_launcher, LocalRunLauncher)
        assert instance.run_launcher.supports_check_run_worker_health
    finally:
        instance.dispose()
    # A home written before the launcher existed gets it added, and keeps what it had.
    (home.path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    prepare_home(tmp_path)
    text = (home.path / "dagster.yaml").read_text()
    assert text.startswith("telemetry:\n  enabled: false\n") and "class: LocalRunLauncher" in text


def test_a_worker_is_alive_only_as_the_process_its_event_names(tmp_path: Path) -> None:
    assert worker_alive(os.getpid(), time.time())
    assert not worker_alive(os.getpid(), psutil.Process().create_time() - 60)  # a pid given to another process
    process = subprocess.Popen(["sleep", "60"])
    process.kill()
    process.wait()
    assert not worker_alive(process.pid, time.time())


@dataclass
class DaemonKill:
    """What happened when the daemon's process group was killed while a run it launched was in progress."""

    run_id: str
    workers: list[int]  # the run's worker processes, children of the daemon's code server
    daemon_pid: int


class Platform:
    def __init__(self, stack: LocalStack, dagster_port: int, storage: str, postgres_port: int) -> None:
        self.stack = stack
        self.storage = storage
        self.postgres_port = postgres_port
        self.url = f"http://127.0.0.1:{dagster_port}"
        self.port = dagster_port
        self.kill: DaemonKill | None = None

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

    def daemon(self) -> dict[str, Any]:
        return json.loads((self.stack.data_dir / "run" / "stack.json").read_text())["components"]["daemon"]


def runs(platform: Platform, statuses: list[str] | None = None, **tags: str) -> list[dict[str, Any]]:
    tag_filter = [{"key": key, "value": value} for key, value in tags.items()]
    return platform.graphql(
        "query($statuses: [RunStatus!], $tags: [ExecutionTag!]) { runsOrError(filter: {statuses: $statuses, "
        "tags: $tags}) { ... on Runs { results { runId jobName status tags { key value } } } } }",
        statuses=statuses, tags=tag_filter)["runsOrError"]["results"]


def kill_the_daemon_mid_run(platform: Platform) -> DaemonKill:
    """SIGKILL to the daemon's process group (the daemon, its code server and the run workers they started),
    as the OOM killer or a crashed container does, while a run is in progress."""
    run = platform.wait_for("a run in progress", lambda: runs(platform, ["STARTED"]), timeout=600)[0]
    daemon = platform.daemon()["pid"]

    def workers() -> list[int]:
        """The run's worker, as its event log names it, if it is a process the daemon started."""
        events = platform.graphql(
            'query($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection { events { '
            '... on MessageEvent { message } } } } }', runId=run["runId"])["logsForRun"]["events"]
        pids = {int(m.group(1)) for e in events if (m := WORKER_STARTED.search(e.get("message") or ""))}
        descendants = {p.pid for p in psutil.Process(daemon).children(recursive=True)}
        return sorted(pids & descendants)

    found = platform.wait_for(f"the worker of run {run['runId']}", workers, timeout=60)
    os.killpg(daemon, signal.SIGKILL)  # the supervisor started it in a session of its own
    return DaemonKill(run["runId"], found, daemon)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The platform with each instance storage: SQLite files (the default) and the PostgreSQL server that
    rehearses the AWS deployment's RDS (``--dagster-storage postgres``)."""
    port = free_port()
    tmp = tmp_path_factory.mktemp(f"local-dagster-{request.param}")
    postgres_port = free_port()
    storage = ["--dagster-storage", "postgres", "--postgres-port", str(postgres_port)] \
        if request.param == "postgres" else []
    for stack in started_stack(tmp, ["--unicorns", str(UNICORNS), "--history-hours", str(HISTORY_HOURS),
                                     "--dagster-port", str(port), "--no-map", *storage]):
        platform = Platform(stack, port, request.param, postgres_port)
        platform.kill = kill_the_daemon_mid_run(platform)
        yield platform


def test_webserver_listens_on_loopback_only_and_loads_the_code_location(platform: Platform) -> None:
    listening = [c for c in psutil.net_connections("tcp") if c.status == "LISTEN" and c.laddr.port == platform.port]
    assert listening and {c.laddr.ip for c in listening} == {"127.0.0.1"}

    def loaded() -> list[dict[str, Any]]:
        entries = platform.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                                   "locationOrLoadError { __typename } } } } }")["workspaceOrError"]["locationEntries"]
        return [e for e in entries if e["name"] == "wildrydes" and e["loadStatus"] == "LOADED"]

    entry = platform.wait_for("the wildrydes code location", loaded, timeout=180)[0]
    assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"


@pytest.mark.faults
def test_a_run_whose_worker_died_with_the_daemon_is_run_again(platform: Platform) -> None:
    """After the kill (in the fixture) the supervisor restarts the daemon, run monitoring finds the run's worker
    gone and fails the run, and run retries launch it again, to success."""
    kill = platform.kill
    assert kill is not None and kill.workers
    platform.wait_for("the killed run's worker gone", lambda: not any(psutil.pid_exists(pid) and
                      psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in kill.workers), timeout=30)
    platform.wait_for("the daemon's restart", lambda: platform.daemon()["pid"] != kill.daemon_pid
                      and platform.daemon()["restarts"] >= 1, timeout=120)
    killed = platform.wait_for("the killed run marked failed", lambda: [
        r for r in runs(platform) if r["runId"] == kill.run_id and r["status"] == "FAILURE"], timeout=600)
    assert killed
    retried = platform.wait_for("its retry succeeding", lambda: [
        r for r in runs(platform, ["SUCCESS"], **{"dagster/parent_run_id": kill.run_id})], timeout=600)
    assert retried[0]["jobName"] == killed[0]["jobName"]


def test_sensors_register_reconcile_and_model_every_hour_of_the_history(platform: Platform) -> None:
    marker = platform.stack.data_dir / HISTORY_MARKER
    platform.wait_for("the history marker", marker.exists, timeout=420)
    loaded = json.loads(marker.read_text())
    assert loaded["records"] == HISTORY_HOURS * 3600 * UNICORNS
    hours = [datetime.fromisoformat(hour) for hour in loaded["hours"]]
    assert len(hours) == HISTORY_HOURS
    glue = platform.stack.client("glue")

    def succeeded(job: str, partition: str) -> list[dict[str, Any]]:
        return [r for r in runs(platform, ["SUCCESS"], **{"dagster/partition": partition}) if r["jobName"] == job]

    for hour in hours:
        partition = f"{hour:%Y-%m-%d-%H}:00"
        # The complete-hours sensor requests the hour; the run registers it and runs the blocking reconciliation.
        platform.wait_for(f"the registration of {partition}", lambda p=partition: succeeded(
            "register_and_reconcile_hour", p), timeout=600)
        registered = glue.get_partition(DatabaseName="wildrydes", TableName="unicorn_status",
                                        PartitionValues=[f"{hour:%Y-%m-%d}", f"{hour:%H}"])
        assert registered["Partition"]["StorageDescriptor"]["Location"].endswith(
            f"/raw/dt={hour:%Y-%m-%d}/hour={hour:%H}/")
        # Then the run-status sensor runs the hour's dbt models.
        platform.wait_for(f"the dbt models of {partition}", lambda p=partition: succeeded("dbt_hourly", p),
                          timeout=600)


def test_runs_are_stored_where_the_storage_says(platform: Platform) -> None:
    """With PostgreSQL every run the webserver lists is a row of the server's runs table (and no SQLite file
    holds runs); with SQLite, the runs database is in DAGSTER_HOME."""
    listed = {r["runId"] for r in platform.wait_for("a run", lambda: runs(platform), timeout=600)}
    sqlite_runs = platform.stack.data_dir / "dagster" / "history" / "runs.db"
    banner = platform.stack.log_path.read_text(errors="replace")
    if platform.storage == "sqlite":
        assert sqlite_runs.exists() and "Dagster storage" not in banner
        return
    assert f"Dagster storage  PostgreSQL on 127.0.0.1:{platform.postgres_port}, database dagster" in banner
    import psycopg2

    from localaws.supervisor import postgres

    password = (platform.stack.data_dir / postgres.PASSWORD_FILE).read_text().strip()
    connection = psycopg2.connect(host="127.0.0.1", port=platform.postgres_port, user=postgres.DB_USER,
                                  dbname=postgres.DB_NAME, password=password, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT run_id FROM runs")
            stored = {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()
    assert listed <= stored
    assert not sqlite_runs.exists()


def test_history_hours_end_before_the_current_hour(platform: Platform) -> None:
    marker = platform.stack.data_dir / HISTORY_MARKER
    platform.wait_for("the history marker", marker.exists, timeout=420)
    hours = [datetime.fromisoformat(h).replace(tzinfo=UTC) for h in json.loads(marker.read_text())["hours"]]
    assert len(hours) == HISTORY_HOURS
    assert hours[-1] + timedelta(hours=1) <= datetime.now(UTC)
