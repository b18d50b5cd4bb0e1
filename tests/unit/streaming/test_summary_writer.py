"""The summary writer: Kinesis events from wildrydes-summary into DynamoDB, against a real moto server.

The only stand-in is ``FlakyDynamoDB``, a thin wrapper around the real client that throttles some
PutItem calls (moto never does), to test the retry logic.
"""

from __future__ import annotations

import base64
import json
import math
import random
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError

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


FIELDS = ("Name", "StatusTime", "Distance", "MinMagicPoints", "MaxMagicPoints", "MinHealthPoints",
          "MaxHealthPoints", "RecordCount", "WindowEnd")


def as_item(s: dict[str, Any]) -> dict[str, Any]:
    return {k: Decimal(repr(s[k])) if isinstance(s[k], float) else s[k] if k in ("Name", "StatusTime", "WindowEnd")
            else Decimal(s[k]) for k in FIELDS}


def fields(item: dict[str, Any]) -> dict[str, Any]:
    """The summary's own attributes of an item (not the parts it was merged from)."""
    return {k: item[k] for k in FIELDS}


def part(name: str, distances: list[float], magic: list[int], health: list[int], shard: str, first: int,
         minute: int = 21) -> dict[str, Any]:
    """The summary of one part of a minute, as the aggregator emits it."""
    from streaming.lambdas.aggregator import add_exact

    parts: list[float] = []
    for d in distances:
        add_exact(parts, d)
    return summary(name, minute, Distance=math.fsum(parts), DistanceParts=parts, MinMagicPoints=min(magic),
                   MaxMagicPoints=max(magic), MinHealthPoints=min(health), MaxHealthPoints=max(health),
                   RecordCount=len(distances), Partial=f"{shard}/{first}")


# --------------------------------------------------------------------------------------------- tests


def test_writes_one_item_per_summary_with_typed_attributes(table: str) -> None:
    summaries = [summary(name, minute) for name in ("Shadowfax", "Élan", "ユニコーン") for minute in (21, 22)]
    response = summary_writer.handler(event([record(s) for s in summaries]), Context())
    assert response == {"batchItemFailures": []}
    assert [fields(i) for i in scan(table)] == sorted((as_item(s) for s in summaries),
                                                       key=lambda i: (i["Name"], i["StatusTime"]))
    raw = boto3.client("dynamodb").get_item(
        TableName=table, Key={"Name": {"S": "Shadowfax"}, "StatusTime": {"S": "2026-11-25 18:21:00.000"}}
    )["Item"]
    assert raw["Distance"] == {"N": "1805.3700000000001"}  # reads back as the same float
    assert float(raw["Distance"]["N"]) == 1805.3700000000001
    assert raw["RecordCount"] == {"N": "60"} and raw["WindowEnd"] == {"S": "2026-11-25 18:22:00.000"}
    assert raw["PartCount"] == {"N": "1"} and list(raw["Partials"]["M"]) == ["whole"]  # written before parts


def test_a_new_minute_takes_one_conditional_write(table: str) -> None:
    calls: list[str] = []
    real = boto3.client("dynamodb")

    class Counting:
        def put_item(self, **kwargs: Any) -> dict[str, Any]:
            calls.append("put")
            return real.put_item(**kwargs)

        def get_item(self, **kwargs: Any) -> dict[str, Any]:
            calls.append("get")
            return real.get_item(**kwargs)

    summaries = [summary(f"Unicorn-{i:03d}") for i in range(100)]
    assert summary_writer.process(event([record(s) for s in summaries]), Context(), dynamodb=Counting()) == {
        "batchItemFailures": []
    }
    assert calls == ["put"] * 100
    assert len(scan(table)) == 100


