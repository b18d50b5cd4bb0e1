"""Prepared queries' DuckDB connections kept between runs. A query run again over the same local copies of
its objects (the same view SQL) runs the relation it bound before, in the connection its views were
registered in, instead of registering the views and binding the query again: on a small machine that is
4-6 ms of each run of the Athena benchmark's aggregate (the engine log's ``register`` and ``bind`` phases).

A kept query serves one run at a time (taken out while it runs), and is kept again only after a run that
succeeded and whose assumptions held (runner.py); one made for another PreparedQuery (Glue changed since)
is closed, never used. DuckDB reads the files when the relation runs, so the objects' local copies are
pinned around each run as for any query (context.Connections.pinned_views).
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import duckdb

from localaws.athena import prepared, results

ENTRIES = 16

Views = tuple[tuple[str, str], ...]  # (view name, SQL) of each scan
Key = tuple[prepared.Key, Views]


@dataclass
class BoundQuery:
    """A query bound in a connection of its own, with its result's columns as Athena's text."""

    connection: duckdb.DuckDBPyConnection
    sql: str  # DuckDB's
    names: list[str]
    duck_types: list[str]
    projection: results.TextProjection
    projected: duckdb.DuckDBPyRelation  # the query through ``projection``; runs again on each read


@dataclass
class _Kept:
    made_for: prepared.PreparedQuery
    bound: BoundQuery


class KeptQueries:
    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self._kept: OrderedDict[Key, _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: Key, made_for: prepared.PreparedQuery) -> BoundQuery | None:
        """The query kept under ``key`` for ``made_for``, now the caller's alone; None if there is none."""
        with self._lock:
            kept = self._kept.pop(key, None)
        if kept is None:
            return None
        if kept.made_for is not made_for:
            _close(kept.bound)
            return None
        return kept.bound

    def keep(self, key: Key, made_for: prepared.PreparedQuery, bound: BoundQuery) -> None:
        """Keep ``bound`` (no longer used by the caller) for the next run; the least recently kept beyond
        ``entries``, or one already kept under ``key`` (two runs at once), is closed."""
        closing = []
        with self._lock:
            previous = self._kept.pop(key, None)
            if previous is not None:
                closing.append(previous.bound)
            self._kept[key] = _Kept(made_for, bound)
            while len(self._kept) > self.entries:
                closing.append(self._kept.popitem(last=False)[1].bound)
        for old in closing:
            _close(old)

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)

    def close(self) -> None:
        with self._lock:
            kept, self._kept = list(self._kept.values()), OrderedDict()
        for entry in kept:
            _close(entry.bound)


def _close(bound: BoundQuery) -> None:
    with contextlib.suppress(Exception):
        bound.connection.close()
