"""Bad input and failure: one actionable line on stderr, a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from localaws.settings import REPO_ROOT
from localaws.supervisor.preflight import free_port

WILDRYDES = [sys.executable, "-m", "infra.cli"]


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WILDRYDES, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("wildrydes: error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run("local", "up", "--no-deploy", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    assert_one_line_error(result, f"port {port}", "in use", "--port")


def test_map_port_in_use_fails_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        map_port = busy.getsockname()[1]
        result = run("local", "up", "--port", str(free_port()), "--map-port", str(map_port), "--no-dagster",
                     "--data-dir", str(tmp_path / "d"))
    assert_one_line_error(result, f"port {map_port}", "in use", "--map-port")
    assert not (tmp_path / "d" / "logs").exists()  # failed before the supervisor launched anything


def test_free_ports_stay_out_of_the_ephemeral_range() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    avoid = set(range(low - 12000, low - 6000))
    ports = [free_port(avoid=avoid) for _ in range(40)]
    assert len(set(ports)) == len(ports)
    assert all(low - 6000 <= port < low for port in ports)
    for port in ports:  # each is really free
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def _fake_node(directory: Path, version: str) -> Path:
    directory.mkdir()
    node = directory / "node"
    node.write_text(f"#!/bin/sh\necho {version}\n")
    node.chmod(node.stat().st_mode | stat.S_IEXEC)
    return directory


def test_node_missing(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run("local", "up", "--no-deploy", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"),
                 env={"PATH": str(empty)})
    assert_one_line_error(result, "Node.js 20+", "not found")


def test_node_too_old(tmp_path: Path) -> None:
    fake = _fake_node(tmp_path / "bin", "v18.19.0")
    result = run("local", "up", "--no-deploy", "--port", str(free_port()), "--data-dir", str(tmp_path / "d"),
                 env={"PATH": f"{fake}:/usr/bin:/bin"})
    assert_one_line_error(result, "Node.js 20+", "v18.19.0")


def test_data_dir_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")  # root ignores permission bits, so make the path impossible
    result = run("local", "up", "--no-deploy", "--port", str(free_port()), "--data-dir", str(blocker / "data"))
    assert_one_line_error(result, "not writable", str(blocker / "data"))


def test_status_when_endpoint_not_running(tmp_path: Path) -> None:
    result = run("local", "status", "--data-dir", str(tmp_path / "nothing-here"))
    assert_one_line_error(result, "not running", "wildrydes local up")


def test_reset_asks_and_refuses_without_a_terminal(tmp_path: Path) -> None:
    data = tmp_path / "d"
    (data / "kinesis").mkdir(parents=True)
    result = run("local", "reset", "--data-dir", str(data))
    assert_one_line_error(result, "--yes")
    assert data.exists()
    result = run("local", "reset", "--yes", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert not data.exists()


@pytest.mark.parametrize("command", [[], ["local"], ["local", "up"], ["local", "down"], ["local", "status"],
                                     ["local", "reset"], ["deploy"], ["produce"],
                                     ["aggregates"], ["backfill-history"], ["map"], ["query"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: wildrydes" in result.stdout


def test_a_command_without_a_region_says_how_to_reach_the_local_platform(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_CONFIG_FILE=str(tmp_path / "none"))  # no profile region either
    result = subprocess.run([*WILDRYDES, "aggregates", "--unicorn", "Shadowfax"], capture_output=True, text=True,
                            timeout=60, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL)
    assert_one_line_error(result, "no AWS region", "export AWS_ENDPOINT_URL=http://127.0.0.1:4566",
                          "AWS_DEFAULT_REGION=")
