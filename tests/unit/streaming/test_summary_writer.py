"""The summary writer: Kinesis events from wildrydes-summary into DynamoDB, against a real moto server.

The only stand-in is ``FlakyDynamoDB``, a thin wrapper around the real client that leaves some items of
a BatchWriteItem call unwritten and returns them as UnprocessedItems (moto never does), to test the
retry logic.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest

from streaming.lambdas import clients, summary_writer

SHARD = "shardId-000000000000"


# --------------------------------------------------------------------------------------- moto server


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("QUARANTINE_QUEUE_URL", raising=False)
    clients.reset()
    yield
    clients.reset()


@pytest.fixture
def table(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"UnicornSensorData-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "Name", "KeyType": "HASH"}, {"AttributeName": "StatusTime", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "Name", "AttributeType": "S"},
            {"AttributeName": "StatusTime", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("TABLE_NAME", name)
    return name


def scan(name: str) -> list[dict[str, Any]]:
    items = boto3.resource("dynamodb").Table(name).scan()["Items"]
    return sorted(items, key=lambda i: (i["Name"], i["StatusTime"]))


# -------------------------------------------------------------------------------------------- events

_seq = iter(range(10**6))


def summary(name: str = "Shadowfax", minute: int = 21, **changes: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "StatusTime": f"2026-11-25 18:{minute:02d}:00.000",
        "Distance": 1805.3700000000001,
        "MinMagicPoints": 140,
        "MaxMagicPoints": 152,
        "MinHealthPoints": 98,
        "MaxHealthPoints": 150,
        "RecordCount": 60,
        "WindowEnd": f"2026-11-25 18:{minute + 1:02d}:00.000",
        **changes,
    }


def record(data: dict[str, Any] | bytes | str) -> dict[str, Any]:
    if isinstance(data, dict):
        data = json.dumps(data).encode()
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode()
    sequence = f"4959033827149025660855969253836157109592157598913658{next(_seq):04d}"
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "Shadowfax",
            "sequenceNumber": sequence,
            "data": encoded,
            "approximateArrivalTimestamp": 1795630920.123,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{SHARD}:{sequence}",
        "eventName": "aws:kinesis:record",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes-summary",
    }


def event(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Records": records}


class Context:
    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def as_item(s: dict[str, Any]) -> dict[str, Any]:
    return {
        **s,
        **{k: Decimal(repr(s[k])) if isinstance(s[k], float) else Decimal(s[k]) for k in s if k not in
           ("Name", "StatusTime", "WindowEnd")},
    }  # fmt: skip


# --------------------------------------------------------------------------------------------- tests


def test_writes_one_item_per_summary_with_typed_attributes(table: str) -> None:
    summaries = [summary(name, minute) for name in ("Shadowfax", "Élan", "ユニコーン") for minute in (21, 22)]
    response = summary_writer.handler(event([record(s) for s in summaries]), Context())
    assert response == {"batchItemFailures": []}
    assert scan(table) == sorted((as_item(s) for s in summaries), key=lambda i: (i["Name"], i["StatusTime"]))
    raw = boto3.client("dynamodb").get_item(
        TableName=table, Key={"Name": {"S": "Shadowfax"}, "StatusTime": {"S": "2026-11-25 18:21:00.000"}}
    )["Item"]
    assert raw["Distance"] == {"N": "1805.3700000000001"}  # reads back as the same float
    assert float(raw["Distance"]["N"]) == 1805.3700000000001
    assert raw["RecordCount"] == {"N": "60"} and raw["WindowEnd"] == {"S": "2026-11-25 18:22:00.000"}


def test_many_records_are_written_in_chunks_of_25(table: str) -> None:
    calls: list[int] = []
    real = boto3.client("dynamodb")

    class Counting:
        def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - AWS name
            calls.append(len(RequestItems[table]))
            return real.batch_write_item(RequestItems=RequestItems)

    summaries = [summary(f"Unicorn-{i:03d}") for i in range(100)]
    assert summary_writer.process(event([record(s) for s in summaries]), Context(), dynamodb=Counting()) == {
        "batchItemFailures": []
    }
    assert calls == [25, 25, 25, 25]
    assert len(scan(table)) == 100


def test_duplicate_keys_in_a_batch_are_deduplicated_last_wins(table: str) -> None:
    first = summary(RecordCount=59)
    replay = summary(RecordCount=60)
    records = [record(first), record(summary("Other")), record(replay)]
    assert summary_writer.handler(event(records), Context()) == {"batchItemFailures": []}
    items = scan(table)
    assert [(i["Name"], i["RecordCount"]) for i in items] == [("Other", 60), ("Shadowfax", 60)]


def test_replay_is_idempotent(table: str) -> None:
    batch = event([record(summary(n)) for n in ("A", "B", "C")])
    summary_writer.handler(batch, Context())
    before = scan(table)
    summary_writer.handler(batch, Context())
    summary_writer.handler(event([record(summary("B"))]), Context())
    assert scan(table) == before


def test_malformed_summaries_are_logged_and_skipped_not_failed(
    table: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = boto3.client("sqs").create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    monkeypatch.setenv("QUARANTINE_QUEUE_URL", queue)
    bad = [
        record(b"not json"),
        record("%%%"),
        record(summary(MinMagicPoints=200)),
        record({k: v for k, v in summary().items() if k != "WindowEnd"}),
    ]
    good = [record(summary("A")), record(summary("B"))]
    response = summary_writer.handler(event([good[0], *bad, good[1]]), Context())
    assert response == {"batchItemFailures": []}  # a poison record must not block the shard
    assert [i["Name"] for i in scan(table)] == ["A", "B"]
    assert "skipped 4 malformed summary record(s)" in caplog.text
    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    reasons = sorted(json.loads(m["Body"])["reason"] for m in messages)
    assert len(reasons) == 4
    assert any("MinMagicPoints > MaxMagicPoints" in r for r in reasons)
    assert any("missing field 'WindowEnd'" in r for r in reasons)
    assert all(json.loads(m["Body"])["source"] == "summary_writer" for m in messages)


class FlakyDynamoDB:
    """The real client, except that for the first ``failing_calls`` BatchWriteItem calls the last
    ``unprocessed`` requests are not written and come back as UnprocessedItems."""

    def __init__(self, real: Any, unprocessed: int, failing_calls: int = 1) -> None:
        self.real = real
        self.unprocessed = unprocessed
        self.failing_calls = failing_calls
        self.calls: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - AWS name
        ((table, requests),) = RequestItems.items()
        self.calls.append(len(requests))
        if len(self.calls) > self.failing_calls:
            return self.real.batch_write_item(RequestItems=RequestItems)
        cut = max(0, len(requests) - self.unprocessed)
        if cut:
            self.real.batch_write_item(RequestItems={table: requests[:cut]})
        return {"UnprocessedItems": {table: requests[cut:]}} if requests[cut:] else {"UnprocessedItems": {}}


def test_unprocessed_items_are_retried_until_written(table: str) -> None:
    summaries = [summary(f"U{i:02d}") for i in range(30)]
    flaky = FlakyDynamoDB(boto3.client("dynamodb"), unprocessed=4, failing_calls=2)
    sleeps: list[float] = []
    response = summary_writer.process(
        event([record(s) for s in summaries]), Context(), dynamodb=flaky, sleep=sleeps.append
    )
    assert response == {"batchItemFailures": []}
    assert flaky.calls == [25, 4, 4, 5]  # chunk 1: 25, its 4 unprocessed twice; chunk 2: 5
    assert len(sleeps) == 2 and all(0 <= s <= summary_writer.BACKOFF.cap for s in sleeps)
    assert len(scan(table)) == 30


def test_items_never_written_are_reported_as_batch_item_failures(table: str) -> None:
    summaries = [summary(f"U{i:02d}") for i in range(27)]
    records = [record(s) for s in summaries]
    # U24 appears twice: both records that carried it are reported.
    records.append(record(summary("U24", RecordCount=61)))
    flaky = FlakyDynamoDB(boto3.client("dynamodb"), unprocessed=2, failing_calls=10**6)
    sleeps: list[float] = []
    response = summary_writer.process(event(records), Context(), dynamodb=flaky, sleep=sleeps.append)
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    seq = [r["kinesis"]["sequenceNumber"] for r in records]
    # chunk 1 (U00..U24): U23 and U24 never written; chunk 2 (U25, U26): both never written
    assert failed == sorted([seq[23], seq[24], seq[25], seq[26], seq[27]], key=int)
    assert {i["Name"] for i in scan(table)} == {f"U{i:02d}" for i in range(23)}
    assert sum(sleeps) <= 2 * summary_writer.BACKOFF.worst_case_total()
    assert len(flaky.calls) == 2 * summary_writer.BACKOFF.attempts


def test_retry_time_is_bounded_by_the_lambda_deadline(table: str) -> None:
    flaky = FlakyDynamoDB(boto3.client("dynamodb"), unprocessed=1, failing_calls=10**6)
    started = time.monotonic()
    # 5.5 s left, 5 s safety margin: about 0.5 s for retries
    response = summary_writer.process(event([record(summary())]), Context(5_500), dynamodb=flaky)
    assert time.monotonic() - started < 1.5
    assert len(response["batchItemFailures"]) == 1


def test_missing_table_reports_every_record(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    records = [record(summary("A")), record(summary("B"))]
    response = summary_writer.handler(event(records), Context())
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [
        r["kinesis"]["sequenceNumber"] for r in records
    ]


def test_missing_table_setting_is_a_clear_error(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    with pytest.raises(RuntimeError, match="TABLE_NAME is not set"):
        summary_writer.handler(event([record(summary())]), Context())


@pytest.mark.parametrize(
    ("value", "text"), [(0.0, "0.0"), (1e-07, "0.0000001"), (1805.37, "1805.37"), (3e20, "300000000000000000000")]
)
def test_numbers_are_written_without_exponent_and_read_back_exactly(value: float, text: str) -> None:
    assert summary_writer.number(value) == text
    assert float(summary_writer.number(value)) == value
