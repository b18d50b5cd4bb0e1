"""PutRecords that re-sends exactly the failed entries, with bounded backoff, and never drops silently.

A PutRecords response lists one result per entry, in order: a SequenceNumber and ShardId, or an
ErrorCode (ProvisionedThroughputExceededException, InternalFailure, KMS...) when FailedRecordCount > 0.
Only the failed entries are sent again; when attempts or time run out, ``PutRecordsError`` is raised
with the count and error codes still failing, so the caller fails loudly instead of losing records.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .retry import Backoff, error_code, is_retryable, sleep_until

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1024 * 1024

Entry = tuple[bytes, str]  # (data, partition key)


class PutRecordsError(RuntimeError):
    """Records could not be written to the stream (after retries, or not retryable at all)."""


@dataclass(frozen=True)
class Ack:
    sequence_number: str
    shard_id: str


@dataclass
class PutStats:
    calls: int = 0
    resent: int = 0  # entries sent again after a record-level failure
    throttled: int = 0  # record-level ProvisionedThroughputExceeded results + throttled calls
    call_errors: int = 0  # whole calls that failed and were retried
    errors: Counter[str] = field(default_factory=Counter)

    def merge(self, other: PutStats) -> None:
        self.calls += other.calls
        self.resent += other.resent
        self.throttled += other.throttled
        self.call_errors += other.call_errors
        self.errors.update(other.errors)


def stream_param(stream: str) -> dict[str, str]:
    """PutRecords takes a stream name or an ARN."""
    return {"StreamARN": stream} if stream.startswith("arn:") else {"StreamName": stream}


def entry_size(entry: Entry) -> int:
    data, key = entry
    return len(data) + len(key.encode("utf-8"))


def batches(
    entries: Iterable[Entry],
    max_records: int = MAX_RECORDS_PER_CALL,
    max_bytes: int = MAX_BYTES_PER_CALL,
) -> Iterator[list[Entry]]:
    """Group entries into PutRecords calls of at most ``max_records`` entries and ``max_bytes``."""
    batch: list[Entry] = []
    size = 0
    for entry in entries:
        n = entry_size(entry)
        if n > MAX_BYTES_PER_RECORD:
            raise PutRecordsError(f"record for partition key {entry[1]!r} is {n} bytes > 1 MiB limit")
        if batch and (len(batch) >= max_records or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(entry)
        size += n
    if batch:
        yield batch


def put_records(
    client: Any,
    stream: str,
    entries: Sequence[Entry],
    *,
    backoff: Backoff,
    reset_on_progress: bool = False,
    deadline: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stats: PutStats | None = None,
) -> list[Ack]:
    """Write one batch (<= 500 entries, <= 5 MiB); return one Ack per entry, in input order.

    ``backoff.attempts`` bounds the number of attempts (counted since the last progress when
    ``reset_on_progress``: a throttled but advancing writer keeps going); ``deadline`` (monotonic
    seconds) bounds the time. Raises PutRecordsError when records remain unwritten.
    """
    stats = stats if stats is not None else PutStats()
    if not entries:
        return []
    target = stream_param(stream)
    acks: list[Ack | None] = [None] * len(entries)
    pending = list(range(len(entries)))
    failures = 0
    while True:
        last_errors: Counter[str] = Counter()
        try:
            stats.calls += 1
            response = client.put_records(
                Records=[{"Data": entries[i][0], "PartitionKey": entries[i][1]} for i in pending], **target
            )
        except (ClientError, BotoCoreError) as exc:
            code = error_code(exc)
            stats.errors[code] += 1
            if not is_retryable(exc):
                raise PutRecordsError(f"PutRecords to {stream!r} failed with {code} (not retryable): {exc}") from exc
            stats.call_errors += 1
            if "Throughput" in code or "Throttl" in code:
                stats.throttled += 1
            last_errors[code] += len(pending)
        else:
            results = response.get("Records", [])
            if len(results) != len(pending):
                raise PutRecordsError(f"PutRecords to {stream!r}: {len(results)} results for {len(pending)} records")
            still: list[int] = []
            for index, result in zip(pending, results, strict=True):
                code = result.get("ErrorCode")
                if code:
                    still.append(index)
                    last_errors[code] += 1
                    stats.errors[code] += 1
                    if code == "ProvisionedThroughputExceededException":
                        stats.throttled += 1
                else:
                    acks[index] = Ack(result["SequenceNumber"], result["ShardId"])
            if not still:
                return acks  # type: ignore[return-value]  # every slot filled
            if reset_on_progress and len(still) < len(pending):
                failures = 0
            stats.resent += len(still)
            pending = still
        failures += 1
        if failures >= backoff.attempts or not sleep_until(deadline, backoff.delay(failures - 1), sleep):
            detail = ", ".join(f"{code} x{n}" for code, n in last_errors.most_common())
            raise PutRecordsError(
                f"PutRecords to {stream!r}: {len(pending)} of {len(entries)} records still failing after "
                f"{failures} attempts ({detail}); nothing was dropped silently — retry the caller"
            )
