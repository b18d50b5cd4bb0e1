"""The history's records: the seeded fleet's readings with synthetic arrival times and sequence numbers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from streaming.producer.simulation import Fleet

LATENCY_MS = (20, 980)  # must stay below one tick so that ticks never interleave in arrival order


@dataclass(frozen=True)
class StreamRecord:
    """A record as GetRecords returns it (the shape the runtime's event builders take)."""

    data: bytes
    partition_key: str
    sequence_number: str
    arrival_ms: int

    def as_kinesis(self) -> dict[str, Any]:
        return {"Data": self.data, "PartitionKey": self.partition_key, "SequenceNumber": self.sequence_number,
                "ApproximateArrivalTimestamp": self.arrival_ms / 1000.0}


def generate(unicorns: int, seed: int, start: datetime, end: datetime) -> Iterator[list[StreamRecord]]:
    """One list per tick (second), in arrival order; arrivals lie in [start, end)."""
    fleet = Fleet(unicorns, seed)
    latency = random.Random(f"{seed}/latency")
    start_ms = int(start.timestamp() * 1000)
    for tick in range(int((end - start).total_seconds())):
        clock = start_ms + tick * 1000
        batch = []
        for index, reading in enumerate(fleet.tick(clock)):
            arrival = clock + latency.randint(*LATENCY_MS)
            batch.append(StreamRecord(reading.encode(), reading.name, f"{arrival:013d}{index:07d}", arrival))
        batch.sort(key=lambda r: (r.arrival_ms, r.sequence_number))
        yield batch
