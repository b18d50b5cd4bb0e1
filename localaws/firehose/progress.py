"""Which part of a shard is safely in S3, so the checkpoint never passes a record still in a buffer.

Each processed batch of a shard is a *chunk* (read order); every record of it that went into a
buffer (data or error) counts as outstanding until the object holding it is written. Records of one
chunk land in several partition buffers, and buffers of different partitions flush at different
times, so the checkpoint advances only over the leading run of chunks with nothing outstanding: it is
the minimum position not yet flushed across all buffers of the shard. Records read but not yet
processed belong to no chunk and are therefore never covered either.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterable

from localaws.firehose.checkpoints import Checkpoint, CheckpointStore


class Chunk:
    __slots__ = ("progress", "last_sequence", "outstanding", "sealed")

    def __init__(self, progress: ShardProgress, last_sequence: str) -> None:
        self.progress = progress
        self.last_sequence = last_sequence
        self.outstanding = 0
        self.sealed = False


class ShardProgress:
    def __init__(self, stream_key: str, shard_id: str, store: CheckpointStore) -> None:
        self.stream_key = stream_key
        self.shard_id = shard_id
        self.store = store
        saved = store.load(stream_key, shard_id)
        self.sequence_number: str | None = saved.sequence_number
        self.finished = saved.finished
        self.read_to_end = False
        self._chunks: deque[Chunk] = deque()
        self._lock = threading.Lock()
        self.finished_event = threading.Event()
        if self.finished:
            self.finished_event.set()

    def open_chunk(self, last_sequence: str) -> Chunk:
        chunk = Chunk(self, last_sequence)
        with self._lock:
            self._chunks.append(chunk)
        return chunk

    def add(self, chunk: Chunk, count: int = 1) -> None:
        with self._lock:
            chunk.outstanding += count

    def seal(self, chunk: Chunk) -> None:
        """Every record of the chunk has been routed (to buffers, or dropped)."""
        with self._lock:
            chunk.sealed = True
            self._advance()

    def resolve(self, chunk: Chunk, count: int) -> None:
        with self._lock:
            chunk.outstanding -= count
            self._advance()

    def end_of_shard(self) -> None:
        """The shard is closed and every record in it has been read and routed."""
        with self._lock:
            self.read_to_end = True
            self._advance()

    @property
    def pending_chunks(self) -> int:
        with self._lock:
            return len(self._chunks)

    def _advance(self) -> None:
        moved = False
        while self._chunks and self._chunks[0].sealed and self._chunks[0].outstanding <= 0:
            self.sequence_number = self._chunks.popleft().last_sequence
            moved = True
        done = self.read_to_end and not self._chunks and not self.finished
        if done:
            self.finished = True
        if moved or done:
            self.store.save(Checkpoint(self.stream_key, self.shard_id, self.sequence_number, self.finished))
        if done:
            self.finished_event.set()


def resolve_all(chunks: Iterable[Chunk]) -> None:
    """Records of these chunks (one entry per record, or a Counter of records per chunk) are durably written."""
    for chunk, count in Counter(chunks).items():
        chunk.progress.resolve(chunk, count)
