"""The event objects AWS Lambda builds for Kinesis event source mappings. Pure functions."""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime
from typing import Any


def window_start_of(arrival: float, window_s: int) -> float:
    """Tumbling windows are aligned to multiples of their size since the epoch."""
    return math.floor(arrival / window_s) * window_s


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _base64(data: bytes | str) -> str:
    """Data as a client with raw parsing returns it (already base64 text), or as bytes."""
    return data if isinstance(data, str) else base64.b64encode(data).decode("ascii")


def arrival_seconds(record: dict[str, Any]) -> float:
    """boto3 parses ApproximateArrivalTimestamp into a datetime."""
    value = record["ApproximateArrivalTimestamp"]
    return value.timestamp() if isinstance(value, datetime) else float(value)


def kinesis_record(record: dict[str, Any], shard_id: str, stream_arn: str, region: str,
                   role_arn: str) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": _base64(record["Data"]),
            "approximateArrivalTimestamp": arrival_seconds(record),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def kinesis_event(records: list[dict[str, Any]], shard_id: str, stream_arn: str, region: str,
                  role_arn: str) -> dict[str, Any]:
    return {"Records": [kinesis_record(r, shard_id, stream_arn, region, role_arn) for r in records]}


def window_event(records: list[dict[str, Any]], shard_id: str, stream_arn: str, region: str, role_arn: str,
                 window_start: float, window_s: int, state: dict[str, Any], final: bool,
                 terminated_early: bool = False) -> dict[str, Any]:
    return {
        **kinesis_event(records, shard_id, stream_arn, region, role_arn),
        "window": {"start": iso(window_start), "end": iso(window_start + window_s)},
        "state": state,
        "shardId": shard_id,
        "eventSourceARN": stream_arn,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": terminated_early,
    }


def failure_destination_message(*, function_arn: str, condition: str, attempts: int, error_type: str | None,
                                shard_id: str, stream_arn: str, records: list[dict[str, Any]],
                                now: float) -> dict[str, Any]:
    """What Lambda sends to an OnFailure destination for a Kinesis batch it gives up on."""
    info: dict[str, Any] = {"shardId": shard_id, "batchSize": len(records), "streamArn": stream_arn}
    if records:
        info.update({
            "startSequenceNumber": records[0]["SequenceNumber"],
            "endSequenceNumber": records[-1]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": iso(arrival_seconds(records[0])),
            "approximateArrivalOfLastRecord": iso(arrival_seconds(records[-1])),
        })
    return {
        "requestContext": {"requestId": "local", "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": attempts},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": error_type},
        "version": "1.0",
        "timestamp": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "KinesisBatchInfo": info,
    }
