"""The local endpoint's Node backends (localaws/node/backend.js: kinesalite, dynalite) run as the supervisor
runs them, for the tests of the project's patches to them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from localaws.settings import REPO_ROOT

BACKEND = REPO_ROOT / "localaws" / "node" / "backend.js"


def node() -> str:
    found = shutil.which("node")
    assert found, "node is needed (make install)"
    return found


def start(service: str, path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    """A backend on a free loopback port, once it says it is ready; its process and port."""
    process = subprocess.Popen(
        [node(), str(BACKEND), "--service", service, "--port", "0", "--path", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={"PATH": "/usr/bin:/bin", **env})
    assert process.stdout is not None
    ready = process.stdout.readline()
    port = re.search(r"ready on 127\.0\.0\.1:(\d+)", ready)
    if port is None:
        process.kill()
        process.wait(30)
    assert port, ready
    return process, int(port.group(1))


def assert_refused_with(service: str, env: dict[str, str], message: str) -> None:
    """The backend refuses to start with ``env``: exit code 2 and ``message`` on one line, no stack trace."""
    result = subprocess.run(
        [node(), str(BACKEND), "--service", service, "--port", "0", "--path", "/nonexistent-never-created"],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", **env})
    assert result.returncode == 2
    assert message in result.stderr
    assert "    at " not in result.stderr
