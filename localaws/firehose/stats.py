"""Counters of the local Firehose, summarised in its ``status.json`` for ``wildrydes local status``."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from localaws.firehose.records import DATA_OUTPUT


@dataclass
class ShardStats:
    records_read: int = 0
    millis_behind: int = 0
    checkpoint: str | None = None
    finished: bool = False
    # (last sequence number, oldest arrival in ms) of each page read and not yet all in S3 (checkpointed)
    unsaved: deque[tuple[int, int]] = field(default_factory=deque, repr=False)

    def page_read(self, last_sequence: str, oldest_arrival_ms: int) -> None:
        self.unsaved.append((int(last_sequence), oldest_arrival_ms))

    def lag_ms(self, now_ms: int) -> int:
        """How far behind the stream's tip delivery is: the age of the oldest record read but not yet in S3
        (buffering included), or the reader's MillisBehindLatest when everything read is delivered."""
        saved = int(self.checkpoint) if self.checkpoint else -1
        while self.unsaved and self.unsaved[0][0] <= saved:
            self.unsaved.popleft()
        oldest = self.unsaved[0][1] if self.unsaved else None
        return max(self.millis_behind, now_ms - oldest if oldest is not None else 0)


@dataclass
class StreamStats:
    name: str
    version: str
    source: str
    shards: dict[str, ShardStats] = field(default_factory=dict)
    delivered: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    dropped: int = 0
    objects: int = 0
    error_objects: int = 0
    bytes_written: int = 0
    lambda_invocations: int = 0
    lambda_errors: int = 0
    buffered_records: int = 0
    buffered_bytes: int = 0
    problem: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def shard(self, shard_id: str) -> ShardStats:
        with self._lock:
            return self.shards.setdefault(shard_id, ShardStats())

    def written(self, output_type: str, records: int, size: int) -> None:
        with self._lock:
            self.bytes_written += size
            if output_type == DATA_OUTPUT:
                self.delivered += records
                self.objects += 1
            else:
                self.failed[output_type] += records
                self.error_objects += 1

    def add_dropped(self, count: int) -> None:
        with self._lock:
            self.dropped += count

    def as_dict(self) -> dict[str, Any]:
        now_ms = int(time.time() * 1000)
        with self._lock:
            return {
                "version": self.version,
                "source": self.source,
                "records_read": sum(s.records_read for s in self.shards.values()),
                "records_delivered": self.delivered,
                "records_failed": sum(self.failed.values()),
                "records_failed_by_type": dict(self.failed),
                "records_dropped": self.dropped,
                "records_buffered": self.buffered_records,
                "bytes_buffered": self.buffered_bytes,
                "objects_written": self.objects,
                "error_objects_written": self.error_objects,
                "bytes_written": self.bytes_written,
                "lambda_invocations": self.lambda_invocations,
                "lambda_errors": self.lambda_errors,
                "problem": self.problem,
                "shards": {
                    shard_id: {"records_read": s.records_read, "lag_ms": s.lag_ms(now_ms),
                               "checkpoint": s.checkpoint, "finished": s.finished}
                    for shard_id, s in sorted(self.shards.items())
                },
            }
