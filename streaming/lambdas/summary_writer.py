"""Persist per-window summaries from ``wildrydes-summary`` into DynamoDB (``TABLE_NAME``).

One item per summary, key (Name S, StatusTime S), numbers as N, WindowEnd as S. Writes are PutRequests
in BatchWriteItem calls of 25, so a replayed summary overwrites its item with the same values
(idempotent). Within an invocation records are deduplicated by key before chunking (BatchWriteItem
rejects a request naming one key twice); the later record wins, as sequential writes would have it.

UnprocessedItems (and throttled or 5xx calls) are retried with exponential backoff and jitter, bounded
by ``BACKOFF.attempts`` and by a deadline well inside the function timeout (``MAX_RETRY_SECONDS``, and
``SAFETY_MARGIN_S`` before the context's remaining time). Items still unwritten are reported as
``batchItemFailures`` (itemIdentifier = sequence number of every record that carried them), so the
runtime retries from the lowest one (FunctionResponseTypes=ReportBatchItemFailures).

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
import os
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import clients, quarantine
from .contract import ContractError, Summary, parse_summary
from .retry import Backoff, error_code, is_retryable, sleep_until

log = logging.getLogger(__name__)

TABLE_ENV = "TABLE_NAME"
CHUNK_SIZE = 25
BACKOFF = Backoff(attempts=8, base=0.05, cap=2.0)
MAX_RETRY_SECONDS = 20.0
SAFETY_MARGIN_S = 5.0

Key = tuple[str, str]


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
    items: dict[Key, dict[str, Any]] = {}
    carriers: dict[Key, list[str]] = {}
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
        key = (summary["Name"], summary["StatusTime"])
        items[key] = to_item(summary)
        carriers.setdefault(key, []).append(sequence)

    failed = write_items(dynamodb or clients.get("dynamodb"), table, items, _deadline(context), sleep)
    if bad:
        log.error("skipped %d malformed summary record(s) (MalformedSummaries=%d)", len(bad), len(bad))
        quarantine.send(bad, sqs=sqs, sleep=sleep)
    sequences = sorted({seq for key in failed for seq in carriers[key] if seq is not None}, key=_seq_order)
    if sequences:
        log.error(
            "%d item(s) not written to %s; reporting %d batch item failure(s)", len(failed), table, len(sequences)
        )
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in sequences]}


def to_item(summary: Summary) -> dict[str, dict[str, str]]:
    return {
        "Name": {"S": summary["Name"]},
        "StatusTime": {"S": summary["StatusTime"]},
        "Distance": {"N": number(summary["Distance"])},
        "MinMagicPoints": {"N": str(summary["MinMagicPoints"])},
        "MaxMagicPoints": {"N": str(summary["MaxMagicPoints"])},
        "MinHealthPoints": {"N": str(summary["MinHealthPoints"])},
        "MaxHealthPoints": {"N": str(summary["MaxHealthPoints"])},
        "RecordCount": {"N": str(summary["RecordCount"])},
        "WindowEnd": {"S": summary["WindowEnd"]},
    }


def number(value: float) -> str:
    """A float as a DynamoDB N string that reads back as the same float (shortest repr, no exponent)."""
    return format(Decimal(repr(value + 0.0)), "f")


def write_items(
    dynamodb: Any,
    table: str,
    items: dict[Key, dict[str, Any]],
    deadline: float | None,
    sleep: Callable[[float], None] = time.sleep,
) -> set[Key]:
    """BatchWriteItem the items in chunks of 25; return the keys that could not be written."""
    failed: set[Key] = set()
    keys = list(items)
    for offset in range(0, len(keys), CHUNK_SIZE):
        pending = [{"PutRequest": {"Item": items[key]}} for key in keys[offset : offset + CHUNK_SIZE]]
        retry = 0
        while pending:
            try:
                response = dynamodb.batch_write_item(RequestItems={table: pending})
                unprocessed = response.get("UnprocessedItems", {}).get(table, [])
            except (ClientError, BotoCoreError) as exc:
                if not is_retryable(exc):
                    log.error("BatchWriteItem to %s failed (%s, not retryable): %s", table, error_code(exc), exc)
                    failed.update(_key_of(request) for request in pending)
                    break
                log.warning("BatchWriteItem to %s: %s, retrying", table, error_code(exc))
                unprocessed = pending
            if not unprocessed:
                break
            if retry + 1 >= BACKOFF.attempts or not sleep_until(deadline, BACKOFF.delay(retry), sleep):
                failed.update(_key_of(request) for request in unprocessed)
                break
            retry += 1
            pending = unprocessed
    return failed


def _key_of(request: dict[str, Any]) -> Key:
    item = request["PutRequest"]["Item"]
    return item["Name"]["S"], item["StatusTime"]["S"]


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
