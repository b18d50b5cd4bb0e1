"""Durable checkpoints of the Lambda runtime: per mapping and shard, the position and the window
state, written together in one SQLite transaction so a killed runtime resumes consistently."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.kinesis_consumer.checkpoints import CheckpointDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoint (
    mapping TEXT NOT NULL,
    shard TEXT NOT NULL,
    sequence_number TEXT,
    finished INTEGER NOT NULL DEFAULT 0,
    window_start REAL,
    window_state TEXT,
    first_seen REAL NOT NULL,
    PRIMARY KEY (mapping, shard)
)
"""


@dataclass
class Checkpoint:
    mapping: str
    shard: str
    first_seen: float
    sequence_number: str | None = None
    finished: bool = False
    window_start: float | None = None
    window_state: dict[str, Any] = field(default_factory=dict)


class CheckpointStore(CheckpointDatabase):
    owner_column = "mapping"

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def load(self, mapping: str, shard: str, now: float) -> Checkpoint:
        db = self._connection()
        db.execute("INSERT OR IGNORE INTO checkpoint (mapping, shard, first_seen) VALUES (?, ?, ?)",
                   (mapping, shard, now))
        row = db.execute(
            "SELECT sequence_number, finished, window_start, window_state, first_seen FROM checkpoint "
            "WHERE mapping = ? AND shard = ?", (mapping, shard),
        ).fetchone()
        return Checkpoint(mapping, shard, first_seen=row[4], sequence_number=row[0], finished=bool(row[1]),
                          window_start=row[2], window_state=json.loads(row[3]) if row[3] else {})

    def save(self, checkpoint: Checkpoint) -> None:
        self._connection().execute(
            "UPDATE checkpoint SET sequence_number = ?, finished = ?, window_start = ?, window_state = ? "
            "WHERE mapping = ? AND shard = ?",
            (checkpoint.sequence_number, int(checkpoint.finished), checkpoint.window_start,
             json.dumps(checkpoint.window_state) if checkpoint.window_start is not None else None,
             checkpoint.mapping, checkpoint.shard),
        )

    def all(self) -> list[Checkpoint]:
        rows = self._connection().execute(
            "SELECT mapping, shard, first_seen, sequence_number, finished, window_start, window_state "
            "FROM checkpoint")
        return [Checkpoint(r[0], r[1], r[2], r[3], bool(r[4]), r[5], json.loads(r[6]) if r[6] else {})
                for r in rows]
