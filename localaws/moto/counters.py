"""moto's mutation counts in shared memory: the moto host counts mutations per scope (Glue; each S3 bucket;
S3 as a whole) in a small file of its state directory that it maps into memory, and stamps every Glue or
S3 read with the counts of its scopes (host.MutationCounts). A process on the same machine that maps the
same file, the Athena engine, reads the current counts without a request: checking that what it read
before is still current costs microseconds, not two round trips through the endpoint that take CPU
from the query it runs beside.

Scopes share the file's slots by hash: two scopes in one slot count each other's mutations, which can
only make a reader see a change that did not happen (then it reads again), never miss one.

This module imports nothing of moto, so the engine can use it.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
import uuid
import zlib
from collections.abc import Iterable
from pathlib import Path

FILE_NAME = "mutations"
MAGIC = b"WRMUTC01"
SLOTS = 4096
_HEADER = struct.Struct("<8s12s")  # magic, the moto host's boot id (12 hex digits)
_COUNT = struct.Struct("<Q")
_COUNTS_AT = 32
SIZE = _COUNTS_AT + _COUNT.size * SLOTS


def slot(scope: str) -> int:
    return zlib.crc32(scope.encode()) % SLOTS


def read_scopes(scope: str) -> tuple[str, ...]:
    """The scopes whose counts stamp a read of ``scope`` made with the bucket in the path, as the engine
    makes them: a bucket's reads carry S3's count too (a request naming no bucket in its path counts
    there, see host.MutationCounts.scopes)."""
    return ("s3", scope) if scope.startswith("s3:") else (scope,)


def _stamp(boot: str, view: mmap.mmap, scopes: Iterable[str]) -> str:
    counts = (_COUNT.unpack_from(view, _COUNTS_AT + _COUNT.size * slot(scope))[0] for scope in scopes)
    return ":".join([boot, *map(str, counts)])


class Counters:
    """The moto host's side: a fresh boot id and zero counts on every start (in the file at ``path``, or
    in private memory when there is none)."""

    def __init__(self, path: Path | None = None) -> None:
        self.boot = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        if path is None:
            self._view = mmap.mmap(-1, SIZE)
        else:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                os.ftruncate(fd, SIZE)
                self._view = mmap.mmap(fd, SIZE)
            finally:
                os.close(fd)
        # A reader that maps the file meanwhile sees no magic (so asks moto) until the counts are zero.
        self._view[:_HEADER.size] = bytes(_HEADER.size)
        self._view[_COUNTS_AT:] = bytes(SIZE - _COUNTS_AT)
        self._view[:_HEADER.size] = _HEADER.pack(MAGIC, self.boot.encode())

    def stamp(self, scopes: Iterable[str]) -> str:
        with self._lock:
            return _stamp(self.boot, self._view, scopes)

    def bump(self, scope: str) -> None:
        offset = _COUNTS_AT + _COUNT.size * slot(scope)
        with self._lock:
            _COUNT.pack_into(self._view, offset, _COUNT.unpack_from(self._view, offset)[0] + 1)


class CountersView:
    """A reader's side: the counts in the file at ``path`` now, as a stamp in the format of the one a read
    of the scope carried; None while there is no valid file (then the reader asks moto)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._view: mmap.mmap | None = None
        self._lock = threading.Lock()

    def _mapped(self) -> mmap.mmap | None:
        with self._lock:
            if self._view is None:
                try:
                    fd = os.open(self.path, os.O_RDONLY)
                except OSError:
                    return None
                try:
                    if os.fstat(fd).st_size < SIZE:
                        return None
                    self._view = mmap.mmap(fd, SIZE, access=mmap.ACCESS_READ)
                finally:
                    os.close(fd)
            return self._view

    def stamp(self, scope: str) -> str | None:
        view = self._mapped()
        if view is None:
            return None
        magic, boot = _HEADER.unpack_from(view, 0)
        if magic != MAGIC:
            return None
        return _stamp(boot.decode("ascii", "replace"), view, read_scopes(scope))
