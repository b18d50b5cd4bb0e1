"""The SQLite file of a consumer's checkpoints: one row per owner (a mapping, a delivery stream) and shard in a
table ``checkpoint``, whose other columns each consumer defines."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class CheckpointDatabase:
    """One connection per thread, each statement committed on its own (autocommit), WAL journal."""

    owner_column: str  # the column naming whose checkpoint a row is

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        db = self._connection()
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(schema)

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a process kill
            self._local.db = db
        return db

    def finished_shards(self, owner: str) -> set[str]:
        rows = self._connection().execute(
            f"SELECT shard FROM checkpoint WHERE {self.owner_column} = ? AND finished = 1", (owner,))
        return {row[0] for row in rows}
