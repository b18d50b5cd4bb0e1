"""Durable state for moto's in-memory backends: snapshots plus a write-ahead journal.

moto keeps every service's state in Python objects and has no persistence. The moto host makes it
durable in two layers:

* a **journal**: every successful mutating request is appended (method, path, headers, body, and the
  state of moto's random generator before the request) before its response is released, so a
  kill -9 loses nothing that a client saw acknowledged. Replaying it through the same WSGI app with
  the same random state regenerates the same ids (event source mapping UUIDs, upload ids, ...).
* a **snapshot**: the backends of the persisted services pickled together, taken periodically, on
  shutdown, and on demand; a snapshot ends the journal it covers. S3 object bodies are not pickled
  into it: each body is written once to a content-addressed blob file and referenced by name.

Files in the state directory: ``snapshot-<gen>.pkl``, ``journal-<gen>.log`` (entries after that
snapshot), ``blobs/<etag>-<size>``.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import re
import struct
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moto.backends import get_backend
from moto.moto_api._internal import mock_random
from moto.s3.models import FakeKey

log = logging.getLogger("wildrydes.moto_state")

PERSISTED_SERVICES = (
    "s3", "glue", "iam", "sts", "cognito-identity", "lambda", "firehose", "athena", "sqs", "logs",
)
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
_FRAME = struct.Struct(">Q")


@dataclass(frozen=True)
class JournalEntry:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    random_state: object


class BlobStore:
    """Content-addressed files holding S3 object bodies referenced by snapshots."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._known = {p.name for p in root.iterdir() if not p.name.endswith(".tmp")}

    def put(self, name: str, read_body: Callable[[], bytes]) -> None:
        if name in self._known:
            return
        tmp = self.root / f"{name}.tmp"
        tmp.write_bytes(read_body())
        os.replace(tmp, self.root / name)
        self._known.add(name)

    def get(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def keep_only(self, names: set[str]) -> None:
        for name in self._known - names:
            (self.root / name).unlink(missing_ok=True)
        self._known &= names


def _blob_name(key: FakeKey) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "", f"{key.etag}-{key.size}")


def _restore_key(state: dict[str, Any], body: bytes) -> FakeKey:
    key = FakeKey.__new__(FakeKey)
    key.__setstate__({**state, "value": body})
    return key


def _restore_key_from_blob(state: dict[str, Any], blob: str) -> FakeKey:
    return _restore_key(state, _Unpickler.blobs.get(blob))


def _weak_value_dict(items: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    return weakref.WeakValueDictionary(items)


def _defaultdict(factory: Callable[[], Any], items: dict[Any, Any]) -> defaultdict[Any, Any]:
    return defaultdict(factory, items)


def _portable_factory(factory: Callable[[], Any]) -> Callable[[], Any]:
    """moto builds some defaultdicts with ``lambda: {}``; stand in the builtin it returns."""
    sample = factory()
    if type(sample) in (dict, list, set) and not sample:
        return type(sample)
    raise pickle.PicklingError(f"cannot persist a defaultdict whose factory returns {sample!r}")


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BufferedWriter, blobs: BlobStore) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.blobs = blobs
        self.referenced: set[str] = set()

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, FakeKey):
            state = {k: v for k, v in obj.__dict__.items() if k not in ("_value_buffer", "lock")}
            if obj._value_buffer.closed:  # deleted key still referenced by a version list
                return _restore_key, (state, b"")
            name = _blob_name(obj)
            self.blobs.put(name, lambda: obj.value)
            self.referenced.add(name)
            return _restore_key_from_blob, (state, name)
        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if "RLock" in type(obj).__name__ else threading.Lock), ()
        if isinstance(obj, weakref.WeakValueDictionary):
            return _weak_value_dict, (dict(obj),)
        if isinstance(obj, defaultdict) and getattr(obj.default_factory, "__name__", "") == "<lambda>":
            return _defaultdict, (_portable_factory(obj.default_factory), dict(obj))
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    blobs: BlobStore  # set for the duration of a load; referenced by _restore_key_from_blob


