"""Reads one Kinesis shard ahead of the processing, into a small bounded queue of pages.

Starts after the checkpoint (or at TRIM_HORIZON for a shard never read), follows NextShardIterator,
re-creates an expired iterator from the last record read, and ends with ``END`` when the shard is
closed (resharding) and read to its last record. An idle shard is polled once a second (IDLE_POLL_S).

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
from localaws.kinesis_consumer.reading import IDLE_POLL_S, ShardCursor, error_code

log = logging.getLogger("wildrydes.firehose")
END = None
PREFETCH_PAGES = 4


class ShardReader:
    def __init__(self, kinesis: Any, stream_name: str, shard_id: str, start_after: str | None,
                 stats: ShardStats, stop: threading.Event) -> None:
        self.stream_name = stream_name
        self.shard_id = shard_id
        self.cursor = ShardCursor(kinesis, stream_name, shard_id, last_read=start_after)
        self.stats = stats
        self.stop = stop
        self.pages: queue.Queue[list[SourceRecord] | None] = queue.Queue(PREFETCH_PAGES)
        self.thread = threading.Thread(target=self._run, name=f"read-{shard_id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _put(self, page: list[SourceRecord] | None) -> bool:
        while not self.stop.is_set():
            try:
                self.pages.put(page, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                records = self.cursor.read()
            except (ClientError, BotoCoreError) as error:
                # Handled here, unlike in Lambda's poller (restarted from its checkpoint): the reader runs ahead
                # of the delivery, so it carries on from the last record it read.
                if isinstance(error, ClientError) and error_code(error) == "InvalidArgumentException" \
                        and self.cursor.last_read:
                    # The checkpoint is not a position of this shard (the stream was re-created).
                    log.warning("shard=%s/%s: %s; reading from TRIM_HORIZON instead", self.stream_name,
                                self.shard_id, error)
                    self.cursor.restart()
                    continue
                log.warning("shard=%s/%s get_records failed: %s", self.stream_name, self.shard_id, error)
                self.stop.wait(1.0)
                continue
            if records is None:  # the iterator expired: a new one at once
                continue
            self.stats.millis_behind = self.cursor.millis_behind
            if records:
                page = [SourceRecord.from_kinesis(r, self.shard_id) for r in records]
                self.stats.records_read += len(page)
                self.stats.page_read(page[-1].sequence_number, min(r.arrival_ms for r in page))
                if not self._put(page):
                    return
            if self.cursor.ended:
                self._put(END)
                return
            if not records:
                if self.cursor.last_read is None:
                    self.cursor.iterator = None  # see the module docstring: never advance past the shard's first record
                self.stop.wait(IDLE_POLL_S)

    def take(self, timeout: float) -> list[SourceRecord] | None | bool:
        """The next page, END (None) once the shard ended, or False if nothing came within the timeout."""
        try:
            return self.pages.get(timeout=timeout) if timeout > 0 else self.pages.get_nowait()
        except queue.Empty:
            return False

