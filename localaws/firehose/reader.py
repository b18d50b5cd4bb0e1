"""Reads one Kinesis shard ahead of the processing, into a small bounded queue of pages.

Starts after the checkpoint (or at TRIM_HORIZON for a shard never read), follows NextShardIterator,
re-creates an expired iterator from the last record read, and ends with ``END`` when the shard is
closed (resharding) and read to its last record. An idle shard is polled five times a second, the
GetRecords limit of a Kinesis shard.

kinesalite: after an empty GetRecords its NextShardIterator points at (next sequence index, *the
reader's clock*). A PutRecords that took its sequence numbers a moment earlier in the previous second
but has not committed yet then sorts its first record before that iterator, and the record is never
returned. Once a record has been read, iterators carry that record's index and are safe; before the
first record (TRIM_HORIZON on an empty shard) an empty answer is therefore followed by a fresh
TRIM_HORIZON iterator instead of NextShardIterator.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from localaws.firehose.records import SourceRecord
from localaws.firehose.stats import ShardStats

log = logging.getLogger("wildrydes.firehose")
END = None
READ_LIMIT = 10_000
IDLE_POLL_S = 1.0  # a shard read to its tip is polled once a second, as Lambda does (see shard_poller)
PREFETCH_PAGES = 4


class ShardReader:
    def __init__(self, kinesis: Any, stream_name: str, shard_id: str, start_after: str | None,
                 stats: ShardStats, stop: threading.Event) -> None:
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.shard_id = shard_id
        self.last_read = start_after
        self.stats = stats
        self.stop = stop
        self.pages: queue.Queue[list[SourceRecord] | None] = queue.Queue(PREFETCH_PAGES)
        self.thread = threading.Thread(target=self._run, name=f"read-{shard_id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _iterator(self) -> str:
        kwargs: dict[str, Any] = {"StreamName": self.stream_name, "ShardId": self.shard_id}
        if self.last_read:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=self.last_read)
        else:
            kwargs.update(ShardIteratorType="TRIM_HORIZON")
        return self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"]

    def _put(self, page: list[SourceRecord] | None) -> bool:
        while not self.stop.is_set():
            try:
                self.pages.put(page, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        iterator: str | None = None
        while not self.stop.is_set():
            try:
                if iterator is None:
                    iterator = self._iterator()
                response = self.kinesis.get_records(ShardIterator=iterator, Limit=READ_LIMIT)
            except ClientError as error:
                iterator = None
                code = error.response.get("Error", {}).get("Code")
                if code == "InvalidArgumentException" and self.last_read:
                    # The checkpoint is not a position of this shard (the stream was re-created).
                    log.warning("shard=%s/%s: %s; reading from TRIM_HORIZON instead", self.stream_name,
                                self.shard_id, error)
                    self.last_read = None
                    continue
                if code != "ExpiredIteratorException":
                    log.warning("shard=%s/%s get_records failed: %s", self.stream_name, self.shard_id, error)
                    self.stop.wait(1.0)
                continue
            except BotoCoreError as error:
                iterator = None
                log.warning("shard=%s/%s get_records failed: %s", self.stream_name, self.shard_id, error)
                self.stop.wait(1.0)
                continue
            records = response.get("Records") or []
            self.stats.millis_behind = int(response.get("MillisBehindLatest") or 0)
            if records:
                page = [SourceRecord.from_kinesis(r, self.shard_id) for r in records]
                self.last_read = page[-1].sequence_number
                self.stats.records_read += len(page)
                self.stats.page_read(page[-1].sequence_number, min(r.arrival_ms for r in page))
                if not self._put(page):
                    return
            iterator = response.get("NextShardIterator")
            if iterator is None:
                self._put(END)
                return
            if not records:
                if self.last_read is None:
                    iterator = None  # see the module docstring: never advance past the shard's first record
                self.stop.wait(IDLE_POLL_S)

    def take(self, timeout: float) -> list[SourceRecord] | None | bool:
        """The next page, END (None) once the shard ended, or False if nothing came within the timeout."""
        try:
            return self.pages.get(timeout=timeout) if timeout > 0 else self.pages.get_nowait()
        except queue.Empty:
            return False

