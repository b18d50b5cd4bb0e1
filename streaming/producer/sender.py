"""PutRecords sender: batches of <= 500 records and <= 5 MiB, a few calls in flight, nothing dropped.

Records are spread over ``lanes`` worker threads by partition key (a unicorn always goes through the same
lane), each lane sending its batches one after the other, so a unicorn's records reach the stream in
the order they were added, except that entries a partial failure reports are re-sent after the
batch's successful ones (as with any PutRecords retry). Per batch, ``streaming.lambdas.kinesis_put``
re-sends exactly the entries whose result carries an ErrorCode, backing off exponentially with jitter on
throttling (ProvisionedThroughputExceeded, 5xx, transport errors); the attempt budget counts attempts
without progress, so a throttled but advancing writer keeps going. When a batch cannot be written
the sender stops and raises ``SenderError`` naming what failed: records are acknowledged to the
caller (counted, and listed with sequence number and shard when ``collect_acks``) only once Kinesis
has acknowledged them.
"""

from __future__ import annotations

import queue
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from streaming.lambdas.kinesis_put import (
    MAX_BYTES_PER_CALL,
    MAX_BYTES_PER_RECORD,
    MAX_RECORDS_PER_CALL,
    Entry,
    PutStats,
    put_records,
)
from streaming.lambdas.retry import Backoff

UNVALIDATED = Config(parameter_validation=False)
PRODUCER_BACKOFF = Backoff(attempts=12, base=0.05, cap=5.0)  # ~35 s of no progress at worst before failing


class SenderError(RuntimeError):
    """Records could not be delivered; nothing after the failure was acknowledged."""


@dataclass(frozen=True)
class Delivered:
    partition_key: str
    sequence_number: str
    shard_id: str


class _Lane:
    def __init__(self, sender: KinesisSender, index: int, depth: int) -> None:
        self.sender = sender
        self.batch: list[Entry] = []
        self.size = 0
        self.queue: queue.Queue[list[Entry] | None] = queue.Queue(maxsize=depth)
        self.thread = threading.Thread(target=self._run, name=f"putrecords-{index}", daemon=True)
        self.thread.start()

    def submit(self) -> None:
        if self.batch:
            self.queue.put(self.batch)
            self.batch, self.size = [], 0

    def _run(self) -> None:
        while True:
            batch = self.queue.get()
            try:
                if batch is None:
                    return
                if self.sender.error is None:
                    self.sender._send(batch)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self.sender.error = exc
            finally:
                self.queue.task_done()


class KinesisSender:
    """Thread-safe for one producing thread; use as a context manager or call ``close()``."""

    def __init__(
        self,
        stream: str,
        client: Any = None,
        *,
        lanes: int = 2,
        depth: int = 2,
        backoff: Backoff = PRODUCER_BACKOFF,
        collect_acks: bool = False,
        max_records: int = MAX_RECORDS_PER_CALL,
        max_bytes: int = MAX_BYTES_PER_CALL,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= max_records <= MAX_RECORDS_PER_CALL:
            raise ValueError(f"max_records must be 1..{MAX_RECORDS_PER_CALL}")
        self.stream = stream
        # Client-side parameter validation is half of botocore's cost per record (12 of 23 us), and this
        # sender already enforces the batch limits; Kinesis validates every request anyway.
        self.client = client if client is not None else boto3.client("kinesis", config=UNVALIDATED)
        self.backoff = backoff
        self.sleep = sleep
        self.max_records = max_records
        self.max_bytes = min(max_bytes, MAX_BYTES_PER_CALL)
        self.collect_acks = collect_acks
        self.acks: list[Delivered] = []
        self.stats = PutStats()
        self.added = 0
        self.acknowledged = 0
        self.acknowledged_bytes = 0
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._key_info: dict[str, tuple[_Lane, int]] = {}
        self._lanes = [_Lane(self, i, depth) for i in range(max(1, lanes))]
        self._closed = False

    def take_acks(self) -> list[Delivered]:
        """The acknowledgements collected (``collect_acks``) since the last call, in the order they came."""
        with self._lock:
            acks, self.acks = self.acks, []
        return acks

    # ------------------------------------------------------------------------------------ producing

    def add(self, data: bytes, partition_key: str) -> None:
        if self.error is not None:
            self._raise()
        info = self._key_info.get(partition_key)
        if info is None:
            key_bytes = len(partition_key.encode("utf-8"))
            lane = self._lanes[zlib.crc32(partition_key.encode("utf-8")) % len(self._lanes)]
            info = self._key_info[partition_key] = (lane, key_bytes)
        lane, key_bytes = info
        n = len(data) + key_bytes
        if n > MAX_BYTES_PER_RECORD:
            raise SenderError(f"record for {partition_key!r} is {n} bytes, over the 1 MiB Kinesis limit")
        if lane.batch and (len(lane.batch) >= self.max_records or lane.size + n > self.max_bytes):
            lane.submit()
        lane.batch.append((data, partition_key))
        lane.size += n
        self.added += 1

    def add_many(self, entries: Iterable[Entry]) -> None:
        for data, key in entries:
            self.add(data, key)

    def submit_pending(self) -> None:
        """Hand partial batches to idle lanes without waiting (a slow producer's records go out now)."""
        for lane in self._lanes:
            if lane.batch and self.error is None and lane.queue.empty():
                lane.submit()

    def flush(self) -> None:
        """Send every pending record and wait until all are acknowledged (or raise)."""
        for lane in self._lanes:
            if self.error is None:
                lane.submit()
        for lane in self._lanes:
            lane.queue.join()
        if self.error is not None:
            self._raise()

    def close(self) -> None:
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            for lane in self._lanes:
                lane.queue.put(None)
            for lane in self._lanes:
                lane.thread.join(timeout=5)

    def __enter__(self) -> KinesisSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pending(self) -> int:
        return self.added - self.acknowledged

    # ------------------------------------------------------------------------------------- workers

    def _send(self, batch: list[Entry]) -> None:
        stats = PutStats()
        try:
            acks = put_records(
                self.client,
                self.stream,
                batch,
                backoff=self.backoff,
                reset_on_progress=True,
                sleep=self.sleep,
                stats=stats,
            )
        finally:
            with self._lock:
                self.stats.merge(stats)
        size = sum(len(data) for data, _ in batch)
        with self._lock:
            self.acknowledged += len(batch)
            self.acknowledged_bytes += size
            if self.collect_acks:
                self.acks.extend(
                    Delivered(key, ack.sequence_number, ack.shard_id) for (_, key), ack in zip(batch, acks, strict=True)
                )

    def _raise(self) -> None:
        error = self.error
        raise SenderError(
            f"stopped after {self.acknowledged} acknowledged records: {error}; "
            f"{self.added - self.acknowledged} record(s) added were not acknowledged"
        ) from error
