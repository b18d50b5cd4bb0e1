"""The lifeline: whatever way the supervisor of `wildrydes local up` dies, nothing it started outlives it.

The supervisor starts this process first, in a session of its own (so a kill of the terminal's process
group does not reach it), with the read end of a pipe as its standard input; only the supervisor holds the
write end. When the supervisor exits, however it exits (Ctrl-C, SIGKILL of the process group, the OOM
killer), the kernel closes the write end and the read here returns: every process carrying the run's id
(``processes.RUN_ID_VAR``) is then stopped, the clients first and the backends holding state last, each
with SIGTERM and, after a grace period, SIGKILL. That reaches the grandchildren too (Lambda workers,
Dagster code servers and run workers, dbt), which a parent-death signal would not.

On a clean stop the supervisor has stopped its components already and the sweep only finds what they left
(a Dagster run worker, say). ``python -m localaws.supervisor.lifeline --run-id ID --run-file F``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from localaws.supervisor.logs import Entry
from localaws.supervisor.processes import Member, ProcessRecord, members, stop_pids

# Stopped in this order: what uses the endpoint, then the endpoint's servers, then the backends with state.
SERVER_TIERS = {"gateway": 1, "athena": 1, "moto": 2, "kinesis": 2, "dynamodb": 2, "postgres": 2}
TIERS = (0, 1, 2)
GRACE_S = 5.0


def tier_of(component: str) -> int:
    return SERVER_TIERS.get(component, 0)


def sweep(run_id: str, recorded: Mapping[str, ProcessRecord] | None = None, grace_s: float = GRACE_S,
          log: Callable[[str], None] = lambda line: None) -> list[Member]:
    """Stop every live process of the run (and any recorded one still running); returns what was stopped.

    A tier is swept until it is empty, since a process being stopped may start another meanwhile (a Lambda
    runtime respawning its worker, a Dagster daemon launching a run)."""
    stopped: dict[int, Member] = {}
    for tier in TIERS:
        for _ in range(5):
            targets = [m for m in members(run_id) if tier_of(m.component) <= tier]
            targets += [Member(record.pid, name, " ".join(record.argv))
                        for name, record in (recorded or {}).items()
                        if tier_of(name) <= tier and record.pid not in {m.pid for m in targets} and record.running()]
            if not targets:
                break
            killed = set(stop_pids([m.pid for m in targets], grace_s))
            for member in targets:
                stopped.setdefault(member.pid, member)
                if member.pid in killed:
                    log(f"{member.component} (pid {member.pid}) did not stop within {grace_s:.0f}s: killed")
    return list(stopped.values())


def summary(stopped: list[Member]) -> str:
    names = ", ".join(f"{m.component} {m.pid}" for m in sorted(stopped, key=lambda m: (tier_of(m.component), m.pid)))
    return f"{len(stopped)} process{'es' if len(stopped) != 1 else ''} ({names})"


def recorded_processes(state: Mapping[str, object] | None) -> dict[str, ProcessRecord]:
    """The components a run file lists, as records to recognise them by."""
    components = (state or {}).get("components") or {}
    records: dict[str, ProcessRecord] = {}
    for name, entry in components.items():  # type: ignore[union-attr]
        record = ProcessRecord.from_json(entry)
        if record is not None:
            records[name] = record
    return records


def _mark_ended(run_file: Path, run_id: str, stopped: list[Member]) -> None:
    """Note in the run file that the run ended without its supervisor, unless a new run owns the file.

    The run's lock is free only when no supervisor is alive: a supervisor stopping cleanly still holds it
    (and removes the file itself), a new `local up` holds it and has its own file."""
    lock = run_file.parent / "lock"
    try:
        handle = lock.open("a+")
    except OSError:
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        try:
            state = json.loads(run_file.read_text())
        except (OSError, ValueError):
            return
        if state.get("run_id") != run_id:
            return
        state["ended"] = {"at": time.time(), "by": "lifeline", "stopped": [m.__dict__ for m in stopped]}
        tmp = run_file.with_suffix(".lifeline.tmp")
        tmp.write_text(json.dumps(state, indent=2))
        os.replace(tmp, run_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stop a local platform's processes when its supervisor exits.")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--run-file", type=Path, required=True)
    parser.add_argument("--grace", type=float, default=GRACE_S)
    args = parser.parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGHUP):  # a terminal's signals are the supervisor's to act on
        signal.signal(sig, signal.SIG_IGN)

    def log(line: str) -> None:
        print(Entry(time.time(), "lifeline", "INFO", line).line(), flush=True)

    supervisor = os.getppid()
    log(f"watching the supervisor (pid {supervisor}) of run {args.run_id}")
    with contextlib.suppress(OSError):
        while sys.stdin.buffer.read(4096):
            pass  # the supervisor writes nothing; the read returns b"" once its end is closed
    try:
        state = json.loads(args.run_file.read_text())
    except (OSError, ValueError):
        state = None
    recorded = recorded_processes(state) if state and state.get("run_id") == args.run_id else {}
    stopped = sweep(args.run_id, recorded, args.grace, log)
    if stopped:
        log(f"the supervisor (pid {supervisor}) is gone; stopped {summary(stopped)}")
        _mark_ended(args.run_file, args.run_id, stopped)
    else:
        log("the supervisor stopped everything it started")
    return 0


if __name__ == "__main__":
    sys.exit(main())
