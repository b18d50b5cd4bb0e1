"""Queries as the engine last prepared them: the same query text (with the same ExecutionParameters, in the
same database) over the same Glue state resolves to the same tables and transpiles to the same DuckDB SQL,
so a query run again skips parsing, GetTable and sqlglot. Kept with Glue's mutation stamp of the reads it
was resolved from; a query using one assumes that stamp is still Glue's (freshness.py checks it while
the query runs).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from localaws.athena.transpile import Resolved

ENTRIES = 256

Key = tuple[str, tuple[str, ...], str]


@dataclass(frozen=True)
class PreparedQuery:
    stamp: str  # Glue's mutation stamp when the query's tables (and views) were read
    probe: tuple[str, str]  # (database, table): GetDatabase of that database reads Glue's stamp now
    statement_type: str
    substatement_type: str
    resolved: Resolved  # read-only once prepared: shared by the queries using it
    sql: str  # DuckDB's
    values: bool  # a bare VALUES query (its columns are _col0, _col1, ...)


def key(sql: str, parameters: list[str], database: str) -> Key:
    return sql, tuple(parameters), database


def glue_stamp(resolved: Resolved) -> str | None:
    """The one stamp every table and view of the query was read with; None if they differ, or one was read
    without (then the query is not kept)."""
    stamps = set(resolved.stamps)
    if len(stamps) != 1:
        return None
    return next(iter(stamps))


class PreparedQueries:
    def __init__(self, entries: int = ENTRIES) -> None:
        self.entries = entries
        self._queries: OrderedDict[Key, PreparedQuery] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, query: Key) -> PreparedQuery | None:
        with self._lock:
            prepared = self._queries.get(query)
            if prepared is not None:
                self._queries.move_to_end(query)
            return prepared

    def put(self, query: Key, prepared: PreparedQuery) -> None:
        with self._lock:
            self._queries[query] = prepared
            self._queries.move_to_end(query)
            while len(self._queries) > self.entries:
                self._queries.popitem(last=False)

    def drop(self, query: Key) -> None:
        with self._lock:
            self._queries.pop(query, None)
