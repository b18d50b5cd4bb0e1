"""The records flowing through a delivery: what was read from Kinesis and what became of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DATA_OUTPUT = ""  # the buffer kind of records delivered under the Prefix
PROCESSING_FAILED = "processing-failed"
FORMAT_CONVERSION_FAILED = "format-conversion-failed"


@dataclass(slots=True)
class SourceRecord:
    """One Kinesis record as Firehose received it."""

    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    arrival_ms: int

    @classmethod
    def from_kinesis(cls, record: dict[str, Any], shard_id: str) -> SourceRecord:
        arrival = record["ApproximateArrivalTimestamp"]
        seconds = arrival.timestamp() if isinstance(arrival, datetime) else float(arrival)
        return cls(shard_id, record["SequenceNumber"], record["PartitionKey"], record["Data"], round(seconds * 1000))


@dataclass(slots=True)
class Failure:
    """Why a record goes to the error output instead of the Prefix."""

    output_type: str  # processing-failed / format-conversion-failed
    code: str
    message: str
    attempts: int = 1
    lambda_arn: str | None = None
    ending_ms: int = 0


@dataclass(slots=True)
class Outcome:
    """A source record after the processor: delivered data with partition keys, dropped, or failed."""

    source: SourceRecord
    data: bytes | None = None
    keys: dict[tuple[str, str], str] = field(default_factory=dict)
    failure: Failure | None = None
    dropped: bool = False
