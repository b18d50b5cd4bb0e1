"""Reads one Kinesis shard page by page with GetRecords: an iterator taken from the position (after the last
record read, else where the consumer starts) and followed through NextShardIterator, an expired iterator
replaced from the position, and the end of a shard closed by resharding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

READ_LIMIT = 10_000
# When a read brought nothing new, poll the shard again after this long: Lambda's base rate of one GetRecords
# per shard per second (faster polling of many shards starves the single kinesalite process).
IDLE_POLL_S = 1.0


def error_code(error: ClientError) -> str | None:
    return error.response.get("Error", {}).get("Code")


def from_trim_horizon() -> dict[str, Any]:
    return {"ShardIteratorType": "TRIM_HORIZON"}


class ShardCursor:
    """The reading position in one shard. ``start`` gives the GetShardIterator arguments for a read before any
    record was read (or after ``restart``)."""

    def __init__(self, kinesis: Any, stream_name: str, shard_id: str, last_read: str | None = None,
                 start: Callable[[], dict[str, Any]] = from_trim_horizon) -> None:
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.shard_id = shard_id
        self.start = start
        self.last_read = last_read  # the sequence number of the last record read
        self.iterator: str | None = None
        self.millis_behind = 0  # MillisBehindLatest of the last read
        self.ended = False  # the shard is closed (resharding) and was read to its last record

    def restart(self) -> None:
        """Forgets the position: the next read starts where ``start`` says."""
        self.iterator = None
        self.last_read = None

    def _new_iterator(self) -> str:
        kwargs: dict[str, Any] = {"StreamName": self.stream_name, "ShardId": self.shard_id}
        if self.last_read:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=self.last_read)
        else:
            kwargs.update(self.start())
        return self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"]

    def read(self) -> list[dict[str, Any]] | None:
        """One GetRecords: the records after the position (none at the shard's tip), or None if the iterator had
        expired. After an expired iterator or any error (raised), the next read takes a new iterator."""
        try:
            if self.iterator is None:
                self.iterator = self._new_iterator()
            response = self.kinesis.get_records(ShardIterator=self.iterator, Limit=READ_LIMIT)
        except (ClientError, BotoCoreError) as error:
            self.iterator = None
            if isinstance(error, ClientError) and error_code(error) == "ExpiredIteratorException":
                return None
            raise
        records = response.get("Records") or []
        if records:
            self.last_read = records[-1]["SequenceNumber"]
        self.millis_behind = int(response.get("MillisBehindLatest") or 0)
        self.iterator = response.get("NextShardIterator")
        if self.iterator is None:
            self.ended = True
        return records
