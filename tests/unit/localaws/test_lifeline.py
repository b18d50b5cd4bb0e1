"""The lifeline's parts on real processes (no platform): recognising a process from its pid file entry,
finding who holds a port or a LevelDB lock, and stopping a run's processes in order."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from localaws.errors import LocalError
from localaws.supervisor import lifeline, preflight
from localaws.supervisor.processes import (
    COMPONENT_VAR,
    RUN_ID_VAR,
    ProcessRecord,
    alive,
    command_matches,
    lock_holder,
    members,
    port_holder,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_command_matches_the_forms_a_started_command_takes() -> None:
    argv = (".venv/bin/dagster-webserver", "--port", "3000")
    assert command_matches([".venv/bin/dagster-webserver", "--port", "3000"], argv)
    # a script started by its path shows its interpreter first
    assert command_matches(["/usr/bin/python3", ".venv/bin/dagster-webserver", "--port", "3000"], argv)
    assert not command_matches(["/usr/bin/python3", ".venv/bin/dagster-webserver", "--port", "3001"], argv)
    assert not command_matches(["/usr/bin/python3", "other", "--port", "3000"], argv)
    assert not command_matches(["--port", "3000"], argv)
    assert not command_matches([], argv)


def test_a_record_recognises_its_process_and_not_a_reused_pid(spawned: list[subprocess.Popen[bytes]]) -> None:
    spawned.append(subprocess.Popen(SLEEPER))
    pid = spawned[0].pid
    record = ProcessRecord.of(pid, SLEEPER)
    assert record is not None
    deadline = time.monotonic() + 10
    while not record.running() and time.monotonic() < deadline:
        time.sleep(0.01)  # until the child has exec'd the command recorded
    assert record.running()
    assert ProcessRecord.from_json(record.to_json()) == record
    # the same pid, started at another time or with another command line, is another process
    assert not ProcessRecord(pid, record.create_time - 100, record.argv).running()
    assert not ProcessRecord(pid, record.create_time, (sys.executable, "-m", "localaws.gateway.server")).running()
    spawned[0].kill()
    spawned[0].wait()
    assert not record.running()


def test_port_and_lock_holders_are_named(tmp_path: Path, spawned: list[subprocess.Popen[bytes]]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lock_file = tmp_path / "LOCK"
    lock_file.touch()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, socket, sys, time\n"
        f"s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen()\n"
        f"f = open({str(lock_file)!r}, 'r+'); fcntl.lockf(f, fcntl.LOCK_EX)\n"  # as LevelDB locks its LOCK file
        "print('ready', flush=True); time.sleep(600)")], stdout=subprocess.PIPE)
    spawned.append(holder)
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"ready"
    assert port_holder("127.0.0.1", port) == holder.pid
    assert lock_holder(lock_file) == holder.pid
    with pytest.raises(LocalError, match=rf"in use by pid {holder.pid} .*`kill {holder.pid}`"):
        preflight.check_port_free("127.0.0.1", port)
    with pytest.raises(LocalError, match=rf"locked by pid {holder.pid} .*`kill {holder.pid}`"):
        preflight.check_unlocked(lock_file, "the kinesis backend's data")
    holder.kill()
    holder.wait()
    assert lock_holder(lock_file) is None
    preflight.check_unlocked(lock_file, "the kinesis backend's data")
    with open(lock_file, "r+") as handle:  # free again for anyone
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _member(run_id: str, component: str, log: Path, ignore_term: bool = False) -> subprocess.Popen[bytes]:
    """A process of a run that notes the moment it is asked to stop (or ignores the request)."""
    handler = "signal.SIG_IGN" if ignore_term else (
        f"lambda *_: (open({str(log)!r}, 'a').write('{component}\\n'), sys.exit(0))")
    code = f"import signal, sys, time\nsignal.signal(signal.SIGTERM, {handler})\nprint('ready', flush=True)\n" \
           "time.sleep(600)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                               env={**os.environ, RUN_ID_VAR: run_id, COMPONENT_VAR: component})
    assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
    return process


def test_sweep_stops_a_runs_processes_clients_first_and_nothing_else(
        tmp_path: Path, spawned: list[subprocess.Popen[bytes]]) -> None:
    log = tmp_path / "order"
    run_id = f"test-{os.getpid()}-{time.time_ns()}"
    spawned += [_member(run_id, name, log) for name in ("kinesis", "gateway", "lambda")]
    stubborn = _member(run_id, "dagster", log, ignore_term=True)
    other_run = _member("another-run", "lambda", log)
    unmarked = subprocess.Popen(SLEEPER)
    spawned += [stubborn, other_run, unmarked]

    assert {m.pid for m in members(run_id)} == {p.pid for p in spawned[:3]} | {stubborn.pid}
    killed: list[str] = []
    stopped = lifeline.sweep(run_id, grace_s=1.0, log=killed.append)

    assert {m.pid for m in stopped} == {p.pid for p in spawned[:3]} | {stubborn.pid}
    assert log.read_text().split() == ["lambda", "gateway", "kinesis"]  # clients, endpoint servers, state
    assert killed == [f"dagster (pid {stubborn.pid}) did not stop within 1s: killed"]
    assert members(run_id) == []
    assert alive(other_run.pid) and alive(unmarked.pid)


def test_sweep_stops_a_recorded_process_without_the_runs_mark(spawned: list[subprocess.Popen[bytes]]) -> None:
    spawned.append(subprocess.Popen(SLEEPER))
    record = ProcessRecord.of(spawned[0].pid, SLEEPER)
    deadline = time.monotonic() + 10
    while record is not None and not record.running() and time.monotonic() < deadline:
        time.sleep(0.01)  # until the child has exec'd the command recorded
    assert record is not None
    stopped = lifeline.sweep("no-such-run", {"moto": record}, grace_s=1)
    assert [(m.pid, m.component) for m in stopped] == [(record.pid, "moto")]
    assert spawned[0].wait(5) is not None


def test_the_lifeline_sweeps_when_its_pipe_closes(tmp_path: Path, spawned: list[subprocess.Popen[bytes]]) -> None:
    run_id = f"test-{os.getpid()}-{time.time_ns()}"
    member = _member(run_id, "lambda", tmp_path / "order")
    spawned.append(member)
    read_fd, write_fd = os.pipe()
    guardian = subprocess.Popen([sys.executable, "-m", "localaws.supervisor.lifeline", "--run-id", run_id,
                                 "--run-file", str(tmp_path / "stack.json"), "--grace", "2"],
                                stdin=read_fd, stdout=subprocess.PIPE, text=True)
    os.close(read_fd)
    assert guardian.stdout is not None and "watching" in guardian.stdout.readline()
    assert alive(member.pid)  # nothing happens while the pipe is open
    os.close(write_fd)  # what the kernel does when the supervisor dies
    assert guardian.wait(15) == 0
    assert f"stopped 1 process (lambda {member.pid})" in guardian.stdout.read()
    assert member.wait(5) is not None
    assert not psutil.pid_exists(member.pid) or not alive(member.pid)
