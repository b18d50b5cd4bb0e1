"""Handlers the Lambda runtime tests deploy. Each appends what it saw to the JSON-lines file named by
its OUT_FILE environment variable, so a test can assert on exactly what AWS-shaped events arrived."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any


def _record(entry: dict[str, Any]) -> None:
    with Path(os.environ["OUT_FILE"]).open("a") as out:
        out.write(json.dumps(entry) + "\n")


def _payloads(event: dict[str, Any]) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in event.get("Records", [])]


def collect(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _record({"data": _payloads(event), "env": os.environ.get("MARKER"), "function": context.function_name,
             "remaining_ms": context.get_remaining_time_in_millis(),
             "event_keys": sorted(event.get("Records", [{}])[0].keys()) if event.get("Records") else []})
    return {}


def fail_on_poison(event: dict[str, Any], context: Any) -> dict[str, Any]:
    data = _payloads(event)
    _record({"data": data})
    if "poison" in data:
        raise ValueError("poison record in batch")
    return {}


def always_fail(event: dict[str, Any], context: Any) -> None:
    _record({"data": _payloads(event)})
    raise RuntimeError("this function always fails")


def fail_item_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Reports the record 'flaky' as a batch item failure the first time it is seen."""
    data = _payloads(event)
    _record({"data": data})
    marker = Path(os.environ["OUT_FILE"] + ".seen")
    for record, payload in zip(event["Records"], data, strict=True):
        if payload == "flaky" and not marker.exists():
            marker.write_text("1")
            return {"batchItemFailures": [{"itemIdentifier": record["kinesis"]["sequenceNumber"]}]}
    return {"batchItemFailures": []}


def sleepy(event: dict[str, Any], context: Any) -> None:
    _record({"data": _payloads(event)})
    time.sleep(float(os.environ.get("SLEEP_S", "5")))


def count_window(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = dict(event.get("state") or {})
    for record in event.get("Records", []):
        state["count"] = state.get("count", 0) + 1
        state.setdefault("arrivals", []).append(record["kinesis"]["approximateArrivalTimestamp"])
    if event.get("isFinalInvokeForWindow"):
        _record({"window": event["window"], "state": state, "final": True, "shard": event["shardId"],
                 "records_in_final": len(event.get("Records", []))})
    return {"state": state, "batchItemFailures": []}
