"""Checks before the local stack starts, each failing with one actionable line."""

from __future__ import annotations

import errno
import os
import random
import shutil
import socket
import subprocess
from collections.abc import Collection
from pathlib import Path

from localaws.errors import LocalError
from localaws.settings import REPO_ROOT
from localaws.supervisor.processes import describe, lock_holder, platform_data_dir, port_holder

MIN_NODE_MAJOR = 20
NODE_MODULES = REPO_ROOT / "localaws" / "node" / "node_modules"


def check_node() -> str:
    node = shutil.which("node")
    if node is None:
        raise LocalError(
            f"Node.js {MIN_NODE_MAJOR}+ is required for the Kinesis and DynamoDB backends and was not "
            "found on PATH: install it (e.g. `apt-get install nodejs`) and run `make up` again"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    try:
        major = int(version.lstrip("v").split(".")[0])
    except ValueError:
        major = 0
    if major < MIN_NODE_MAJOR:
        raise LocalError(
            f"Node.js {MIN_NODE_MAJOR}+ is required, found {version or 'an unknown version'} at {node}: "
            "upgrade Node.js and run `make up` again"
        )
    for package in ("kinesalite", "dynalite"):
        if not (NODE_MODULES / package).is_dir():
            raise LocalError(
                f"the node package {package} is not installed: run `make install` "
                "(or `npm ci --prefix localaws/node`)"
            )
    return node


def check_data_dir(data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise LocalError(
            f"the data directory {data_dir} is not writable ({error.strerror}): fix its permissions or "
            "choose another with --data-dir / WILDRYDES_DATA_DIR"
        ) from None
    if not os.access(data_dir, os.W_OK):
        raise LocalError(f"the data directory {data_dir} is not writable: fix its permissions")


def check_port_free(host: str, port: int, option: str = "--port") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the server will: connections of a previous run in TIME_WAIT do not make the port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(1)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                holder = port_holder(host, port)
                if holder is None:
                    raise LocalError(
                        f"port {port} on {host} is already in use (another `wildrydes local up`?): stop it "
                        f"with `wildrydes local down` or choose another port with {option}"
                    ) from None
                raise LocalError(f"port {port} on {host} is already in use by {_stop_hint(holder)} or choose "
                                     f"another port with {option}") from None
            raise LocalError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def check_unlocked(lock_file: Path, what: str) -> None:
    """A LevelDB store is opened by one process at a time: name the one that holds it, not a Node stack trace."""
    holder = lock_holder(lock_file)
    if holder is not None and holder != os.getpid():
        raise LocalError(
            f"{what} ({lock_file.parent}) is locked by {_stop_hint(holder)} and run `wildrydes local up` again"
        )


def _stop_hint(pid: int) -> str:
    """Who holds a resource and the command that frees it: `local down` for another local platform."""
    data_dir = platform_data_dir(pid)
    if data_dir:
        return (f"{describe(pid)} of the local platform in {data_dir}: stop it with "
                f"`wildrydes local down --data-dir {data_dir}`")
    return f"{describe(pid)}: stop it with `kill {pid}`"


_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; macOS starts at 49152, so this stays below both


def free_port(host: str = "127.0.0.1", avoid: Collection[int] = ()) -> int:
    """A port nothing listens on, for a server started a little later.

    Chosen below the ephemeral range: a port the kernel hands out for bind(0) is also the source port of
    some outgoing connection sooner or later, and such a connection (or its TIME_WAIT) makes the later
    listen fail with "address in use". Never the same port twice in one process, nor one in `avoid`
    (ports the caller will hand to other servers).
    """
    low = _ephemeral_low()
    candidates = list(range(max(1024, low - 12000), low))
    random.shuffle(candidates)
    for port in candidates:
        if port in _handed_out or port in avoid:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise LocalError(f"no free port on {host} below {low}: too many servers running?")