def test_the_parts_of_a_minute_merge_exactly_in_any_order(table: str) -> None:
    """A parent and a child shard (and a window ended early) each aggregate part of a unicorn-minute: the
    item holds what one aggregation of all its records gives, bit for bit, however the parts arrive."""
    rng = random.Random(1)
    distances = [rng.uniform(29, 31) * 10 ** rng.randint(-8, 1) for _ in range(60)]  # sums that round
    magic = [rng.randint(100, 200) for _ in range(60)]
    health = [rng.randint(100, 200) for _ in range(60)]
    cuts = [(0, 17, "shardId-000000000000", 1), (17, 25, "shardId-000000000000", 18),
            (25, 60, "shardId-000000000001", 26)]
    parts = [part("Shadowfax", distances[a:b], magic[a:b], health[a:b], shard, first) for a, b, shard, first in cuts]
    # Adding the parts' rounded sums would not do: only their exact partials give the whole's sum.
    assert math.fsum(math.fsum(distances[a:b]) for a, b, *_ in cuts) != math.fsum(distances)
    whole = {"Distance": Decimal(repr(math.fsum(distances))), "RecordCount": 60,
             "MinMagicPoints": min(magic), "MaxMagicPoints": max(magic),
             "MinHealthPoints": min(health), "MaxHealthPoints": max(health)}
    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0, 2, 1]):  # the last one replays two parts
        boto3.client("dynamodb").delete_item(TableName=table, Key={"Name": {"S": "Shadowfax"},
                                                                    "StatusTime": {"S": parts[0]["StatusTime"]}})
        for index in order:
            assert summary_writer.handler(event([record(parts[index])]), Context()) == {"batchItemFailures": []}
        (item,) = scan(table)
        assert {k: item[k] for k in whole} == whole, order
        assert item["PartCount"] == 3 and len(item["Partials"]) == 3
    # Written together, in one batch, the same.
    boto3.client("dynamodb").delete_item(TableName=table, Key={"Name": {"S": "Shadowfax"},
                                                                "StatusTime": {"S": parts[0]["StatusTime"]}})
    assert summary_writer.handler(event([record(p) for p in parts]), Context()) == {"batchItemFailures": []}
    assert {k: scan(table)[0][k] for k in whole} == whole


def test_parts_merged_by_concurrent_writers_are_all_kept(table: str) -> None:
    """Writers merging parts of one minute at the same moment: the conditional write makes one of them merge
    again, and no part is lost."""
    parts = [part("Shadowfax", [30.0 + i], [150], [150], f"shardId-{i:012d}", 1) for i in range(8)]
    barrier = threading.Barrier(len(parts))

    def write(p: dict[str, Any]) -> dict[str, Any]:
        barrier.wait()
        return summary_writer.process(event([record(p)]), Context(), dynamodb=boto3.client("dynamodb"))

    threads = [threading.Thread(target=write, args=(p,)) for p in parts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (item,) = scan(table)
    assert item["RecordCount"] == 8 and item["Distance"] == Decimal(repr(math.fsum(30.0 + i for i in range(8))))
    assert item["PartCount"] == 8


def test_an_item_written_before_parts_existed_is_replaced(table: str) -> None:
    boto3.client("dynamodb").put_item(TableName=table, Item={
        "Name": {"S": "Shadowfax"}, "StatusTime": {"S": "2026-11-25 18:21:00.000"}, "Distance": {"N": "1"},
        "MinMagicPoints": {"N": "1"}, "MaxMagicPoints": {"N": "1"}, "MinHealthPoints": {"N": "1"},
        "MaxHealthPoints": {"N": "1"}, "RecordCount": {"N": "1"}, "WindowEnd": {"S": "2026-11-25 18:22:00.000"}})
    new = part("Shadowfax", [30.5, 31.5], [150, 151], [140, 141], SHARD, 7)
    assert summary_writer.handler(event([record(new)]), Context()) == {"batchItemFailures": []}
    (item,) = scan(table)
    assert item["RecordCount"] == 2 and item["Distance"] == Decimal("62") and item["PartCount"] == 1


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
    """The real client, except that the first ``failing_calls`` PutItem calls are throttled."""

    def __init__(self, real: Any, failing_calls: int = 1) -> None:
        self.real = real
        self.failing_calls = failing_calls
        self.calls = 0
        self.lock = threading.Lock()

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            self.calls += 1
            throttled = self.calls <= self.failing_calls
        if throttled:
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                              "PutItem")
        return self.real.put_item(**kwargs)

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        return self.real.get_item(**kwargs)


