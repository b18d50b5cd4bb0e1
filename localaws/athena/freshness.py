"""What a query planned from what the engine kept assumes: Glue's and the buckets' mutation stamps (see
catalog.mutation_stamp) as they were when the engine read the tables and listings it reuses.

Each assumption is checked by a read made after the query started (so it sees every change made before
StartQueryExecution), in the background while the query runs; ``hold`` waits for the checks. When one
fails, the query's result is discarded and the query planned again from fresh reads (runner.py).

A check reads the moto host's counts from shared memory when the engine maps them (``local``,
localaws.moto.counters) and they carry the boot id the assumed stamp was read under; otherwise (no file;
moto restarted since) it asks the endpoint.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

Submit = Callable[[Callable[[], str | None]], "Future[str | None]"]
LocalRead = Callable[[str], str | None]


def _boot(stamp: str | None) -> str | None:
    return stamp.split(":", 1)[0] if stamp else None


class Assumptions:
    def __init__(self, submit: Submit, glue_read: Callable[[], str | None],
                 bucket_read: Callable[[str], str | None], local: LocalRead | None = None) -> None:
        self._submit = submit
        self._local = local
        self._glue_read = glue_read
        self._bucket_read = bucket_read
        self._stamps: dict[str, str | None] = {}  # scope -> assumed stamp (None: two different ones assumed)
        self._reads: dict[str, Callable[[], str | None]] = {}
        self._checks: dict[str, Future[str | None]] = {}
        self._started = False
        self._lock = threading.Lock()

    def glue(self, stamp: str) -> None:
        """The query's tables (and partitions) are Glue's as of ``stamp``."""
        self._assume("glue", stamp, self._glue_read)

    def bucket(self, bucket: str, stamp: str) -> None:
        """A listing of ``bucket`` the query reads is the bucket's as of ``stamp``."""
        self._assume(f"s3:{bucket}", stamp, lambda: self._bucket_read(bucket))

    def _assume(self, scope: str, stamp: str, read: Callable[[], str | None]) -> None:
        with self._lock:
            if scope in self._stamps:
                if self._stamps[scope] != stamp:  # two states of one scope cannot both be current
                    self._stamps[scope] = None
                return
            self._stamps[scope] = stamp
            self._reads[scope] = read
            if self._started:
                self._checks[scope] = self._check(scope, stamp, read)

    def start(self) -> None:
        """Start the checks (the engine starts them when the query leaves Python for DuckDB: a boto3 call
        in another thread would hold the GIL the query's own Python work is waiting for)."""
        with self._lock:
            self._started = True
            for scope, read in self._reads.items():
                if scope not in self._checks:
                    self._checks[scope] = self._check(scope, self._stamps[scope], read)

    def _check(self, scope: str, stamp: str | None, read: Callable[[], str | None]) -> Future[str | None]:
        observed = self._local(scope) if self._local is not None and stamp is not None else None
        if observed is not None and _boot(observed) == _boot(stamp):
            done: Future[str | None] = Future()
            done.set_result(observed)
            return done
        return self._submit(read)

    @property
    def scopes(self) -> list[str]:
        with self._lock:
            return list(self._stamps)

    def hold(self) -> bool:
        """Whether every assumption is still true (waits for the checks; a failed check is a change)."""
        self.start()
        with self._lock:
            checks = [(self._stamps[scope], future) for scope, future in self._checks.items()]
        held = True
        for stamp, future in checks:
            try:
                observed = future.result()
            except Exception:
                observed = None
            held = held and stamp is not None and observed == stamp
        return held