class DurableState:
    """Owns the state directory of the moto host: load at start, journal, snapshot."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(root / "blobs")
        self.lock = threading.RLock()  # held by every mutating request and by snapshots
        self.generation = 0
        self._journal: io.BufferedWriter | None = None
        self.journal_bytes = 0
        self.entries_since_snapshot = 0

    # ---- start-up -------------------------------------------------------------------------
    def load(self, replay: Callable[[JournalEntry], int]) -> tuple[int, int]:
        """Restore the newest snapshot and replay its journal; returns (generation, replayed)."""
        snapshots = sorted(self.root.glob("snapshot-*.pkl"), key=lambda p: int(p.stem.split("-")[1]))
        if snapshots:
            newest = snapshots[-1]
            self.generation = int(newest.stem.split("-")[1])
            _Unpickler.blobs = self.blobs
            with newest.open("rb") as f:
                backends: dict[str, Any] = _Unpickler(f).load()
            for name, loaded in backends.items():
                live = get_backend(name)  # type: ignore[call-overload]
                live.clear()
                live.update(loaded)
        replayed = 0
        journal = self._journal_path(self.generation)
        if journal.exists():
            for entry in self._read_journal(journal):
                status = replay(entry)
                replayed += 1
                if status >= 400:
                    log.warning("journal replay of %s %s answered %s", entry.method, entry.path, status)
        self._open_journal(truncate=False)
        self.entries_since_snapshot = replayed
        return self.generation, replayed

    def _journal_path(self, generation: int) -> Path:
        return self.root / f"journal-{generation}.log"

    @staticmethod
    def _read_journal(path: Path) -> Iterator[JournalEntry]:
        data = path.read_bytes()
        offset = 0
        while offset + _FRAME.size <= len(data):
            (length,) = _FRAME.unpack_from(data, offset)
            start = offset + _FRAME.size
            if start + length > len(data):
                break  # torn tail: the request was never acknowledged
            yield pickle.loads(data[start : start + length])
            offset = start + length
        if offset != len(data):
            with path.open("r+b") as f:
                f.truncate(offset)

    def _open_journal(self, truncate: bool) -> None:
        if self._journal:
            self._journal.close()
        path = self._journal_path(self.generation)
        self._journal = path.open("wb" if truncate else "ab")
        self.journal_bytes = path.stat().st_size

    # ---- while running --------------------------------------------------------------------
    def capture_random_state(self) -> object:
        return mock_random.getstate()

    def append(self, entry: JournalEntry) -> None:
        payload = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        assert self._journal is not None
        self._journal.write(_FRAME.pack(len(payload)) + payload)
        # Flushed to the OS before the response leaves: survives kill -9 of this process.
        self._journal.flush()
        self.journal_bytes += _FRAME.size + len(payload)
        self.entries_since_snapshot += 1

    def snapshot(self) -> float:
        """Write a new snapshot of every persisted backend; returns seconds taken."""
        started = time.monotonic()
        with self.lock:
            for attempt in range(3):
                try:
                    self._write_snapshot()
                    break
                except RuntimeError:  # a non-journaled request changed a dict mid-pickle
                    if attempt == 2:
                        raise
            previous = self.generation
            self.generation += 1
            self._open_journal(truncate=True)
            self._journal_path(previous).unlink(missing_ok=True)
            for old in self.root.glob("snapshot-*.pkl"):
                if int(old.stem.split("-")[1]) < self.generation:
                    old.unlink(missing_ok=True)
            self.entries_since_snapshot = 0
        return time.monotonic() - started

    def _write_snapshot(self) -> None:
        target = self.root / f"snapshot-{self.generation + 1}.pkl"
        tmp = target.with_suffix(".tmp")
        backends = {name: get_backend(name) for name in PERSISTED_SERVICES}  # type: ignore[call-overload]
        with tmp.open("wb") as f:
            pickler = _Pickler(f, self.blobs)
            pickler.dump(backends)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        self.blobs.keep_only(pickler.referenced)

    def close(self) -> None:
        if self._journal:
            self._journal.close()
            self._journal = None
