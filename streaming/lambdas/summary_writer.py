"""Persist per-window summaries from ``wildrydes-summary`` into DynamoDB (``TABLE_NAME``).

One item per unicorn-minute, key (Name S, StatusTime S): the summary's numbers as N, WindowEnd as S, and the
parts it was merged from (``Partials``: part id -> its exact distance parts, min/max vitals and count).
A minute can arrive in several parts (``contract.Summary.Partial``: a parent and a child shard around a
reshard, or a window Lambda ended early); the item holds their exact merge: Distance is the correctly rounded
sum of every part's exact partial sums, the minima and maxima and the count combine. Writing a part again
(a replay, a retry) replaces it with itself, so the item does not change.

Writes are conditional, so two writers merging parts of one minute at once cannot lose one: a part goes in
with one PutItem when the item is new or holds only that part (the common case, one shard); otherwise the
item is read, merged and put back on condition that its ``Version`` did not change meanwhile, and that is
retried on a conflict. The summaries of an invocation are written ``WRITE_CONCURRENCY`` at a time (the template's
``SummaryWriterConcurrency``; ``CONCURRENCY`` without it).

Throttling and 5xx errors are retried with exponential backoff and jitter, bounded by ``BACKOFF.attempts``
and by a deadline well inside the function timeout (``MAX_RETRY_SECONDS``, and ``SAFETY_MARGIN_S`` before the
context's remaining time). Summaries still unwritten are reported as ``batchItemFailures`` (itemIdentifier =
the record's sequence number), so the runtime retries from the lowest one (ReportBatchItemFailures).

Malformed summary records are NOT reported as batch item failures: such a record can never succeed,
so reporting it would make the runtime retry from it again and again, holding back every good summary
behind it on the shard until the retry limit discards the whole batch. Instead each one is logged at
ERROR with its reason, counted, and sent to the quarantine queue (``QUARANTINE_QUEUE_URL``) when one is
configured; the rest of the batch is written.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import clients, quarantine
from .contract import ContractError, Summary, parse_summary
from .retry import Backoff, error_code, is_retryable, sleep_until

log = logging.getLogger(__name__)

TABLE_ENV = "TABLE_NAME"
CONCURRENCY_ENV = "WRITE_CONCURRENCY"
CONCURRENCY = 8
MAX_CONCURRENCY = 64
CONFLICT = "ConditionalCheckFailedException"
BACKOFF = Backoff(attempts=8, base=0.05, cap=2.0)
MAX_RETRY_SECONDS = 20.0
SAFETY_MARGIN_S = 5.0

Key = tuple[str, str]
Part = tuple[tuple[float, ...], int, int, int, int, int]  # distance parts, min/max magic, min/max health, count


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process(event, context)


def process(
    event: dict[str, Any],
    context: Any = None,
    *,
    dynamodb: Any = None,
    sqs: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    table = os.environ.get(TABLE_ENV)
    if not table:
        raise RuntimeError(f"{TABLE_ENV} is not set: no table to write summaries to")
    concurrency = write_concurrency()
    by_key: dict[Key, list[tuple[str, Summary]]] = {}
    bad: list[dict[str, Any]] = []
    for record in event.get("Records") or []:
        kin = record.get("kinesis") or {}
        sequence = kin.get("sequenceNumber")
        data_b64 = kin.get("data") or ""
        try:
            summary = parse_summary(base64.b64decode(data_b64, validate=True))
        except (ContractError, binascii.Error, ValueError, TypeError) as exc:
            reason = exc.reason if isinstance(exc, ContractError) else f"data is not valid base64: {exc}"
            bad.append(
                quarantine.message(
                    reason,
                    data_b64 if isinstance(data_b64, str) else repr(data_b64),
                    source="summary_writer",
                    shard_id=_shard_of(record),
                    sequence_number=sequence,
                    partition_key=kin.get("partitionKey"),
                    arrival=kin.get("approximateArrivalTimestamp"),
                )
            )
            continue
        by_key.setdefault((summary["Name"], summary["StatusTime"]), []).append((sequence, summary))

    dynamodb = dynamodb or clients.get("dynamodb", validate=False)  # items built here; DynamoDB validates them
    failed = write_summaries(dynamodb, table, by_key, _deadline(context), sleep, concurrency)
    if bad:
        log.error("skipped %d malformed summary record(s) (MalformedSummaries=%d)", len(bad), len(bad))
        quarantine.send(bad, sqs=sqs, sleep=sleep)
    sequences = sorted({seq for seq in failed if seq is not None}, key=_seq_order)
    if sequences:
        log.error("%d summaries not written to %s; reporting them as batch item failures", len(sequences), table)
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in sequences]}


def write_concurrency() -> int:
    """How many writes to keep in flight: ``WRITE_CONCURRENCY`` (1-64), else ``CONCURRENCY``."""
    text = os.environ.get(CONCURRENCY_ENV)
    if not text:
        return CONCURRENCY
    if not text.isdigit() or not 1 <= int(text) <= MAX_CONCURRENCY:
        raise RuntimeError(f"{CONCURRENCY_ENV}={text!r}: expected a number of writes from 1 to {MAX_CONCURRENCY}")
    return int(text)


def write_summaries(
    dynamodb: Any,
    table: str,
    by_key: dict[Key, list[tuple[str, Summary]]],
    deadline: float | None,
    sleep: Callable[[float], None] = time.sleep,
    concurrency: int = CONCURRENCY,
) -> list[str]:
    """Merge each summary into its item; the summaries of one key in order, keys ``concurrency`` at a time. Returns the
    sequence numbers of the summaries that could not be written (and of those after them on their key)."""

    def write_key(summaries: list[tuple[str, Summary]]) -> list[str]:
        for index, (_, summary) in enumerate(summaries):
            if not merge_into_item(dynamodb, table, summary, deadline, sleep):
                return [sequence for sequence, _ in summaries[index:]]
        return []

    if len(by_key) <= 1:
        return [seq for summaries in by_key.values() for seq in write_key(summaries)]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return [seq for failed in pool.map(write_key, by_key.values()) for seq in failed]


def merge_into_item(dynamodb: Any, table: str, summary: Summary, deadline: float | None,
                    sleep: Callable[[float], None] = time.sleep) -> bool:
    """Put the summary's part into its minute's item; True once written (or already there)."""
    part = summary["Partial"]
    key = {"Name": {"S": summary["Name"]}, "StatusTime": {"S": summary["StatusTime"]}}
    fresh = to_item(summary, {part: part_of(summary)}, version=1)
    attempt = 0
    while True:
        try:
            try:
                # New, or holding only this part (a replay): one write.
                dynamodb.put_item(
                    TableName=table, Item=fresh,
                    ConditionExpression="attribute_not_exists(#n) OR (#c = :one AND attribute_exists(#p.#part))",
                    ExpressionAttributeNames={"#n": "Name", "#c": "PartCount", "#p": "Partials", "#part": part},
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
                return True
            except ClientError as exc:
                if error_code(exc) != CONFLICT:
                    raise
            current = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            if current is None:
                continue  # deleted meanwhile: the next put creates it
            parts = parts_of(current)
            if parts.get(part) == part_of(summary):
                return True
            parts[part] = part_of(summary)
            version = int(current.get("Version", {}).get("N", "0"))
            try:
                dynamodb.put_item(
                    TableName=table, Item=to_item(summary, parts, version + 1),
                    ConditionExpression="#v = :v" if version else "attribute_not_exists(#v)",
                    ExpressionAttributeNames={"#v": "Version"},
                    **({"ExpressionAttributeValues": {":v": {"N": str(version)}}} if version else {}),
                )
                return True
            except ClientError as exc:
                if error_code(exc) != CONFLICT:
                    raise
                log.info("%s %s: another part was merged meanwhile; merging again", *summary_key(summary))
        except (ClientError, BotoCoreError) as exc:
            if not is_retryable(exc):
                log.error("writing %s %s to %s failed (%s, not retryable): %s", *summary_key(summary), table,
                          error_code(exc), exc)
                return False
            log.warning("writing %s %s to %s: %s, retrying", *summary_key(summary), table, error_code(exc))
            if attempt + 1 >= BACKOFF.attempts or not sleep_until(deadline, BACKOFF.delay(attempt), sleep):
                return False
            attempt += 1


def summary_key(summary: Summary) -> Key:
    return summary["Name"], summary["StatusTime"]


def part_of(summary: Summary) -> Part:
    return (tuple(summary["DistanceParts"]), summary["MinMagicPoints"], summary["MaxMagicPoints"],
            summary["MinHealthPoints"], summary["MaxHealthPoints"], summary["RecordCount"])


def parts_of(item: dict[str, Any]) -> dict[str, Part]:
    """The parts an item was merged from (none for an item written before parts existed: it is replaced)."""
    parts = {}
    for name, value in (item.get("Partials", {}).get("M") or {}).items():
        fields = value["M"]
        parts[name] = (tuple(float(n["N"]) for n in fields["D"]["L"]),
                       *(int(fields[f]["N"]) for f in ("mm", "Mm", "mh", "Mh", "c")))
    return parts  # type: ignore[return-value]


def to_item(summary: Summary, parts: dict[str, Part], version: int) -> dict[str, dict[str, Any]]:
    """The minute's item: the exact merge of its parts, and the parts themselves."""
    distance = math.fsum(d for part in parts.values() for d in part[0])
    return {
        "Name": {"S": summary["Name"]},
        "StatusTime": {"S": summary["StatusTime"]},
        "Distance": {"N": number(distance)},
        "MinMagicPoints": {"N": str(min(part[1] for part in parts.values()))},
        "MaxMagicPoints": {"N": str(max(part[2] for part in parts.values()))},
        "MinHealthPoints": {"N": str(min(part[3] for part in parts.values()))},
        "MaxHealthPoints": {"N": str(max(part[4] for part in parts.values()))},
        "RecordCount": {"N": str(sum(part[5] for part in parts.values()))},
        "WindowEnd": {"S": summary["WindowEnd"]},
        "PartCount": {"N": str(len(parts))},
        "Version": {"N": str(version)},
        "Partials": {"M": {
            name: {"M": {"D": {"L": [{"N": number(d)} for d in part[0]]},
                         **{f: {"N": str(v)} for f, v in zip(("mm", "Mm", "mh", "Mh", "c"), part[1:], strict=True)}}}
            for name, part in sorted(parts.items())
        }},
    }


def number(value: float) -> str:
    """A float as a DynamoDB N string that reads back as the same float (shortest repr, no exponent)."""
    return format(Decimal(repr(value + 0.0)), "f")


def _shard_of(record: dict[str, Any]) -> str | None:
    event_id = record.get("eventID") or ""
    return event_id.split(":", 1)[0] if ":" in event_id else None


def _seq_order(sequence: str) -> tuple[int, str]:
    return (int(sequence), sequence) if sequence.isdigit() else (0, sequence)


def _deadline(context: Any) -> float:
    budget = MAX_RETRY_SECONDS
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is not None:
        budget = min(budget, max(0.0, remaining() / 1000.0 - SAFETY_MARGIN_S))
    return time.monotonic() + budget
