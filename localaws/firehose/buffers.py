"""Per-partition buffers of a delivery stream, flushed as Firehose's BufferingHints say: when a buffer
holds SizeInMBs of (incoming) data, or IntervalInSeconds after its first record arrived in it.

A buffer holds records one item each (error-document lines; the records themselves without format
conversion) or, with format conversion, converted rows as Arrow segments (a few bytes per value
instead of a Python tuple and the JSON per record). Either way its ``chunks`` count its records per
chunk of shard progress, resolved only once the object holding them is written.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate

import pyarrow as pa

from localaws.firehose.progress import Chunk

# (output type, partition key values): "" for the Prefix's data, else the error-output-type.
BufferKey = tuple[str, tuple[tuple[str, str, str], ...]]


@dataclass
class Buffer:
    key: BufferKey
    started: float  # monotonic time of the first record
    items: list[bytes] = field(default_factory=list)
    segments: list[pa.Table] = field(default_factory=list)
    chunks: Counter[Chunk] = field(default_factory=Counter)  # records per chunk
    count: int = 0
    size: int = 0
    oldest_arrival_ms: int | None = None

    @property
    def output_type(self) -> str:
        return self.key[0]

    @property
    def partition_keys(self) -> dict[tuple[str, str], str]:
        return {(namespace, name): value for namespace, name, value in self.key[1]}

    def add(self, item: bytes, size: int, arrival_ms: int, chunk: Chunk) -> None:
        self.items.append(item)
        self._count(1, size, arrival_ms, chunk)

    def add_segment(self, segment: pa.Table, size: int, arrival_ms: int, chunk: Chunk) -> None:
        self.segments.append(segment)
        self._count(segment.num_rows, size, arrival_ms, chunk)

    def _count(self, records: int, size: int, arrival_ms: int, chunk: Chunk) -> None:
        self.chunks[chunk] += records
        self.count += records
        self.size += size
        if self.oldest_arrival_ms is None or arrival_ms < self.oldest_arrival_ms:
            self.oldest_arrival_ms = arrival_ms


class BufferSet:
    def __init__(self, size_bytes: int, interval_s: float) -> None:
        self.size_bytes = size_bytes
        self.interval_s = interval_s
        self._buffers: dict[BufferKey, Buffer] = {}
        self._lock = threading.Lock()

    def add(self, key: BufferKey, item: bytes, size: int, arrival_ms: int, chunk: Chunk) -> Buffer | None:
        """Adds one record; returns the buffer, detached, if it is now full (or buffering is off)."""
        chunk.progress.add(chunk)
        with self._lock:
            buffer = self._buffer(key)
            buffer.add(item, size, arrival_ms, chunk)
            return self._detach_if_full(buffer)

    def add_rows(self, key: BufferKey, table: pa.Table, sizes: list[int], arrivals: list[int],
                 chunk: Chunk) -> list[Buffer]:
        """Adds converted rows (``sizes``/``arrivals`` per row) as record-by-record adds would: a buffer is
        cut right after the row that makes it full. Returns the buffers that became full, detached."""
        chunk.progress.add(chunk, len(sizes))
        ends = list(accumulate(sizes))  # incoming bytes up to and including each row
        full: list[Buffer] = []
        start, done = 0, 0  # first row not yet buffered; bytes of the rows before it
        with self._lock:
            while start < len(sizes):
                buffer = self._buffer(key)
                if self.interval_s <= 0:
                    end = start + 1
                else:  # a buffer still here is not full: the first row reaching its room ends the cut
                    end = min(bisect_left(ends, done + self.size_bytes - buffer.size) + 1, len(sizes))
                size = ends[end - 1] - done
                buffer.add_segment(table.slice(start, end - start), size, min(arrivals[start:end]), chunk)
                start, done = end, done + size
                detached = self._detach_if_full(buffer)
                if detached is not None:
                    full.append(detached)
        return full

    def _buffer(self, key: BufferKey) -> Buffer:
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = Buffer(key, time.monotonic())
        return buffer

    def _detach_if_full(self, buffer: Buffer) -> Buffer | None:
        if buffer.size >= self.size_bytes or self.interval_s <= 0:
            del self._buffers[buffer.key]
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
            return (len(self._buffers), sum(b.count for b in self._buffers.values()),
                    sum(b.size for b in self._buffers.values()))
