"""The failure destination for malformed records: an SQS queue, one JSON message per record.

The queue comes from the ``QUARANTINE_QUEUE_URL`` environment variable (a queue URL, or a queue ARN as
in an event source mapping's ``DestinationConfig.OnFailure``). Each message carries the reason, the
record's base64 data (truncated above ``MAX_DATA_CHARS``, flagged), shard, sequence number, partition
key and arrival time, so an operator can inspect or replay it. Every quarantined record is also logged
at ERROR level; without a configured queue the log line is the only trace (loud, never silent).
Sending is at-least-once: after a failed invocation the retry may quarantine the same record twice.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import clients
from .retry import Backoff, error_code, is_retryable, sleep_until

log = logging.getLogger(__name__)

ENV_VAR = "QUARANTINE_QUEUE_URL"
MAX_DATA_CHARS = 200_000  # base64 characters kept; SQS messages are limited to 256 KiB
MAX_BATCH_BYTES = 240_000
BACKOFF = Backoff(attempts=5, base=0.1, cap=2.0)

_queue_urls: dict[str, str] = {}


class QuarantineError(RuntimeError):
    """Malformed records could not be delivered to the quarantine queue."""


def message(
    reason: str,
    data_b64: str,
    *,
    source: str,
    shard_id: str | None,
    sequence_number: str | None,
    partition_key: str | None,
    arrival: Any,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    truncated = len(data_b64) > MAX_DATA_CHARS
    body: dict[str, Any] = {
        "source": source,
        "reason": reason,
        "data": data_b64[:MAX_DATA_CHARS],
        "dataTruncated": truncated,
        "dataChars": len(data_b64),
        "shardId": shard_id,
        "sequenceNumber": sequence_number,
        "partitionKey": partition_key,
        "approximateArrivalTimestamp": arrival,
    }
    if extra:
        body.update(extra)
    return body


def _resolve(sqs: Any, queue: str) -> str:
    if not queue.startswith("arn:"):
        return queue
    url = _queue_urls.get(queue)
    if url is None:
        # arn:aws:sqs:<region>:<account>:<name>
        parts = queue.split(":")
        if len(parts) != 6:
            raise QuarantineError(f"{ENV_VAR} is not a queue URL or SQS ARN: {queue!r}")
        url = sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
        _queue_urls[queue] = url
    return url


def send(
    messages: list[dict[str, Any]],
    *,
    sqs: Any = None,
    queue: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Log and deliver quarantine messages; return how many went to the queue. Raise if undeliverable."""
    if not messages:
        return 0
    for body in messages:
        log.error(
            "quarantined record: %s (shard %s, sequence %s)",
            body["reason"],
            body["shardId"],
            body["sequenceNumber"],
            extra={"quarantine": body},
        )
    queue = queue if queue is not None else os.environ.get(ENV_VAR, "")
    if not queue:
        log.error("%s not set: %d quarantined record(s) are only in this log", ENV_VAR, len(messages))
        return 0
    sqs = sqs if sqs is not None else clients.get("sqs")
    url = _resolve(sqs, queue)
    # ASCII JSON: a partition key (or reason) may hold a lone surrogate, which has no UTF-8 encoding, or a
    # character SQS refuses in a message (U+FFFE, U+FFFF); escaped, every body is sendable and decodes the same.
    bodies = [json.dumps(body, separators=(",", ":"), ensure_ascii=True) for body in messages]
    for group in _groups(bodies):
        _send_group(sqs, url, group, sleep)
    return len(bodies)


def _groups(bodies: list[str]) -> list[list[str]]:
    groups: list[list[str]] = []
    current: list[str] = []
    size = 0
    for body in bodies:
        n = len(body.encode("utf-8"))
        if current and (len(current) == 10 or size + n > MAX_BATCH_BYTES):
            groups.append(current)
            current, size = [], 0
        current.append(body)
        size += n
    if current:
        groups.append(current)
    return groups


def _send_group(sqs: Any, url: str, group: list[str], sleep: Callable[[float], None]) -> None:
    pending = {str(i): body for i, body in enumerate(group)}
    for attempt in range(BACKOFF.attempts):
        try:
            response = sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": k, "MessageBody": v} for k, v in pending.items()]
            )
        except (ClientError, BotoCoreError) as exc:
            if not is_retryable(exc):
                raise QuarantineError(f"SendMessageBatch to {url} failed: {error_code(exc)}: {exc}") from exc
        else:
            failed = response.get("Failed", [])
            fatal = [f for f in failed if f.get("SenderFault")]
            if fatal:
                raise QuarantineError(f"SQS refused quarantine messages: {fatal}")
            pending = {f["Id"]: pending[f["Id"]] for f in failed}
            if not pending:
                return
        if attempt + 1 < BACKOFF.attempts:
            sleep_until(None, BACKOFF.delay(attempt), sleep)
    raise QuarantineError(f"{len(pending)} quarantine message(s) not accepted by {url} after retries")
