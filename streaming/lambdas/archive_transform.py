"""Firehose processing Lambda of ``wildrydes-archive``: validate, enrich, set dynamic partition keys.

For each Kinesis-sourced record it returns (AWS's Firehose data-transformation contract):

- ``Ok``: ``data`` = base64 of the record's contract fields plus ``ArrivalTime`` (the Kinesis
  approximate arrival timestamp, ``YYYY-MM-DD HH:MM:SS.fff`` UTC), ``SequenceNumber`` and ``ShardId``,
  as one JSON line (``\\n``-terminated), and ``metadata.partitionKeys`` ``dt`` (YYYY-MM-DD) and ``hour``
  (HH) of the arrival time — the ``raw/dt=…/hour=…/`` prefix. Extra input fields are not carried over
  (the contract ignores them); numbers are normalised (Latitude/Longitude/Distance as floats).
- ``ProcessingFailed``: ``data`` = the original base64 unchanged, plus ``errorMessage`` = the reason.
  Firehose then writes the record under the error prefix (``!{firehose:error-output-type}`` =
  ``processing-failed``). On AWS the error document's errorMessage is Firehose's own text and the
  reason is in this function's log (one ERROR line per record, with sequence number); the local
  delivery (agreed with its owner) copies this ``errorMessage`` into the error document instead.

``Dropped`` is never used: nothing is discarded silently. The function calls no AWS API.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from .contract import ContractError, parse_raw
from .timefmt import format_epoch_ms

log = logging.getLogger(__name__)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"records": [transform(record) for record in event.get("records") or []]}


def transform(record: dict[str, Any]) -> dict[str, Any]:
    record_id = record.get("recordId")
    data_b64 = record.get("data") or ""
    meta = record.get("kinesisRecordMetadata") or {}
    try:
        enriched, partition_keys = enrich(data_b64, meta, record.get("approximateArrivalTimestamp"))
    except ContractError as exc:
        log.error(
            "ProcessingFailed record %s (shard %s, sequence %s): %s",
            record_id,
            meta.get("shardId"),
            meta.get("sequenceNumber"),
            exc.reason,
        )
        return {"recordId": record_id, "result": "ProcessingFailed", "data": data_b64, "errorMessage": exc.reason}
    return {
        "recordId": record_id,
        "result": "Ok",
        "data": base64.b64encode(enriched).decode("ascii"),
        "metadata": {"partitionKeys": partition_keys},
    }


def enrich(data_b64: Any, meta: dict[str, Any], fallback_arrival_ms: Any) -> tuple[bytes, dict[str, str]]:
    """The enriched JSON line and its partition keys; ContractError with the reason if malformed."""
    try:
        raw = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ContractError(f"data is not valid base64: {exc}") from None
    parsed = parse_raw(raw)
    sequence = meta.get("sequenceNumber")
    shard = meta.get("shardId")
    if not isinstance(sequence, str) or not sequence or not isinstance(shard, str) or not shard:
        raise ContractError("kinesisRecordMetadata lacks sequenceNumber/shardId (not a Kinesis-sourced record)")
    arrival_ms = meta.get("approximateArrivalTimestamp", fallback_arrival_ms)
    if isinstance(arrival_ms, bool) or not isinstance(arrival_ms, int | float):
        raise ContractError("no approximateArrivalTimestamp (milliseconds) for the record")
    try:
        arrival = format_epoch_ms(round(arrival_ms))
    except (ValueError, OverflowError, OSError):
        raise ContractError(f"approximateArrivalTimestamp out of range: {arrival_ms!r}") from None
    out = dict(parsed)
    out["ArrivalTime"] = arrival
    out["SequenceNumber"] = sequence
    out["ShardId"] = shard
    line = json.dumps(out, separators=(",", ":"), ensure_ascii=False) + "\n"
    return line.encode("utf-8"), {"dt": arrival[:10], "hour": arrival[11:13]}
