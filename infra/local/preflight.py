"""Checks before the local stack starts, each failing with one actionable line."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
from pathlib import Path

from infra.config import REPO_ROOT
from infra.errors import WildrydesError

MIN_NODE_MAJOR = 20
NODE_MODULES = REPO_ROOT / "infra" / "node_modules"


def check_node() -> str:
    node = shutil.which("node")
    if node is None:
        raise WildrydesError(
            f"Node.js {MIN_NODE_MAJOR}+ is required for the Kinesis and DynamoDB backends and was not "
            "found on PATH: install it (e.g. `apt-get install nodejs`) and run `make up` again"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    try:
        major = int(version.lstrip("v").split(".")[0])
    except ValueError:
        major = 0
    if major < MIN_NODE_MAJOR:
        raise WildrydesError(
            f"Node.js {MIN_NODE_MAJOR}+ is required, found {version or 'an unknown version'} at {node}: "
            "upgrade Node.js and run `make up` again"
        )
    for package in ("kinesalite", "dynalite"):
        if not (NODE_MODULES / package).is_dir():
            raise WildrydesError(
                f"the node package {package} is not installed: run `make install` "
                "(or `npm ci --prefix infra`)"
            )
    return node


def check_data_dir(data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise WildrydesError(
            f"the data directory {data_dir} is not writable ({error.strerror}): fix its permissions or "
            "choose another with --data-dir / WILDRYDES_DATA_DIR"
        ) from None
    if not os.access(data_dir, os.W_OK):
        raise WildrydesError(f"the data directory {data_dir} is not writable: fix its permissions")


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the server will: connections of a previous run in TIME_WAIT do not make the port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise WildrydesError(
                    f"port {port} on {host} is already in use (another `wildrydes local up`?): stop it "
                    "with `wildrydes local down` or choose another port with --port"
                ) from None
            raise WildrydesError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