def test_throttled_writes_are_retried_until_written(table: str) -> None:
    summaries = [summary(f"U{i:02d}") for i in range(30)]
    flaky = FlakyDynamoDB(boto3.client("dynamodb"), failing_calls=5)
    sleeps: list[float] = []
    response = summary_writer.process(
        event([record(s) for s in summaries]), Context(), dynamodb=flaky, sleep=sleeps.append
    )
    assert response == {"batchItemFailures": []}
    assert flaky.calls == 35 and len(sleeps) == 5
    assert all(0 <= s <= summary_writer.BACKOFF.cap for s in sleeps)
    assert len(scan(table)) == 30


def test_summaries_never_written_are_reported_as_batch_item_failures(table: str) -> None:
    records = [record(summary(f"U{i:02d}")) for i in range(3)]
    # U01's second part comes after its first in the batch: when the first fails, both are reported.
    records.append(record(part("U01", [30.0], [150], [150], "shardId-000000000001", 9)))
    flaky = FlakyDynamoDB(boto3.client("dynamodb"), failing_calls=10**6)
    sleeps: list[float] = []
    response = summary_writer.process(event(records), Context(), dynamodb=flaky, sleep=sleeps.append)
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert failed == sorted((r["kinesis"]["sequenceNumber"] for r in records), key=int)
    assert scan(table) == []
    assert flaky.calls == 3 * summary_writer.BACKOFF.attempts


def test_retry_time_is_bounded_by_the_lambda_deadline(table: str) -> None:
    flaky = FlakyDynamoDB(boto3.client("dynamodb"), failing_calls=10**6)
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


class InFlight:
    """A DynamoDB client whose PutItems each wait (up to 10 s) until ``expected`` of them are in flight at once."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.now = self.most = self.calls = 0
        self.lock = threading.Lock()
        self.reached = threading.Event()

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            self.calls += 1
            self.now += 1
            self.most = max(self.most, self.now)
            if self.most >= self.expected:
                self.reached.set()
        self.reached.wait(10)
        with self.lock:
            self.now -= 1
        return {}


@pytest.mark.parametrize("setting", ["3", "12"])
def test_the_writes_in_flight_follow_write_concurrency(setting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("WRITE_CONCURRENCY", setting)
    dynamodb = InFlight(int(setting))
    response = summary_writer.process(event([record(summary(f"u{i}")) for i in range(24)]), Context(),
                                      dynamodb=dynamodb)
    assert response == {"batchItemFailures": []}
    assert dynamodb.reached.is_set() and dynamodb.most == int(setting) and dynamodb.calls == 24


def test_without_write_concurrency_the_writer_keeps_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WRITE_CONCURRENCY", raising=False)
    assert summary_writer.write_concurrency() == summary_writer.CONCURRENCY == 8


@pytest.mark.parametrize("setting", ["0", "65", "eight", "-1"])
def test_a_bad_write_concurrency_is_a_clear_error(setting: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("WRITE_CONCURRENCY", setting)
    with pytest.raises(RuntimeError, match=f"WRITE_CONCURRENCY='{setting}': expected a number of writes from 1 to 64"):
        summary_writer.process(event([record(summary())]), Context(), dynamodb=InFlight(1))


@pytest.mark.parametrize(
    ("value", "text"), [(0.0, "0.0"), (1e-07, "0.0000001"), (1805.37, "1805.37"), (3e20, "300000000000000000000")]
)
def test_numbers_are_written_without_exponent_and_read_back_exactly(value: float, text: str) -> None:
    assert summary_writer.number(value) == text
    assert float(summary_writer.number(value)) == value


def test_the_writers_client_skips_client_side_validation_and_dynamodb_still_refuses_a_bad_item(
        table: str) -> None:
    bad = {"Name": {"S": "u"}, "StatusTime": {"S": "t"}, "RecordCount": {"N": 60}}  # N must be a string
    with pytest.raises(ParamValidationError):  # other callers keep botocore's check
        clients.get("dynamodb").put_item(TableName=table, Item=bad)
    with pytest.raises(ClientError) as refused:  # the writer's goes to the service, which refuses it
        clients.get("dynamodb", validate=False).put_item(TableName=table, Item=bad)
    assert refused.value.response["Error"]["Code"] == "SerializationException"
