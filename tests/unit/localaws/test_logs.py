"""The platform's log files and what the terminal shows of them, on real files: levels, rotation, merging,
following, and the plain console's rules (warnings once, repeats counted, never DEBUG, no tracebacks)."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from localaws.settings import REPO_ROOT
from localaws.supervisor.console import PlainConsole, ProcessView, Snapshot, VerboseConsole
from localaws.supervisor.logs import Entry, Follower, RotatingLog, classify, log_files, parse, read

WILDRYDES = [sys.executable, "-m", "infra.cli"]


@pytest.mark.parametrize(("line", "level", "continued"), [
    ("2026-12-04 17:41:06,905 gateway WARNING cognito-identity backend answered 501 to /", "WARNING", False),
    ("2026-12-04 17:44:30 +0000 - dagster.daemon.SensorDaemon - INFO - Launching run", "INFO", False),
    ("2026-12-04 17:48:56 +0000 - dagster - ERROR - dbt_hourly - RUN_FAILURE - failed", "ERROR", False),
    ("2026-12-04 17:41:06,905 wildrydes.athena DEBUG planning", "DEBUG", False),
    ("kinesis backend ready on 127.0.0.1:4567", "INFO", False),
    ("level=warn msg=slow", "WARNING", False),
    ("Traceback (most recent call last):", "ERROR", True),
    ('  File "x.py", line 3, in <module>', "ERROR", True),
    ("ValueError: bad", "ERROR", True),
    ("an informational word: errors 0", "INFO", False),
    # the daemon's old code server exiting after a workspace reload: its normal lifecycle, not a problem
    ("2026-12-07 02:54:53 +0000 - dagster.code_server - WARNING - No heartbeat received in 20 seconds, shutting down",
     "INFO", False),
    ("2026-12-07 02:54:53 +0000 - dagster.code_server - WARNING - Something else went wrong", "WARNING", False),
])
def test_levels_are_read_from_the_line(line: str, level: str, continued: bool) -> None:
    assert classify(line, "ERROR" if continued else "INFO") == (level, continued)


def test_an_entry_survives_its_file_line() -> None:
    entry = Entry(1764870000.123, "lambda", "WARNING", "something odd: 3 records")
    assert parse("lambda", entry.line()) == entry
    assert parse("lambda", "not a line of ours") is None


def test_a_log_rotates_by_size_and_keeps_three_older_files(tmp_path: Path) -> None:
    log = RotatingLog(tmp_path / "lambda.log", max_bytes=1000, backups=3)
    for i in range(200):
        log.write(Entry(1764870000 + i, "lambda", "INFO", f"line {i:04d} " + "x" * 40))
    log.close()
    files = log_files(tmp_path, "lambda")
    assert [p.name for p in files] == ["lambda.log.3", "lambda.log.2", "lambda.log.1", "lambda.log"]
    assert all(p.stat().st_size <= 1000 for p in files)
    kept = [e.text.split()[1] for e in read(tmp_path, ["lambda"])]
    assert kept == sorted(kept) and kept[-1] == "0199" and len(kept) < 200  # the oldest were dropped


def test_logs_merge_in_time_order_and_filter(tmp_path: Path) -> None:
    a, b = RotatingLog(tmp_path / "a.log"), RotatingLog(tmp_path / "b.log")
    for i in range(6):
        (a if i % 2 else b).write(Entry(1000.0 + i, "a" if i % 2 else "b", "WARNING" if i == 3 else "INFO", str(i)))
    assert [e.text for e in read(tmp_path)] == ["0", "1", "2", "3", "4", "5"]
    assert [e.text for e in read(tmp_path, ["a"])] == ["1", "3", "5"]
    assert [e.text for e in read(tmp_path, since=1002.0)] == ["2", "3", "4", "5"]
    assert [(e.component, e.text) for e in read(tmp_path, min_level="WARNING")] == [("a", "3")]


def test_a_follower_sees_new_lines_and_a_rotated_file(tmp_path: Path) -> None:
    log = RotatingLog(tmp_path / "daemon.log", max_bytes=300)
    log.write(Entry(time.time(), "daemon", "INFO", "before"))
    follower = Follower(tmp_path, ["daemon"])
    assert follower.poll() == []
    texts = [f"after {i} " + "y" * 30 for i in range(12)]  # rotates on the way
    for text in texts:
        log.write(Entry(time.time(), "daemon", "INFO", text))
        assert [e.text for e in follower.poll()] == [text]


def test_the_logs_command_follows_one_component_and_filters_by_level(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    dagster, lam = RotatingLog(logs / "dagster.log"), RotatingLog(logs / "lambda.log")
    dagster.write(Entry(time.time(), "dagster", "INFO", "old line"))
    env = {**os.environ, "WILDRYDES_DATA_DIR": str(tmp_path)}
    warnings = subprocess.run([*WILDRYDES, "local", "logs", "--level", "warning"], capture_output=True, text=True,
                              env=env, cwd=REPO_ROOT, timeout=60)
    assert warnings.returncode == 0 and warnings.stdout == ""
    follow = subprocess.Popen([*WILDRYDES, "local", "logs", "-f", "dagster"], stdout=subprocess.PIPE, text=True,
                              env=env, cwd=REPO_ROOT)
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline().rstrip().endswith("INFO    old line")
        lam.write(Entry(time.time() + 1, "lambda", "WARNING", "not dagster's"))
        dagster.write(Entry(time.time() + 2, "dagster", "WARNING", "new line"))
        line = follow.stdout.readline()
        assert line.startswith("   dagster | ") and line.rstrip().endswith("WARNING new line")
    finally:
        follow.terminate()
        follow.wait(60)
    warnings = subprocess.run([*WILDRYDES, "local", "logs", "--level", "warning"], capture_output=True, text=True,
                              env=env, cwd=REPO_ROOT, timeout=60)
    assert [line.split(" | ")[0].strip() for line in warnings.stdout.splitlines()] == ["lambda", "dagster"]


def test_the_plain_console_shows_warnings_once_and_never_debug_or_tracebacks() -> None:
    out = io.StringIO()
    console = PlainConsole(out)
    now = time.time()
    for entry in [
        Entry(now, "lambda", "DEBUG", "noise"),
        Entry(now, "lambda", "INFO", "invoked"),
        Entry(now, "supervisor", "INFO", "deploying the stack"),
        Entry(now, "firehose", "WARNING", "S3 slow"),
        Entry(now + 1, "firehose", "WARNING", "S3 slow"),
        Entry(now + 2, "firehose", "WARNING", "S3 slow"),
        Entry(now + 3, "daemon", "ERROR", "run failed"),
        Entry(now + 3, "daemon", "ERROR", '  File "x.py", line 1', continued=True),
    ]:
        console.line(entry)
    console.line(Entry(now + 600, "firehose", "WARNING", "S3 slow"))  # after the repeat window
    assert out.getvalue().splitlines() == [
        "supervisor | deploying the stack",
        "  firehose | WARNING S3 slow",
        "    daemon | ERROR run failed",
        "  firehose | (the line below was repeated 2 more times)",
        "  firehose | WARNING S3 slow",
    ]
    status = console._snapshot(lambda: Snapshot(processes=[ProcessView("lambda", 1, "running", 0),
                                                           ProcessView("firehose", 2, "restarting", 1)]))
    assert status.problems == {"firehose": "warning: S3 slow", "daemon": "error: run failed"}
    assert status.summary().startswith("1/2 processes up | down: firehose")


def test_the_verbose_console_shows_every_line() -> None:
    out = io.StringIO()
    console = VerboseConsole(out)
    console.line(Entry(time.time(), "lambda", "DEBUG", "noise"))
    assert out.getvalue() == "    lambda | noise\n"


def test_the_status_line_comes_every_interval_until_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    import localaws.supervisor.console as console_module

    monkeypatch.setattr(console_module, "STATUS_EVERY_S", 0.05)
    out = io.StringIO()
    stop = threading.Event()
    thread = threading.Thread(target=PlainConsole(out).run,
                              args=(lambda: Snapshot(processes=[ProcessView("moto", 1, "running", 0)]), stop))
    thread.start()
    deadline = time.monotonic() + 10
    while out.getvalue().count("\n") < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(5)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3 and set(lines) == {"status | 1/1 processes up"}


def test_a_slow_status_snapshot_does_not_stretch_the_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    import localaws.supervisor.console as console_module

    monkeypatch.setattr(console_module, "STATUS_EVERY_S", 0.2)
    started: list[float] = []

    def slow_snapshot() -> Snapshot:
        started.append(time.monotonic())
        time.sleep(0.18)  # a status endpoint close to its timeout
        return Snapshot()

    stop = threading.Event()
    thread = threading.Thread(target=PlainConsole(io.StringIO()).run, args=(slow_snapshot, stop))
    thread.start()
    deadline = time.monotonic() + 20
    while len(started) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(5)
    gaps = sorted(later - earlier for earlier, later in itertools.pairwise(started))
    # Waiting a whole period after each snapshot would space them 0.38 s apart.
    assert len(gaps) >= 5 and gaps[len(gaps) // 2] < 0.29, gaps
