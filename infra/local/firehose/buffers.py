"""Per-partition buffers of a delivery stream, flushed as Firehose's BufferingHints say: when a buffer
holds SizeInMBs of (incoming) data, or IntervalInSeconds after its first record arrived in it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from infra.local.firehose.progress import Chunk

# (output type, partition key values): "" for the Prefix's data, else the error-output-type.
BufferKey = tuple[str, tuple[tuple[str, str, str], ...]]


@dataclass
class Buffer:
    key: BufferKey
    started: float  # monotonic time of the first record
    items: list[Any] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    size: int = 0
    oldest_arrival_ms: int | None = None

    @property
    def output_type(self) -> str:
        return self.key[0]

    @property
    def partition_keys(self) -> dict[tuple[str, str], str]:
        return {(namespace, name): value for namespace, name, value in self.key[1]}

    def add(self, item: Any, size: int, arrival_ms: int, chunk: Chunk) -> None:
        self.items.append(item)
        self.chunks.append(chunk)
        self.size += size
        if self.oldest_arrival_ms is None or arrival_ms < self.oldest_arrival_ms:
            self.oldest_arrival_ms = arrival_ms


class BufferSet:
    def __init__(self, size_bytes: int, interval_s: float) -> None:
        self.size_bytes = size_bytes
        self.interval_s = interval_s
        self._buffers: dict[BufferKey, Buffer] = {}
        self._lock = threading.Lock()

    def add(self, key: BufferKey, item: Any, size: int, arrival_ms: int, chunk: Chunk) -> Buffer | None:
        """Adds one record; returns the buffer, detached, if it is now full (or buffering is off)."""
        chunk.progress.add(chunk)
        with self._lock:
            buffer = self._buffers.get(key)
            if buffer is None:
                buffer = self._buffers[key] = Buffer(key, time.monotonic())
            buffer.add(item, size, arrival_ms, chunk)
            if buffer.size >= self.size_bytes or self.interval_s <= 0:
                del self._buffers[key]
                return buffer
        return None

    def due(self, now: float | None = None) -> list[Buffer]:
        """Detaches and returns the buffers whose interval has passed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            keys = [k for k, b in self._buffers.items() if now - b.started >= self.interval_s]
            return [self._buffers.pop(k) for k in keys]

    def next_due_in(self, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if not self._buffers:
                return None
            return max(0.0, min(b.started for b in self._buffers.values()) + self.interval_s - now)

    def stats(self) -> tuple[int, int, int]:
        """(buffers, records, bytes) currently buffered."""
        with self._lock:
            return (len(self._buffers), sum(len(b.items) for b in self._buffers.values()),
                    sum(b.size for b in self._buffers.values()))
