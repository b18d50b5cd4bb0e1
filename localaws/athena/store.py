"""Durable query state: one SQLite database under ``<data dir>/athena/``.

Every query execution is a row, written when it is submitted and at every state change, so a
restarted engine still answers GetQueryExecution / GetQueryResults for old ids. Queries that were
queued or running when the engine died are marked FAILED (with a reason saying so) at start-up.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.athena.errors import AthenaQueryError

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"
FINAL_STATES = frozenset({SUCCEEDED, FAILED, CANCELLED})
HISTORY_DAYS = 45  # Athena keeps query history for 45 days

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queries (
    id TEXT PRIMARY KEY,
    token TEXT,
    query TEXT NOT NULL,
    workgroup TEXT NOT NULL,
    catalog TEXT,
    database TEXT,
    output_location TEXT,
    result_configuration TEXT,
    state TEXT NOT NULL,
    reason TEXT,
    athena_error TEXT,
    statement_type TEXT,
    substatement_type TEXT,
    submitted REAL NOT NULL,
    started REAL,
    completed REAL,
    scanned INTEGER,
    planning_ms INTEGER,
    engine_ms INTEGER,
    processing_ms INTEGER,
    update_count INTEGER,
    columns TEXT,
    result_rows INTEGER,
    header_row INTEGER,
    parameters TEXT,
    engine_version TEXT,
    manifest_location TEXT,
    reuse_configuration TEXT,
    reused INTEGER
);
CREATE INDEX IF NOT EXISTS queries_by_workgroup ON queries (workgroup, submitted);
CREATE INDEX IF NOT EXISTS queries_by_token ON queries (token);
"""
# columns added after the first release: a store written by an older engine gets them at start-up
_ADDED_COLUMNS = {"reuse_configuration": "TEXT", "reused": "INTEGER"}


@dataclass
class QueryRecord:
    id: str
    query: str
    workgroup: str
    state: str
    submitted: float
    token: str | None = None
    catalog: str | None = None
    database: str | None = None
    output_location: str | None = None
    result_configuration: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    athena_error: dict[str, Any] | None = None
    statement_type: str | None = None
    substatement_type: str | None = None
    started: float | None = None
    completed: float | None = None
    scanned: int | None = None
    planning_ms: int | None = None
    engine_ms: int | None = None
    processing_ms: int | None = None
    update_count: int | None = None
    columns: list[dict[str, Any]] | None = None
    result_rows: int | None = None
    header_row: bool = False
    parameters: list[str] | None = None
    engine_version: str = "Athena engine version 3"
    manifest_location: str | None = None
    reuse_configuration: dict[str, Any] | None = None  # the ResultReuseByAgeConfiguration asked for
    reused: bool = False  # the result is an earlier execution's (ResultReuseInformation)

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


_JSON_FIELDS = ("result_configuration", "athena_error", "columns", "parameters", "reuse_configuration")


def _to_row(record: QueryRecord) -> dict[str, Any]:
    row = dict(record.__dict__)
    for name in _JSON_FIELDS:
        row[name] = None if row[name] is None else json.dumps(row[name])
    row["header_row"] = int(record.header_row)
    row["reused"] = int(record.reused)
    return row


def _from_row(row: sqlite3.Row) -> QueryRecord:
    values = dict(row)
    for name in _JSON_FIELDS:
        values[name] = None if values[name] is None else json.loads(values[name])
    values["result_configuration"] = values["result_configuration"] or {}
    values["header_row"] = bool(values["header_row"])
    values["reused"] = bool(values["reused"])
    return QueryRecord(**values)


