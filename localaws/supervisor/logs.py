"""The platform's logs: one file per component under ``<data dir>/logs/``, size-bounded with rotation, each line
stamped with the time it was written and its level, so that `wildrydes local logs` can merge the components in
time order and filter by level.

A line in a file: ``2026-12-04T17:41:06.123Z WARNING what the component wrote`` (colour codes removed). The
level is the one the line names (Python's and Dagster's loggers, Node's console); a line that names none
continues the line before it (a traceback) and keeps its level.
"""

from __future__ import annotations

import heapq
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_ALIASES = {"WARN": "WARNING", "FATAL": "CRITICAL", "EXCEPTION": "ERROR"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# A level word early in the line: "INFO wildrydes…", "- WARNING -", "[ERROR]", "level=error"
_LEVEL = re.compile(r"(?:^|[\s\[|:=-])(DEBUG|INFO|WARNING|WARN|ERROR|EXCEPTION|CRITICAL|FATAL)(?=$|[\s\]|:-])",
                    re.IGNORECASE)
# Lines that name a warning level for what is a component's normal lifecycle: shown as INFO, so the terminal and
# the status do not report them as problems. Dagster's daemon reloads the code location every 60 s, waits for
# the new code server, then stops heartbeating the old one, which logs this as it exits (dagster PR 14649).
_EXPECTED = re.compile(r"dagster\.code_server - WARNING - No heartbeat received in \d+ seconds, shutting down")
_TRACEBACK = re.compile(r"^(Traceback |\s+File \"|\s{2,}\S|\w+(\.\w+)*(Error|Exception):)")
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 3
STAMP = "%Y-%m-%dT%H:%M:%S"


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def classify(text: str, previous: str = "INFO") -> tuple[str, bool]:
    """The level a line names, and whether it continues the line before (a traceback, which keeps the
    level of the line it continues, at least ERROR)."""
    match = _LEVEL.search(text[:160])
    if match and _EXPECTED.search(text):
        return "INFO", False
    if match:
        word = match.group(1).upper()
        return _ALIASES.get(word, word), False
    if _TRACEBACK.match(text):
        return (previous if LEVELS[previous] >= LEVELS["WARNING"] else "ERROR"), True
    return "INFO", False


def stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime(STAMP) + f".{int(moment * 1000) % 1000:03d}Z"


@dataclass(frozen=True)
class Entry:
    time: float
    component: str
    level: str
    text: str
    continued: bool = False  # a traceback's line after the first (not kept in the file)

    def line(self) -> str:
        return f"{stamp(self.time)} {self.level:<8}{self.text}"


def parse(component: str, line: str) -> Entry | None:
    """An entry from a line of a log file; None for a line not written by this module."""
    if len(line) < 26 or line[23] != "Z":
        return None
    try:
        moment = datetime.strptime(line[:19], STAMP).replace(tzinfo=UTC).timestamp() + int(line[20:23]) / 1000
    except ValueError:
        return None
    level, _, text = line[25:].partition(" ")
    level = level.strip()
    if level not in LEVELS:
        return None
    return Entry(moment, component, level, text.lstrip(" ").rstrip("\n"))


class RotatingLog:
    """``<name>.log``, moved to ``<name>.log.1`` … ``.N`` when it passes ``max_bytes`` (the oldest dropped)."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()
        self._file = path.open("ab")
        self._size = self._file.tell()

    def write(self, entry: Entry) -> None:
        data = (entry.line() + "\n").encode("utf-8", "replace")
        with self._lock:
            if self._size and self._size + len(data) > self.max_bytes:
                self._rotate()
            self._file.write(data)
            self._file.flush()
            self._size += len(data)

    def _rotate(self) -> None:
        self._file.close()
        for index in range(self.backups, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            newer = self.path.with_name(f"{self.path.name}.{index - 1}") if index > 1 else self.path
            if newer.exists():
                os.replace(newer, older)
        self._file = self.path.open("ab")
        self._size = 0

    def close(self) -> None:
        with self._lock:
            self._file.close()


def log_files(logs_dir: Path, component: str) -> list[Path]:
    """A component's files, oldest first."""
    current = logs_dir / f"{component}.log"
    rotated = sorted(logs_dir.glob(f"{component}.log.[0-9]*"), key=lambda p: -int(p.suffix[1:]))
    return [*rotated, *([current] if current.exists() else [])]


def components(logs_dir: Path) -> list[str]:
    return sorted({p.name.split(".log")[0] for p in logs_dir.glob("*.log*")})


def _entries(paths: Iterable[Path], component: str) -> Iterator[Entry]:
    last: Entry | None = None
    for path in paths:
        try:
            handle = path.open(encoding="utf-8", errors="replace")
        except OSError:
            continue
        with handle:
            for line in handle:
                entry = parse(component, line)
                if entry is None:  # written before this format: keep it, at the time of the line before
                    entry = Entry(last.time if last else 0.0, component, last.level if last else "INFO",
                                  line.rstrip("\n"))
                last = entry
                yield entry


def read(logs_dir: Path, names: Iterable[str] = (), since: float | None = None, until: float | None = None,
         min_level: str = "DEBUG") -> Iterator[Entry]:
    """Every entry of the named components (all when none), merged in time order."""
    wanted = list(names) or components(logs_dir)
    streams = [_entries(log_files(logs_dir, name), name) for name in wanted]
    floor = LEVELS[min_level]
    for entry in heapq.merge(*streams, key=lambda e: e.time):
        if until is not None and entry.time > until:
            continue
        if LEVELS[entry.level] >= floor and (since is None or entry.time >= since):
            yield entry


class Follower:
    """What the components write from now on: ``Follower(...)`` notes where each file ends and when, and
    ``entries()`` yields what comes after (a rotated file is read again from its beginning)."""

    def __init__(self, logs_dir: Path, names: Iterable[str] = (), min_level: str = "DEBUG") -> None:
        self.logs_dir = logs_dir
        self.names = list(names)
        self.floor = LEVELS[min_level]
        self.started = time.time()
        self.positions: dict[str, tuple[int, int]] = {}  # component -> (inode, offset)
        for name in self._names():
            path = logs_dir / f"{name}.log"
            if path.exists():
                info = path.stat()
                self.positions[name] = (info.st_ino, info.st_size)

    def _names(self) -> list[str]:
        return self.names or components(self.logs_dir)

    def poll(self) -> list[Entry]:
        """The complete lines written since the last call, in time order."""
        batch: list[Entry] = []
        for name in self._names():
            path = self.logs_dir / f"{name}.log"
            try:
                info = path.stat()
            except OSError:
                continue
            inode, offset = self.positions.get(name, (info.st_ino, 0))
            if inode != info.st_ino or info.st_size < offset:
                offset = 0  # rotated or truncated: the new file from its beginning
            if info.st_size > offset:
                with path.open("rb") as handle:
                    handle.seek(offset)
                    data = handle.read()
                complete = data[: data.rfind(b"\n") + 1]
                offset += len(complete)
                for raw in complete.decode("utf-8", "replace").splitlines():
                    entry = parse(name, raw)
                    if entry and LEVELS[entry.level] >= self.floor:
                        batch.append(entry)
            self.positions[name] = (info.st_ino, offset)
        return sorted(batch, key=lambda e: e.time)

    def entries(self, poll_s: float = 0.25, stop: threading.Event | None = None) -> Iterator[Entry]:
        while not (stop and stop.is_set()):
            yield from self.poll()
            time.sleep(poll_s)
