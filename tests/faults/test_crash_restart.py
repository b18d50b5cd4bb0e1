"""`wildrydes local up` dies as a terminal crash, an OOM kill or an impatient process manager kills it, while
a seeded fleet writes: within seconds no process of the platform is left (its lifeline stops them all,
Dagster's and the Lambda runtime's own children included), `local status` says so, and the next
`local up` resumes from the checkpoints: DynamoDB equals the aggregation computed independently from the
stream and the archive holds every record of the stream. A pid file pointing at a process that is not
the platform's is never acted on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from localaws.supervisor.preflight import free_port
from localaws.supervisor.processes import ProcessRecord, alive, members
from tests.support.firehose_helpers import ARCHIVE_STREAM, set_destination, wait_for_version
from tests.support.pipeline_checks import assert_aggregates_exact, assert_archive_complete, produce, wait_for
from tests.support.stack import LocalStack

pytestmark = pytest.mark.faults

WINDOW_S = 2
PIPELINE = ["--no-producer", "--parameter", f"TumblingWindowInSeconds={WINDOW_S}",
            "--parameter", "AggregatorMaximumBatchingWindowInSeconds=0",
            "--parameter", "ArchiveBufferIntervalSeconds=1", "--parameter", "ArchiveBufferSizeMB=1"]
GONE_WITHIN_S = 20


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    stack = LocalStack(data_dir=tmp_path / "data", port=free_port(), log_path=tmp_path / "stack.log")
    yield stack
    if stack.process is not None and stack.process.poll() is None:
        stack.stop()
    state = stack.run_state()
    if state.get("run_id"):  # whatever a failed test left behind
        for member in members(state["run_id"]):
            os.kill(member.pid, signal.SIGKILL)


def start_pipeline(stack: LocalStack, extra: list[str] = ()) -> str:
    """Starts the platform with short windows and buffers; returns the archive bucket."""
    stack.extra_args = [*PIPELINE, *extra]
    stack.start()
    version = set_destination(stack.client("firehose"), ARCHIVE_STREAM, processor_interval_s=1)
    wait_for_version(stack.data_dir, ARCHIVE_STREAM, version)
    return json.loads((stack.data_dir / "deploy" / "outputs.json").read_text())["Outputs"]["ArchiveBucketName"]


def processed(stack: LocalStack) -> int:
    try:
        status = json.loads((stack.data_dir / "lambda" / "status.json").read_text())
    except (OSError, ValueError):
        return 0
    return sum(m["records_processed"] for m in status.get("mappings", {}).values())


def platform(stack: LocalStack) -> dict[int, str]:
    """pid → component of every live process of the current run, grandchildren included."""
    return {m.pid: m.component for m in members(stack.run_state()["run_id"])}


def crash_mid_stream(stack: LocalStack, kill: Callable[[LocalStack], None],
                     seed: int) -> tuple[dict[int, str], subprocess.Popen[str]]:
    """While a fleet writes and the pipeline consumes, ``kill`` the platform; returns what was running and
    the fleet, which keeps writing (retrying while the endpoint is down)."""
    producer = produce(stack, seed, seconds=25)
    wait_for("the aggregator consuming the fleet", lambda: processed(stack) > 200, 120, stack)
    run_id = stack.run_state()["run_id"]
    before = platform(stack)
    kill(stack)
    wait_for("no process of the crashed platform left",
             lambda: not members(run_id) and not any(alive(pid) for pid in before), GONE_WITHIN_S, stack)
    return before, producer


def resume_and_check(stack: LocalStack, bucket: str, producer: subprocess.Popen[str], seed: int) -> None:
    """`local up` again: what it says of the crashed run; then more data, and nothing lost or counted twice."""
    stack.start()
    assert "the previous run" in stack.log_tail(100_000)
    try:
        producer.wait(180)  # whatever it got acknowledged, before, during or after the restart, counts
    except subprocess.TimeoutExpired:
        producer.kill()
    producer = produce(stack, seed, seconds=8)  # the last windows of the crash close with new records
    _, err = producer.communicate(timeout=300)
    assert producer.returncode == 0, err[-2000:]
    assert assert_aggregates_exact(stack, WINDOW_S) > 8 * 5 * 8
    assert assert_archive_complete(stack, bucket)


def cli(stack: LocalStack, *args: str) -> subprocess.CompletedProcess[str]:
    return stack.cli(*args, "--data-dir", str(stack.data_dir), timeout=180)


def test_sigkill_of_the_process_group_leaves_nothing_and_a_restart_loses_nothing(stack: LocalStack) -> None:
    bucket = start_pipeline(stack, ["--dagster-port", str(free_port())])
    components = {name: c["pid"] for name, c in stack.run_state()["components"].items()}

    before, producer = crash_mid_stream(stack, LocalStack.crash, seed=31)

    # Children of the components were stopped too: Dagster's code servers, the Lambda runtime's workers.
    children = {component for pid, component in before.items() if pid not in components.values()}
    assert {"dagster", "daemon", "lambda"} <= children, before
    status = cli(stack, "local", "status")
    assert status.returncode == 1 and "not running" in status.stdout, status.stdout + status.stderr
    stack.extra_args = PIPELINE  # the pipeline resumes without waiting for Dagster again
    resume_and_check(stack, bucket, producer, seed=32)


def test_sigkill_of_the_supervisor_alone_leaves_nothing_and_a_restart_loses_nothing(stack: LocalStack) -> None:
    bucket = start_pipeline(stack)
    state = stack.run_state()

    # A pipeline process that is down makes the platform unhealthy (the supervisor is paused so that it
    # cannot restart it before `local status` looks).
    os.kill(state["pid"], signal.SIGSTOP)
    try:
        os.kill(state["components"]["lambda"]["pid"], signal.SIGKILL)
        status = cli(stack, "local", "status")
        assert status.returncode == 1, status.stdout + status.stderr
        assert "problem: lambda is not running" in status.stdout
    finally:
        os.kill(state["pid"], signal.SIGCONT)
    wait_for("the Lambda runtime restarted", lambda: stack.run_state()["components"]["lambda"]["restarts"] == 1,
             60, stack)

    assert stack.process is not None
    _, producer = crash_mid_stream(stack, lambda s: os.kill(s.process.pid, signal.SIGKILL),  # type: ignore[union-attr]
                                   seed=41)
    stack.process.wait()
    resume_and_check(stack, bucket, producer, seed=42)


def test_orphans_of_a_run_whose_lifeline_also_died_are_reported_and_stopped(stack: LocalStack) -> None:
    stack.extra_args = ["--no-deploy"]
    for command in ("up", "down"):
        stack.start()
        state = stack.run_state()
        os.kill(state["lifeline"]["pid"], signal.SIGSTOP)  # as if it had died with the supervisor
        try:
            stack.crash()
            orphans = members(state["run_id"])
            assert {"kinesis", "dynamodb", "moto", "gateway", "athena"} <= {m.component for m in orphans}

            status = cli(stack, "local", "status")
            assert status.returncode == 1
            assert f"supervisor (pid {state['pid']}) is gone" in status.stdout and "still run" in status.stdout

            servers = [f"{m.component} {m.pid}" for m in orphans if m.component in ("kinesis", "moto", "gateway")]
            if command == "up":  # a new `local up` stops them, says so in one line, and starts
                stack.start()
                lines = [line for line in stack.log_tail(100_000).splitlines() if "did not stop cleanly" in line]
                assert len(lines) == 1 and all(server in lines[0] for server in servers), lines
                assert stack.healthy()
                stack.stop()
            else:  # `local down` stops them without a supervisor
                down = cli(stack, "local", "down")
                assert down.returncode == 0 and all(server in down.stdout for server in servers), down.stdout
                assert not (stack.data_dir / "run" / "stack.json").exists()
            assert not members(state["run_id"])
        finally:
            os.kill(state["lifeline"]["pid"], signal.SIGKILL)


def test_a_stop_cut_short_by_sigkill_leaves_nothing_holding_the_data(stack: LocalStack) -> None:
    """Ctrl-C, then SIGKILL before the stop finished (a process manager that would not wait): the backends
    must not stay behind holding their LevelDB locks, or the next `local up` could not open the data."""
    stack.extra_args = ["--no-deploy"]
    stack.start()
    run_id = stack.run_state()["run_id"]
    assert stack.process is not None
    os.killpg(stack.process.pid, signal.SIGINT)
    wait_for("the stop under way", lambda: "supervisor | stopping" in stack.log_tail(), 30, stack)
    stack.crash()
    wait_for("no process of the interrupted platform left", lambda: not members(run_id), GONE_WITHIN_S, stack)
    stack.start()
    assert stack.healthy()


def test_a_stale_pid_file_never_touches_an_unrelated_process(stack: LocalStack, tmp_path: Path) -> None:
    # Two unrelated processes now hold pids a crashed run recorded: one with another command line, one
    # with the very command line recorded but started at another time (a reused pid).
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    unrelated = [subprocess.Popen(sleeper), subprocess.Popen([*sleeper, "--service", "kinesis"])]
    try:
        records = [ProcessRecord.of(p.pid, p.args) for p in unrelated]  # type: ignore[arg-type]
        deadline = time.monotonic() + 10
        while not all(r and r.running() for r in records) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert all(r and r.running() for r in records)  # the records would recognise them as they are
        supervisor, backend = records[0], records[1]
        assert supervisor and backend
        stale = {
            "pid": supervisor.pid, "run_id": "a-crashed-run", "endpoint": stack.endpoint_url,
            "supervisor": {**supervisor.to_json(), "argv": [sys.executable, "-m", "infra.cli", "local", "up"]},
            "components": {
                "kinesis": {**backend.to_json(), "create_time": backend.create_time - 3600, "restarts": 0},
                "gateway": {**supervisor.to_json(), "argv": [sys.executable, "-m", "localaws.gateway.server"],
                            "restarts": 0},
            },
        }
        run_file = stack.data_dir / "run" / "stack.json"
        run_file.parent.mkdir(parents=True)

        run_file.write_text(json.dumps(stale))
        status = cli(stack, "local", "status")
        assert status.returncode == 1 and "nothing of it is left" in status.stdout, status.stdout + status.stderr
        down = cli(stack, "local", "down")
        assert down.returncode == 0 and "left nothing running" in down.stdout, down.stdout + down.stderr

        run_file.write_text(json.dumps(stale))
        stack.extra_args = ["--no-deploy"]
        stack.start()
        assert stack.healthy()
        stack.stop()
        assert all(p.poll() is None for p in unrelated)
    finally:
        for process in unrelated:
            process.kill()
            process.wait()
