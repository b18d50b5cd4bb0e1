"""Durable read positions of the local Firehose: per delivery stream and shard, the highest sequence
number up to which every record is in S3 (delivered, in an error object, or dropped by the
processor), and whether the shard is finished (closed by resharding and fully delivered)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from localaws.kinesis_consumer.checkpoints import CheckpointDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoint (
    stream TEXT NOT NULL,
    shard TEXT NOT NULL,
    sequence_number TEXT,
    finished INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream, shard)
)
"""


@dataclass(frozen=True)
class Checkpoint:
    stream: str
    shard: str
    sequence_number: str | None
    finished: bool


class CheckpointStore(CheckpointDatabase):
    owner_column = "stream"

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def load(self, stream: str, shard: str) -> Checkpoint:
        row = self._connection().execute(
            "SELECT sequence_number, finished FROM checkpoint WHERE stream = ? AND shard = ?", (stream, shard),
        ).fetchone()
        if row is None:
            return Checkpoint(stream, shard, None, False)
        return Checkpoint(stream, shard, row[0], bool(row[1]))

    def save(self, checkpoint: Checkpoint) -> None:
        self._connection().execute(
            "INSERT INTO checkpoint (stream, shard, sequence_number, finished) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (stream, shard) DO UPDATE SET sequence_number = excluded.sequence_number, "
            "finished = excluded.finished",
            (checkpoint.stream, checkpoint.shard, checkpoint.sequence_number, int(checkpoint.finished)),
        )

    def all(self) -> list[Checkpoint]:
        rows = self._connection().execute("SELECT stream, shard, sequence_number, finished FROM checkpoint")
        return [Checkpoint(r[0], r[1], r[2], bool(r[3])) for r in rows]
