"""The Firehose processing Lambda, with Firehose-shaped events from a Kinesis source."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from streaming.lambdas import archive_transform

GOOD: dict[str, Any] = {
    "Name": "Shadowfax",
    "StatusTime": "2026-11-25 18:21:01.427",
    "Latitude": 40.749167,
    "Longitude": -73.985184,
    "Distance": 30.27,
    "HealthPoints": 151,
    "MagicPoints": 149,
}
ARRIVAL_MS = 1_795_630_861_908  # 2026-11-25 18:21:01.908 UTC


def firehose_record(data: bytes | dict[str, Any] | str, arrival_ms: int = ARRIVAL_MS, n: int = 0) -> dict[str, Any]:
    if isinstance(data, dict):
        data = json.dumps(data).encode()
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode()
    return {
        "recordId": f"49546986683135544286507457936321625675700192471156785154{n:02d}",
        "approximateArrivalTimestamp": arrival_ms + 250,  # Firehose's own receive time: not the one we want
        "data": encoded,
        "kinesisRecordMetadata": {
            "shardId": "shardId-000000000003",
            "partitionKey": "Shadowfax",
            "approximateArrivalTimestamp": arrival_ms,
            "sequenceNumber": f"4959033827149025660855969253836157109592157598913658{n:04d}",
            "subsequenceNumber": 0,
        },
    }


def firehose_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "invocationId": "00540a87-5050-496a-84e4-e7d92bbaf5e2",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/wildrydes-archive",
        "sourceKinesisStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes",
        "region": "us-east-1",
        "records": records,
    }


def decode(result: dict[str, Any]) -> dict[str, Any]:
    text = base64.b64decode(result["data"]).decode()
    assert text.endswith("\n") and text.count("\n") == 1  # one JSON line
    return json.loads(text)


def test_valid_record_is_enriched_and_partitioned_by_arrival_time() -> None:
    (result,) = archive_transform.handler(firehose_event([firehose_record(GOOD)]), None)["records"]
    assert result["result"] == "Ok"
    assert result["recordId"] == firehose_record(GOOD)["recordId"]
    assert result["metadata"] == {"partitionKeys": {"dt": "2026-11-25", "hour": "18"}}
    assert decode(result) == {
        **GOOD,
        "ArrivalTime": "2026-11-25 18:21:01.908",
        "SequenceNumber": "49590338271490256608559692538361571095921575989136580000",
        "ShardId": "shardId-000000000003",
    }
    assert list(decode(result))[-3:] == ["ArrivalTime", "SequenceNumber", "ShardId"]


def test_partition_follows_arrival_not_status_time_across_midnight() -> None:
    # stamped 23:59:59.900 on the 25th, arrived 00:00:00.000 on the 26th
    late = {**GOOD, "StatusTime": "2026-11-25 23:59:59.900"}
    arrival = 1_795_651_200_000
    (result,) = archive_transform.handler(firehose_event([firehose_record(late, arrival)]), None)["records"]
    assert result["metadata"]["partitionKeys"] == {"dt": "2026-11-26", "hour": "00"}
    assert decode(result)["ArrivalTime"] == "2026-11-26 00:00:00.000"
    assert decode(result)["StatusTime"] == "2026-11-25 23:59:59.900"


def test_extra_fields_are_dropped_and_numbers_normalised() -> None:
    record = {**GOOD, "Distance": 30, "Latitude": 40, "Debug": {"x": 1}}
    (result,) = archive_transform.handler(firehose_event([firehose_record(record)]), None)["records"]
    out = decode(result)
    assert "Debug" not in out
    assert out["Distance"] == 30.0 and base64.b64decode(result["data"]).count(b'"Distance":30.0') == 1


def test_unicode_name_is_kept_as_utf8() -> None:
    (result,) = archive_transform.handler(firehose_event([firehose_record({**GOOD, "Name": "Élan 🦄"})]), None)[
        "records"
    ]
    assert "Élan 🦄".encode() in base64.b64decode(result["data"])
    assert decode(result)["Name"] == "Élan 🦄"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "not valid JSON"),
        ("!!!notbase64", "not valid base64"),
        ({**GOOD, "HealthPoints": "151"}, "HealthPoints must be an integer, got string"),
        ({**GOOD, "Distance": -3.0}, "Distance out of range"),
        ({k: v for k, v in GOOD.items() if k != "Name"}, "missing field 'Name'"),
        (json.dumps({**GOOD, "Longitude": float("inf")}).encode(), "Infinity is not a number"),
        (b"", "empty record"),
    ],
)
def test_malformed_records_are_processing_failed_with_the_reason_and_original_data(
    data: bytes | dict[str, Any] | str, reason: str
) -> None:
    record = firehose_record(data)
    (result,) = archive_transform.handler(firehose_event([record]), None)["records"]
    assert result["result"] == "ProcessingFailed"
    assert result["recordId"] == record["recordId"]
    assert result["data"] == record["data"]  # the original bytes, for the error prefix
    assert reason in result["errorMessage"]
    assert "metadata" not in result


def test_record_without_kinesis_metadata_fails_clearly() -> None:
    record = firehose_record(GOOD)
    del record["kinesisRecordMetadata"]
    (result,) = archive_transform.handler(firehose_event([record]), None)["records"]
    assert result["result"] == "ProcessingFailed"
    assert "kinesisRecordMetadata" in result["errorMessage"]


def test_a_mixed_batch_keeps_order_ids_and_never_drops() -> None:
    records = [
        firehose_record({**GOOD, "MagicPoints": i} if i % 3 else b"{broken", n=i) for i in range(1, 31)
    ]  # fmt: skip
    results = archive_transform.handler(firehose_event(records), None)["records"]
    assert [r["recordId"] for r in results] == [r["recordId"] for r in records]
    assert {r["result"] for r in results} == {"Ok", "ProcessingFailed"}
    assert sum(r["result"] == "ProcessingFailed" for r in results) == 10
    assert all(r["result"] != "Dropped" for r in results)
    ok = [decode(r) for r in results if r["result"] == "Ok"]
    assert [o["MagicPoints"] for o in ok] == [i for i in range(1, 31) if i % 3]


def test_empty_event() -> None:
    assert archive_transform.handler(firehose_event([]), None) == {"records": []}


def test_arrival_time_millisecond_formatting_is_exact() -> None:
    for ms, text in [
        (0, "1970-01-01 00:00:00.000"),
        (1_795_630_860_001, "2026-11-25 18:21:00.001"),
        (1_795_630_860_999, "2026-11-25 18:21:00.999"),
    ]:
        (result,) = archive_transform.handler(firehose_event([firehose_record(GOOD, ms)]), None)["records"]
        assert decode(result)["ArrivalTime"] == text
