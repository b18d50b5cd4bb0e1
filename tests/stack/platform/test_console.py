"""What a newcomer sees of `wildrydes local up`: from a checkout in a folder not named wildrydes, with stdout a
file, the banner comes first and the next minute is a handful of lines (no DEBUG, nothing repeated, no
warning nobody can act on); in a terminal, one panel redrawn in place; every component's log in its file,
rotated at the size given."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pyte
import pytest

from localaws.settings import REPO_ROOT
from localaws.supervisor.logs import components, log_files
from localaws.supervisor.preflight import free_port

OBSERVED_S = 60
LOG_LIMIT = 64 * 1024
ROWS, COLUMNS = 50, 160


def checkout_named(target: Path) -> Path:
    """The project's files (as git tracks them, with this working tree's content) in a folder of another name,
    sharing what `make install` built (the Node backends, the map)."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        source = REPO_ROOT / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for built in ("localaws/node/node_modules", "streaming/map/site"):  # what `make install` builds
        (target / built).symlink_to(REPO_ROOT / built)
    return target


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[Path]:
    yield checkout_named(tmp_path / "telemetry-platform")


def up(checkout: Path, data_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "infra.cli", "local", "up", "--data-dir", str(data_dir), "--port", str(free_port()),
            "--map-port", str(free_port()), "--dagster-port", str(free_port()), *extra]


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_newcomers_first_minute_in_a_log_file(elsewhere: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = tmp_path / "make-up.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "WILDRYDES_"))}
    with out.open("wb") as sink:
        process = subprocess.Popen(up(elsewhere, data, "--log-max-bytes", str(LOG_LIMIT)), cwd=elsewhere,
                                   stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                   start_new_session=True)
    follow = None
    try:
        deadline = time.monotonic() + 240
        while "platform is up" not in out.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, out.read_text()
            time.sleep(0.5)
        assert "platform is up" in out.read_text(), out.read_text()
        # Someone follows Dagster's logs while it starts.
        follow = subprocess.Popen([sys.executable, "-m", "infra.cli", "local", "logs", "-f", "dagster", "--data-dir",
                                   str(data)], cwd=elsewhere, stdout=subprocess.PIPE, text=True, env=env)
        up_at = time.monotonic()
        while time.monotonic() - up_at < OBSERVED_S:
            assert process.poll() is None, out.read_text()[-3000:]
            time.sleep(1)
        text = out.read_text()
    finally:
        stop(process)
        if follow is not None:
            follow.terminate()
    lines = text.splitlines()
    first_screen = lines[:25]
    assert "Wild Rydes local platform is up" in first_screen, first_screen
    banner_end = lines.index("Wild Rydes local platform is up") + 12
    others = [line for line in lines[:lines.index("Wild Rydes local platform is up")] + lines[banner_end:]
              if line.strip() and "platform is up" not in line]
    others = [line for line in others if "stopping" not in line and "stopped" not in line]
    assert len(others) <= 30, "\n".join(others)
    assert not [line for line in lines if "DEBUG" in line]
    assert not [line for line in lines if "WARNING" in line], text
    repeated = {line for line in others if others.count(line) > 1 and not line.startswith("status |")}
    assert not repeated, repeated
    assert sum(line.startswith("status | ") for line in others) >= OBSERVED_S // 10 - 1
    # The Dagster log followed from outside, and every log bounded by the size given.
    assert follow is not None and follow.stdout is not None
    followed = follow.stdout.read()
    assert followed and all(line.startswith("   dagster | ") for line in followed.splitlines()), followed[:500]
    logs = data / "logs"
    assert {"gateway", "lambda", "firehose", "dagster", "daemon", "supervisor"} <= set(components(logs))
    assert all(path.stat().st_size <= LOG_LIMIT for name in components(logs) for path in log_files(logs, name))


def test_in_a_terminal_one_panel_is_redrawn_in_place(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    process = subprocess.Popen(up(REPO_ROOT, tmp_path / "data", "--no-dagster", "--history-hours", "0"),
                               cwd=REPO_ROOT, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)
    written = b""

    def read_for(seconds: float) -> None:
        nonlocal written
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    return
                written += chunk
                stream.feed(chunk)

    try:
        deadline = time.monotonic() + 180
        while b"Wild Rydes local platform is up" not in written and time.monotonic() < deadline:
            assert process.poll() is None, written.decode(errors="replace")[-2000:]
            read_for(1)
        read_for(15)  # several redraws
    finally:
        stop(process)
        os.close(master)
    shown = "\n".join(screen.display)
    names = ("kinesis", "dynamodb", "moto", "gateway", "athena", "lambda", "firehose", "producer", "map")
    for name in names:
        rows = [row for row in screen.display if re.match(rf"│ {name} +\w+ +\d+ +\d+ ", row)]
        assert len(rows) == 1 and " running " in rows[0], shown  # once on the screen: redrawn, not scrolled
    assert shown.count("Wild Rydes local platform ─") == 1 and "wildrydes-aggregator: lag" in shown, shown
    # It was drawn many times over (the producer's count moves), each time over the last one.
    assert written.count(b"acked)") >= 5 and written.count(b"\x1b[2K") > 100
