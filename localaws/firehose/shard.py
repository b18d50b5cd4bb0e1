"""Delivers one shard of a delivery stream's source: gathers what the reader fetched into processor
batches (the Lambda's BufferSizeInMBs / BufferIntervalInSeconds), invokes the processor, and routes
the outcomes into the stream's buffers, each batch a chunk of the shard's progress.

Three stages run concurrently, in order: the reader prefetches pages, this loop invokes the function
for batch N+1 while a router thread converts and buffers batch N (the function runs in its own
process, so the two overlap on separate cores)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable

from localaws.firehose.buffers import Buffer
from localaws.firehose.processor import LambdaProcessor
from localaws.firehose.progress import Chunk, ShardProgress
from localaws.firehose.reader import END, ShardReader
from localaws.firehose.records import Outcome, SourceRecord
from localaws.firehose.router import Router

log = logging.getLogger("wildrydes.firehose")
# Without a processor, records go to the buffers page by page, at most this many bytes at a time.
DIRECT_BATCH_BYTES = 4 * 1024 * 1024
WAIT_S = 0.1
ROUTE_QUEUE_DEPTH = 2


class ShardDelivery:
    def __init__(self, shard_id: str, reader: ShardReader, progress: ShardProgress, router: Router,
                 processor: LambdaProcessor | None, batch_bytes: int, batch_interval_s: float,
                 submit: Callable[[Buffer], bool], stop: threading.Event) -> None:
        self.shard_id = shard_id
        self.reader = reader
        self.progress = progress
        self.router = router
        self.processor = processor
        self.batch_bytes = batch_bytes if processor is not None else DIRECT_BATCH_BYTES
        self.batch_interval_s = batch_interval_s if processor is not None else 0.0
        self.submit = submit
        self.stop = stop
        self.pending: deque[SourceRecord] = deque()
        self.pending_bytes = 0
        self.pending_since = 0.0
        self.ended = False
        self.routes: queue.Queue[tuple[list[Outcome], Chunk] | None] = queue.Queue(ROUTE_QUEUE_DEPTH)
        self.router_failed = threading.Event()

    def run(self) -> None:
        if self.progress.finished:
            return
        self.reader.start()
        router = threading.Thread(target=self._route_loop, name=f"route-{self.shard_id}", daemon=True)
        router.start()
        try:
            self._loop()
        finally:
            self._enqueue(None)
            router.join()

    def _loop(self) -> None:
        while not self.stop.is_set() and not self.router_failed.is_set():
            self._pull()
            if self._batch_ready():
                if not self._process(self._take_batch()):
                    return
                continue
            if self.ended and not self.pending:
                log.info("shard %s read to its end (closed by resharding); finishing once delivered", self.shard_id)
                return

    def _pull(self) -> None:
        if self.ended:
            return
        # Wait for data only when there is nothing to do meanwhile.
        timeout = 0.0 if self._batch_ready() else self._wait_time()
        while True:
            page = self.reader.take(timeout)
            if page is False:
                return
            if page is END:
                self.ended = True
                return
            assert isinstance(page, list)
            if not self.pending:
                self.pending_since = time.monotonic()
            self.pending.extend(page)
            self.pending_bytes += sum(len(r.data) for r in page)
            if self.pending_bytes >= self.batch_bytes:
                return
            timeout = 0.0

    def _wait_time(self) -> float:
        if not self.pending:
            return WAIT_S
        return max(0.0, min(WAIT_S, self.pending_since + self.batch_interval_s - time.monotonic()))

    def _batch_ready(self) -> bool:
        if not self.pending:
            return False
        return (self.pending_bytes >= self.batch_bytes or self.ended
                or time.monotonic() - self.pending_since >= self.batch_interval_s)

    def _take_batch(self) -> list[SourceRecord]:
        batch: list[SourceRecord] = []
        size = 0
        while self.pending and (not batch or size + len(self.pending[0].data) <= self.batch_bytes):
            record = self.pending.popleft()
            batch.append(record)
            size += len(record.data)
        self.pending_bytes -= size
        if self.pending:
            self.pending_since = time.monotonic()
        return batch

    def _process(self, batch: list[SourceRecord]) -> bool:
        if self.processor is not None:
            outcomes = self.processor.process(batch)
            if outcomes is None:  # stopping: the batch is re-read after the restart
                return False
        else:
            outcomes = [Outcome(record) for record in batch]
        return self._enqueue((outcomes, self.progress.open_chunk(batch[-1].sequence_number)))

    def _enqueue(self, item: tuple[list[Outcome], Chunk] | None) -> bool:
        while not self.stop.is_set() and not self.router_failed.is_set():
            try:
                self.routes.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _route_loop(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    item = self.routes.get(timeout=0.2)
                except queue.Empty:
                    continue
                if item is None:  # the last item: the shard is complete if it was read to its end
                    if self.ended and not self.pending:
                        self.progress.end_of_shard()
                    return
                outcomes, chunk = item
                full = self.router.route(outcomes, chunk)
                self.progress.seal(chunk)
                for buffer in full:
                    if not self.submit(buffer):
                        return
        except Exception:  # the shard stops; its unchecked records are re-read after a restart
            log.exception("shard %s: routing failed", self.shard_id)
            self.router_failed.set()
