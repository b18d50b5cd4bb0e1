"""The platform's processes as the operating system sees them: who they are, whether one is still the
process a pid file names, and how to stop a set of them.

Every process `wildrydes local up` starts carries two environment variables, inherited by whatever it
starts in turn (Lambda workers, Dagster code servers and run workers, dbt): ``WILDRYDES_RUN_ID``, unique to
one `local up`, and ``WILDRYDES_COMPONENT``, the name of the component it belongs to. A process is the
platform's only if it carries the run's id, so a pid that the system has since given to an unrelated
process is never touched; a pid file entry is checked the same way, by its start time and command line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

RUN_ID_VAR = "WILDRYDES_RUN_ID"
COMPONENT_VAR = "WILDRYDES_COMPONENT"
DATA_DIR_VAR = "WILDRYDES_DATA_DIR"


@dataclass(frozen=True)
class ProcessRecord:
    """What a pid file says of one process: enough to recognise it later, and never mistake another for it."""

    pid: int
    create_time: float
    argv: tuple[str, ...]

    @classmethod
    def of(cls, pid: int, argv: Iterable[str]) -> ProcessRecord | None:
        try:
            return cls(pid, psutil.Process(pid).create_time(), tuple(argv))
        except psutil.Error:
            return None

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "create_time": self.create_time, "argv": list(self.argv)}

    @classmethod
    def from_json(cls, payload: dict[str, Any] | None) -> ProcessRecord | None:
        try:
            return cls(int(payload["pid"]), float(payload["create_time"]), tuple(payload["argv"]))  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            return None

    def running(self) -> bool:
        """The recorded process is alive: same pid, same start time, same command line, and not a zombie."""
        try:
            process = psutil.Process(self.pid)
            if abs(process.create_time() - self.create_time) > 0.05:
                return False
            if process.status() == psutil.STATUS_ZOMBIE:
                return False
            return command_matches(process.cmdline(), self.argv)
        except psutil.Error:
            return False


def command_matches(cmdline: list[str], argv: tuple[str, ...]) -> bool:
    """Whether a process's command line is the one it was started with.

    A script started by its path shows its interpreter first (``python …/dagster-webserver …``) and a
    program started through ``nice`` shows itself, so the recorded arguments after the program must end
    the command line and the program's name must appear in it.
    """
    if not argv or len(cmdline) < len(argv):
        return False
    program = os.path.basename(argv[0])
    tail = list(argv[1:])
    return (not tail or cmdline[len(cmdline) - len(tail):] == tail) and any(
        os.path.basename(part) == program for part in cmdline[: len(cmdline) - len(tail)])


@dataclass(frozen=True)
class Member:
    """A live process of one run of the platform."""

    pid: int
    component: str
    cmdline: str


def members(run_id: str) -> list[Member]:
    """Every live process that carries this run's id, whatever started it and whoever its parent is now."""
    found: list[Member] = []
    me = os.getpid()
    for process in psutil.process_iter(["pid"]):
        if process.pid == me:
            continue
        try:
            environ = process.environ()
            if environ.get(RUN_ID_VAR) != run_id or process.status() == psutil.STATUS_ZOMBIE:
                continue
            found.append(Member(process.pid, environ.get(COMPONENT_VAR, "?"), " ".join(process.cmdline())))
        except psutil.Error:
            continue  # gone meanwhile, or another user's
    return found


def platform_data_dir(pid: int) -> str | None:
    """The data directory of the local platform a process belongs to, if it belongs to one."""
    try:
        environ = psutil.Process(pid).environ()
    except psutil.Error:
        return None
    return environ.get(DATA_DIR_VAR) if environ.get(RUN_ID_VAR) else None


def alive(pid: int) -> bool:
    """The pid is a process that has not exited (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop_pids(pids: Iterable[int], grace_s: float) -> list[int]:
    """SIGTERM, then SIGKILL what is still there after ``grace_s``; returns the pids that needed SIGKILL."""
    pids = [pid for pid in pids if alive(pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    wait_gone(pids, grace_s)
    killed = [pid for pid in pids if alive(pid)]
    for pid in killed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    wait_gone(killed, 5.0)
    return killed


def wait_gone(pids: Iterable[int], timeout: float) -> bool:
    pids = list(pids)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def describe(pid: int) -> str:
    """``pid 123 (node …/node_backend.js --service kinesis …)``, shortened for one line."""
    try:
        command = " ".join(" ".join(psutil.Process(pid).cmdline()).split()) or "?"  # one line
    except psutil.Error:
        command = "?"
    if len(command) > 90:
        command = command[:87] + "..."
    return f"pid {pid} ({command})"


def port_holder(host: str, port: int) -> int | None:
    """The pid of the process listening on host:port, when this user may see it."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return None
    for connection in connections:
        if (connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port
                and connection.laddr.ip in (host, "0.0.0.0", "::") and connection.pid):
            return connection.pid
    return None


def lock_holder(path: Path) -> int | None:
    """The pid holding a POSIX or flock lock on ``path`` (as LevelDB holds its LOCK file), from /proc/locks."""
    try:
        stat = path.stat()
        table = Path("/proc/locks").read_text()
    except OSError:
        return None
    wanted = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        # "1: POSIX  ADVISORY  WRITE 4242 08:01:1234 0 EOF" (a "->" marks a waiter, not a holder)
        if len(fields) >= 6 and fields[1] != "->" and fields[5] == wanted:
            with contextlib.suppress(ValueError):
                return int(fields[4])
    return None