class QueryStore:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "queries.sqlite3"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        present = {row["name"] for row in self._db.execute("PRAGMA table_info(queries)")}
        for name, kind in _ADDED_COLUMNS.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE queries ADD COLUMN {name} {kind}")
        self._changed = threading.Condition()
        self._changes = 0

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- start-up ------------------------------------------------------------------------
    def fail_interrupted(self) -> list[str]:
        """Queries left QUEUED/RUNNING by a previous engine process cannot be resumed: fail them."""
        error = AthenaQueryError(
            "ENGINE_RESTARTED",
            "The local Athena engine stopped while this query was queued or running; run the query again",
        )
        now = time.time()
        with self._tx() as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM queries WHERE state IN (?, ?)", (QUEUED, RUNNING))]
            db.execute(
                "UPDATE queries SET state = ?, reason = ?, athena_error = ?, completed = ? WHERE state IN (?, ?)",
                (FAILED, error.reason, json.dumps(error.athena_error()), now, QUEUED, RUNNING),
            )
        return ids

    def prune(self, results_dir: Path, max_age_days: float = HISTORY_DAYS) -> int:
        cutoff = time.time() - max_age_days * 86400
        with self._tx() as db:
            ids = [r["id"] for r in db.execute("SELECT id FROM queries WHERE submitted < ?", (cutoff,))]
            db.execute("DELETE FROM queries WHERE submitted < ?", (cutoff,))
        for query_id in ids:
            (results_dir / f"{query_id}.arrow").unlink(missing_ok=True)
        return len(ids)

    # ---- writes --------------------------------------------------------------------------
    def insert(self, record: QueryRecord) -> None:
        row = _to_row(record)
        columns = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self._tx() as db:
            db.execute(f"INSERT INTO queries ({columns}) VALUES ({marks})", row)

    def update(self, query_id: str, only_if_state: tuple[str, ...] | None = None, **changes: Any) -> bool:
        """Apply changes; with ``only_if_state`` only while the query is in one of those states.
        Returns whether the row changed."""
        for name in _JSON_FIELDS:
            if name in changes and changes[name] is not None:
                changes[name] = json.dumps(changes[name])
        if "header_row" in changes:
            changes["header_row"] = int(changes["header_row"])
        sets = ", ".join(f"{k} = :{k}" for k in changes)
        sql = f"UPDATE queries SET {sets} WHERE id = :__id"
        params = {**changes, "__id": query_id}
        if only_if_state:
            marks = ", ".join(f":__s{i}" for i in range(len(only_if_state)))
            sql += f" AND state IN ({marks})"
            params.update({f"__s{i}": s for i, s in enumerate(only_if_state)})
        with self._tx() as db:
            changed = db.execute(sql, params).rowcount > 0
        if changed:
            with self._changed:
                self._changes += 1
                self._changed.notify_all()
        return changed

    def wait_final(self, query_id: str, timeout: float) -> QueryRecord | None:
        """The query's record once it is in a final state, or as it is after ``timeout`` seconds (for
        GetQueryExecution to answer as soon as a query finishes rather than at the client's next poll)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                seen = self._changes
            record = self.get(query_id)
            remaining = deadline - time.monotonic()
            if record is None or record.final or remaining <= 0:
                return record
            with self._changed:
                if self._changes == seen:
                    self._changed.wait(remaining)

    # ---- reads ---------------------------------------------------------------------------
    def get(self, query_id: str) -> QueryRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM queries WHERE id = ?", (query_id,)).fetchone()
        return _from_row(row) if row else None

    def by_token(self, token: str) -> QueryRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM queries WHERE token = ? ORDER BY submitted DESC LIMIT 1",
                                   (token,)).fetchone()
        return _from_row(row) if row else None

    def latest_success(self, query: str, workgroup: str, catalog: str, database: str, parameters: list[str] | None,
                       since: float) -> QueryRecord | None:
        """The newest SUCCEEDED execution of exactly this query text, in this workgroup, catalog and database,
        with the same execution parameters, completed at or after ``since`` (result reuse)."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM queries WHERE workgroup = ? AND query = ? AND state = ? AND catalog = ? "
                "AND database = ? AND parameters IS ? AND completed >= ? ORDER BY completed DESC LIMIT 1",
                (workgroup, query, SUCCEEDED, catalog, database,
                 None if parameters is None else json.dumps(parameters), since),
            ).fetchone()
        return _from_row(row) if row else None

    def list_ids(self, workgroup: str, limit: int, offset: int) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM queries WHERE workgroup = ? ORDER BY submitted DESC, id LIMIT ? OFFSET ?",
                (workgroup, limit, offset),
            ).fetchall()
        return [r["id"] for r in rows]
