"""The tumbling-window aggregator, driven with AWS-shaped events.

AWS calls (PutRecords to the summary stream, SendMessageBatch to the quarantine queue) go to a real
moto server started for this module; the only stand-in is ``FlakyKinesis``, a thin wrapper around the
real client that makes some entries of a PutRecords call fail (moto never does), to test the re-send
logic.
"""

from __future__ import annotations

import base64
import json
import math
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from streaming.lambdas import aggregator, clients, quarantine
from streaming.lambdas.kinesis_put import PutRecordsError
from streaming.producer.simulation import simulate

WINDOW = {"start": "2026-11-25T18:21:00Z", "end": "2026-11-25T18:22:00Z"}
WINDOW_START_S = 1_795_630_860.0  # 2026-11-25 18:21:00 UTC
SHARD = "shardId-000000000000"
SOURCE_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes"


# --------------------------------------------------------------------------------------- moto server


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    clients.reset()
    yield
    clients.reset()


@pytest.fixture
def summary_stream(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"summary-{uuid.uuid4().hex[:8]}"
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name)
    monkeypatch.setenv("SUMMARY_STREAM", name)
    return name


@pytest.fixture
def queue_url(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    url = boto3.client("sqs").create_queue(QueueName=f"quarantine-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    monkeypatch.setenv("QUARANTINE_QUEUE_URL", url)
    return url


def read_stream(name: str) -> list[dict[str, Any]]:
    kinesis = boto3.client("kinesis")
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    out = []
    for shard in shards:
        iterator = kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            out += [{"data": exact_parts_checked(json.loads(r["Data"])), "key": r["PartitionKey"]}
                    for r in response["Records"]]
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")
    return out


def exact_parts_checked(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without its DistanceParts, once they are checked to sum exactly to its Distance."""
    parts = summary.pop("DistanceParts")
    assert parts and math.fsum(parts) == summary["Distance"]
    return summary


def read_queue(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    out: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return out
        out += [json.loads(m["Body"]) for m in messages]
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


# -------------------------------------------------------------------------------------------- events


_seq = iter(range(10**6))


def kinesis_record(data: bytes | dict[str, Any] | str, arrival: float, key: str = "Shadowfax") -> dict[str, Any]:
    if isinstance(data, dict):
        data = json.dumps(data).encode()
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode()
    sequence = f"4959033827149025660855969253836157109592157598913658{next(_seq):04d}"
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": key,
            "sequenceNumber": sequence,
            "data": encoded,
            "approximateArrivalTimestamp": arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{SHARD}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/aggregator",
        "awsRegion": "us-east-1",
        "eventSourceARN": SOURCE_ARN,
    }


def window_event(
    records: list[dict[str, Any]], state: dict[str, Any] | None, final: bool = False, window: dict[str, str] = WINDOW
) -> dict[str, Any]:
    return {
        "Records": records,
        "window": dict(window),
        "state": state if state is not None else {},
        "shardId": SHARD,
        "eventSourceARN": SOURCE_ARN,
        "isFinalInvokeForWindow": final,
        "isWindowTerminatedEarly": False,
    }


def over_the_wire(response: dict[str, Any]) -> dict[str, Any]:
    """AWS serialises the returned state to JSON and hands it back on the next invocation."""
    assert set(response) == {"state", "batchItemFailures"}
    assert response["batchItemFailures"] == []
    return json.loads(json.dumps(response["state"]))


class Context:
    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms
        self.function_name = "wildrydes-aggregator"
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def fleet_records(unicorns: int = 5, ticks: int = 60) -> list[dict[str, Any]]:
    """Seeded fleet records, one a second per unicorn, all arriving within WINDOW."""
    readings = simulate(unicorns, 7, int(WINDOW_START_S * 1000), ticks)
    return [
        kinesis_record(r.encode(), WINDOW_START_S + (i // unicorns) + (i % unicorns) / 1000, r.name)
        for i, r in enumerate(readings)
    ]


def expected_summaries(records: list[dict[str, Any]], window_end: str = "2026-11-25 18:22:00.000",
                       first: dict[str, Any] | None = None) -> list[dict]:
    """``first``: the first record of the window's state (the part's name), by default the first one given."""
    part = f"{SHARD}/{(first or records[0])['kinesis']['sequenceNumber']}"
    by_name: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        parsed = json.loads(base64.b64decode(record["kinesis"]["data"]))
        by_name.setdefault(parsed["Name"], []).append(parsed)
    return [
        {
            "Name": name,
            "StatusTime": "2026-11-25 18:21:00.000",
            "Distance": math.fsum(r["Distance"] for r in rows),
            "MinMagicPoints": min(r["MagicPoints"] for r in rows),
            "MaxMagicPoints": max(r["MagicPoints"] for r in rows),
            "MinHealthPoints": min(r["HealthPoints"] for r in rows),
            "MaxHealthPoints": max(r["HealthPoints"] for r in rows),
            "RecordCount": len(rows),
            "WindowEnd": window_end,
            "Partial": part,
        }
        for name, rows in sorted(by_name.items())
    ]


def run_window(records: list[dict[str, Any]], batch: int, *, final_separately: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {}
    chunks = [records[i : i + batch] for i in range(0, len(records), batch)]
    for i, chunk in enumerate(chunks):
        final = not final_separately and i == len(chunks) - 1
        state = over_the_wire(aggregator.handler(window_event(chunk, state, final=final), Context()))
    if final_separately:
        state = over_the_wire(aggregator.handler(window_event([], state, final=True), Context()))
    return state


# --------------------------------------------------------------------------------------------- tests


def test_state_carried_across_invocations_and_final_invocation_emits(summary_stream: str) -> None:
    records = fleet_records(unicorns=5, ticks=60)
    state: dict[str, Any] = {}
    for chunk in (records[:100], records[100:250], records[250:]):
        response = aggregator.handler(window_event(chunk, state), Context())
        state = over_the_wire(response)
        assert read_stream(summary_stream) == []  # nothing before the final invocation
    assert sum(entry[5] for entry in state["u"].values()) == 300
    assert state["_quarantined"] == 0

    aggregator.handler(window_event([], state, final=True), Context())
    emitted = read_stream(summary_stream)
    assert [e["data"] for e in emitted] == expected_summaries(records)
    assert [e["key"] for e in emitted] == [e["data"]["Name"] for e in emitted]  # partition key = Name
    assert all(e["data"]["RecordCount"] == 60 for e in emitted)


def test_batch_boundaries_do_not_change_a_single_bit(summary_stream: str) -> None:
    records = fleet_records(unicorns=3, ticks=60)
    run_window(records, batch=1000)
    run_window(records, batch=7)
    run_window(records, batch=100, final_separately=False)  # final invocation carrying records
    emitted = [e["data"] for e in read_stream(summary_stream)]
    assert len(emitted) == 9
    one, sevens, with_final = emitted[0:3], emitted[3:6], emitted[6:9]
    assert one == sevens == with_final == expected_summaries(records)
    # exact: the correctly rounded sum, whatever the order
    parsed = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in records]
    distances = [p["Distance"] for p in parsed if p["Name"] == one[0]["Name"]]
    assert len(distances) == 60
    assert one[0]["Distance"] == math.fsum(distances) == math.fsum(reversed(distances))


def test_empty_final_invocation_still_emits(summary_stream: str) -> None:
    records = fleet_records(unicorns=2, ticks=5)
    state = over_the_wire(aggregator.handler(window_event(records, None), Context()))
    event = window_event([], state, final=True)
    del event["Records"]  # no Records key at all is an empty invocation too
    aggregator.handler(event, Context())
    assert [e["data"] for e in read_stream(summary_stream)] == expected_summaries(records)


def test_empty_final_invocation_with_empty_state_emits_nothing(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUMMARY_STREAM", raising=False)  # not even needed
    response = aggregator.handler(window_event([], {}, final=True), Context())
    assert response == {"state": {"u": {}, "_quarantined": 0}, "batchItemFailures": []}


def test_window_edges_arrival_time_decides_not_status_time(summary_stream: str) -> None:
    base = {"Name": "Shadowfax", "Latitude": 40.7, "Longitude": -73.9, "HealthPoints": 150, "MagicPoints": 150}
    records = [
        # sensor stamped in the previous minute, arrived exactly at the window start: belongs here
        kinesis_record({**base, "StatusTime": "2026-11-25 18:20:59.950", "Distance": 30.0}, WINDOW_START_S),
        # last millisecond of the window
        kinesis_record({**base, "StatusTime": "2026-11-25 18:21:59.998", "Distance": 29.5}, WINDOW_START_S + 59.999),
    ]
    state = over_the_wire(aggregator.handler(window_event(records, {}), Context()))
    aggregator.handler(window_event([], state, final=True), Context())
    (summary,) = [e["data"] for e in read_stream(summary_stream)]
    assert summary["StatusTime"] == "2026-11-25 18:21:00.000"
    assert summary["WindowEnd"] == "2026-11-25 18:22:00.000"
    assert summary["RecordCount"] == 2 and summary["Distance"] == 59.5


def test_record_outside_the_window_is_aggregated_as_given_and_logged(
    summary_stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    (late,) = fleet_records(unicorns=1, ticks=1)
    late["kinesis"]["approximateArrivalTimestamp"] = WINDOW_START_S + 60.0  # first instant of the next window
    state = over_the_wire(aggregator.handler(window_event([late], {}), None))  # context may be absent
    assert sum(e[5] for e in state["u"].values()) == 1  # the runtime decides windows; the handler trusts it
    assert "1 record(s) arrived outside window" in caplog.text


def test_window_start_with_milliseconds_and_offset_is_formatted_in_utc(summary_stream: str) -> None:
    window = {"start": "2026-11-25T19:21:00.000+01:00", "end": "2026-11-25T19:22:00.000+01:00"}
    records = fleet_records(unicorns=1, ticks=2)
    state = over_the_wire(aggregator.handler(window_event(records, {}, window=window), Context()))
    aggregator.handler(window_event([], state, final=True, window=window), Context())
    (summary,) = [e["data"] for e in read_stream(summary_stream)]
    assert (summary["StatusTime"], summary["WindowEnd"]) == ("2026-11-25 18:21:00.000", "2026-11-25 18:22:00.000")


def test_consecutive_windows_start_fresh(summary_stream: str) -> None:
    first = fleet_records(unicorns=2, ticks=3)
    state = over_the_wire(aggregator.handler(window_event(first, {}, final=True), Context()))
    assert sum(e[5] for e in state["u"].values()) == 6
    nxt = {"start": "2026-11-25T18:22:00Z", "end": "2026-11-25T18:23:00Z"}
    aggregator.handler(window_event(first[:2], {}, final=True, window=nxt), Context())  # AWS: fresh state
    emitted = [e["data"] for e in read_stream(summary_stream)]
    assert [(s["StatusTime"], s["RecordCount"]) for s in emitted] == [
        ("2026-11-25 18:21:00.000", 3),
        ("2026-11-25 18:21:00.000", 3),
        ("2026-11-25 18:22:00.000", 1),
        ("2026-11-25 18:22:00.000", 1),
    ]


def test_malformed_records_are_counted_and_quarantined_good_ones_still_aggregate(
    summary_stream: str, queue_url: str
) -> None:
    good = fleet_records(unicorns=2, ticks=10)
    valid = json.loads(base64.b64decode(good[0]["kinesis"]["data"]))
    bad = [
        kinesis_record("***not base64***", WINDOW_START_S + 1),
        kinesis_record(b"{not json", WINDOW_START_S + 2),
        kinesis_record(json.dumps({**valid, "Latitude": float("nan")}).encode(), WINDOW_START_S + 3),
        kinesis_record({**valid, "HealthPoints": True}, WINDOW_START_S + 4),
        kinesis_record({k: v for k, v in valid.items() if k != "MagicPoints"}, WINDOW_START_S + 5),
        kinesis_record({**valid, "Distance": 5000.0}, WINDOW_START_S + 6),
    ]
    mixed = good[:7] + bad[:3] + good[7:] + bad[3:]
    response = aggregator.handler(window_event(mixed, {}), Context())
    assert response["batchItemFailures"] == []  # a malformed record never fails the batch
    state = over_the_wire(response)
    assert state["_quarantined"] == 6
    aggregator.handler(window_event([], state, final=True), Context())
    assert [e["data"] for e in read_stream(summary_stream)] == expected_summaries(good)

    messages = sorted(read_queue(queue_url), key=lambda m: m["sequenceNumber"])
    assert len(messages) == 6
    by_seq = {r["kinesis"]["sequenceNumber"]: r for r in bad}
    for message in messages:
        record = by_seq[message["sequenceNumber"]]["kinesis"]
        assert message["data"] == record["data"]
        assert message["shardId"] == SHARD
        assert message["approximateArrivalTimestamp"] == record["approximateArrivalTimestamp"]
        assert message["source"] == "aggregator" and message["window"] == WINDOW
        assert message["reason"]
    reasons = [m["reason"] for m in messages]
    assert "base64" in reasons[0] and "not valid JSON" in reasons[1]
    assert "NaN is not a number" in reasons[2]
    assert any("HealthPoints must be an integer, got boolean" in r for r in reasons)
    assert any("missing field 'MagicPoints'" in r for r in reasons)
    assert any("Distance out of range" in r for r in reasons)


def test_quarantine_queue_given_as_an_arn(summary_stream: str, queue_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    monkeypatch.setenv("QUARANTINE_QUEUE_URL", arn)
    quarantine._queue_urls.clear()
    state = over_the_wire(aggregator.handler(window_event([kinesis_record(b"[]", WINDOW_START_S)], {}), Context()))
    assert state["_quarantined"] == 1
    (message,) = read_queue(queue_url)
    assert message["reason"] == "record must be a JSON object, got array"


def test_partition_keys_without_a_utf8_form_are_quarantined_not_a_failed_batch(summary_stream: str,
                                                                              queue_url: str) -> None:
    """A producer keying by a Name that holds a lone surrogate: boto3 sends the key JSON-escaped and Kinesis
    stores it. Quarantining it must not fail the invocation (the batch would be retried, then dead-lettered)."""
    keys = {"Keyed-\ud83e", "Nonchar-\uffff"}
    records = [kinesis_record(b'{"Name": "Keyed-\\ud83e"}', WINDOW_START_S + 1, key="Keyed-\ud83e"),
               kinesis_record(b"{not json", WINDOW_START_S + 2, key="Nonchar-\uffff")]
    response = aggregator.handler(window_event(records, {}), Context())
    assert response["batchItemFailures"] == []
    assert over_the_wire(response)["_quarantined"] == 2
    messages = read_queue(queue_url)
    assert {m["partitionKey"] for m in messages} == keys
    assert any("lone surrogate" in m["reason"] for m in messages)


def test_without_a_quarantine_queue_malformed_records_are_logged(
    aws: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("QUARANTINE_QUEUE_URL", raising=False)
    state = over_the_wire(aggregator.handler(window_event([kinesis_record(b"nope", WINDOW_START_S)], {}), Context()))
    assert state["_quarantined"] == 1
    assert "quarantined record: not valid JSON" in caplog.text
    assert "QUARANTINE_QUEUE_URL not set" in caplog.text


def test_a_window_ended_early_emits_its_part_and_the_rest_is_a_new_part(summary_stream: str) -> None:
    """Lambda ends a window early when its state passes 1 MB (no error here, whatever the size): each part
    of the minute carries its own name, the shard and the first record of its state."""
    records = fleet_records(unicorns=3, ticks=40)
    first = over_the_wire(aggregator.handler(window_event(records[:60], {}), Context()))
    early = {**window_event([], first, final=True), "isWindowTerminatedEarly": True}
    aggregator.handler(early, Context())
    second = over_the_wire(aggregator.handler(window_event(records[60:], {}), Context()))
    aggregator.handler(window_event([], second, final=True), Context())
    emitted = [e["data"] for e in read_stream(summary_stream)]
    assert emitted == expected_summaries(records[:60]) + expected_summaries(records[60:])
    assert emitted[0]["Partial"] != emitted[3]["Partial"]


def test_a_large_state_is_carried_without_error(aws: None) -> None:
    base = {"StatusTime": "2026-11-25 18:21:00.000", "Latitude": 40.7, "Longitude": -73.9, "Distance": 30.123456789,
            "HealthPoints": 150, "MagicPoints": 150}  # fmt: skip
    records = [kinesis_record({**base, "Name": f"{i:06d}-" + "u" * 57}, WINDOW_START_S + i / 10_000)
               for i in range(12_000)]
    state = over_the_wire(aggregator.handler(window_event(records, {}), Context()))
    assert len(json.dumps(state)) > 1_000_000 and len(state["u"]) == 12_000


def test_input_state_is_not_mutated(aws: None) -> None:
    records = fleet_records(unicorns=2, ticks=3)
    state = over_the_wire(aggregator.handler(window_event(records[:2], {}), Context()))
    snapshot = json.dumps(state)
    aggregator.handler(window_event(records[2:], state), Context())
    assert json.dumps(state) == snapshot  # a retry with the same event sees the same state


def test_state_from_elsewhere_is_refused(aws: None) -> None:
    with pytest.raises(aggregator.MalformedStateError):
        aggregator.handler(window_event([], {"1": 282, "2": 715}), Context())


def test_event_without_window_is_refused(aws: None) -> None:
    event = window_event([], {})
    del event["window"]
    with pytest.raises(ValueError, match="not a tumbling-window event"):
        aggregator.handler(event, Context())


# ------------------------------------------------------------------------ PutRecords partial failure


class FlakyKinesis:
    """The real client, except that the entries at ``fail_indexes`` of the first ``failing_calls``
    PutRecords calls are not sent and come back with an ErrorCode, as a throttled shard reports them."""

    def __init__(self, real: Any, fail_indexes: set[int], failing_calls: int = 1) -> None:
        self.real = real
        self.fail_indexes = fail_indexes
        self.failing_calls = failing_calls
        self.calls: list[int] = []

    def put_records(self, **kwargs: Any) -> dict[str, Any]:
        records = kwargs.pop("Records")
        self.calls.append(len(records))
        if len(self.calls) > self.failing_calls:
            return self.real.put_records(Records=records, **kwargs)
        passing = [r for i, r in enumerate(records) if i not in self.fail_indexes]
        results = iter(self.real.put_records(Records=passing, **kwargs)["Records"]) if passing else iter(())
        merged = [
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard"}
            if i in self.fail_indexes
            else next(results)
            for i in range(len(records))
        ]
        return {"FailedRecordCount": len(self.fail_indexes & set(range(len(records)))), "Records": merged}


def test_partial_putrecords_failure_resends_exactly_the_failed_entries(summary_stream: str) -> None:
    records = fleet_records(unicorns=5, ticks=3)
    state = over_the_wire(aggregator.handler(window_event(records, {}), Context()))
    flaky = FlakyKinesis(boto3.client("kinesis"), fail_indexes={1, 3})
    sleeps: list[float] = []
    aggregator.process(window_event([], state, final=True), Context(), kinesis=flaky, sleep=sleeps.append)
    assert flaky.calls == [5, 2]  # the second call carries exactly the two failed entries
    assert len(sleeps) == 1
    emitted = sorted((e["data"] for e in read_stream(summary_stream)), key=lambda s: s["Name"])
    assert emitted == expected_summaries(records)  # each exactly once


def test_persistent_putrecords_failure_raises_so_the_final_invoke_is_retried(summary_stream: str) -> None:
    records = fleet_records(unicorns=3, ticks=1)
    state = over_the_wire(aggregator.handler(window_event(records, {}), Context()))
    flaky = FlakyKinesis(boto3.client("kinesis"), fail_indexes={0}, failing_calls=10**6)
    sleeps: list[float] = []
    with pytest.raises(PutRecordsError, match=r"1 of 3 records still failing after 8 attempts"):
        aggregator.process(window_event([], state, final=True), Context(), kinesis=flaky, sleep=sleeps.append)
    assert len(flaky.calls) == aggregator.EMIT_BACKOFF.attempts
    assert sum(sleeps) <= aggregator.EMIT_BACKOFF.worst_case_total() < 10  # bounded backoff


def test_retries_stop_at_the_lambda_deadline(summary_stream: str) -> None:
    records = fleet_records(unicorns=2, ticks=1)
    state = over_the_wire(aggregator.handler(window_event(records, {}), Context()))
    flaky = FlakyKinesis(boto3.client("kinesis"), fail_indexes={0}, failing_calls=10**6)
    with pytest.raises(PutRecordsError):
        # 3.2 s left, 3 s safety margin: at most 0.2 s of backoff fits
        aggregator.process(window_event([], state, final=True), Context(3_200), kinesis=flaky, sleep=time.sleep)
    assert len(flaky.calls) < aggregator.EMIT_BACKOFF.attempts


def test_missing_summary_stream_setting_fails_the_final_invoke(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUMMARY_STREAM", raising=False)
    state = over_the_wire(aggregator.handler(window_event(fleet_records(1, 1), {}), Context()))
    with pytest.raises(RuntimeError, match="SUMMARY_STREAM is not set"):
        aggregator.handler(window_event([], state, final=True), Context())


def test_handler_imports_only_stdlib_and_boto3() -> None:
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore"}
    for path in Path(aggregator.__file__).parent.glob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if line.startswith("import "):
                assert words[1].split(".")[0] in allowed, f"{path.name}: {line}"
            elif line.startswith("from ") and not words[1].startswith("."):
                assert words[1].split(".")[0] in allowed | {"__future__"}, f"{path.name}: {line}"


@pytest.fixture
def map_stream(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"map-{uuid.uuid4().hex[:8]}"
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name)
    monkeypatch.setenv("MAP_STREAM", name)
    return name


def raw_stream(name: str) -> list[tuple[str, dict[str, Any]]]:
    kinesis = boto3.client("kinesis")
    shard = kinesis.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=10_000)["Records"]
    return [(r["PartitionKey"], json.loads(r["Data"])) for r in records]


def test_each_batch_relays_each_unicorns_latest_reading_to_the_map(summary_stream: str, map_stream: str) -> None:
    records = fleet_records(unicorns=3, ticks=4)
    bad = kinesis_record(b"{not json", WINDOW_START_S + 5)
    aggregator.handler(window_event([*records[:6], bad], {}), Context())
    aggregator.handler(window_event(records[6:], {}), Context())
    readings = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in records]
    relayed = raw_stream(map_stream)
    expected = [(r["Name"], r) for r in readings[3:6]] + [(r["Name"], r) for r in readings[9:12]]
    assert sorted(relayed, key=lambda x: (x[1]["StatusTime"], x[0])) == sorted(
        expected, key=lambda x: (x[1]["StatusTime"], x[0]))


def test_a_failing_map_relay_is_logged_and_never_fails_the_batch(
    summary_stream: str, map_stream: str, caplog: pytest.LogCaptureFixture
) -> None:
    records = fleet_records(unicorns=2, ticks=2)
    flaky = FlakyKinesis(boto3.client("kinesis"), fail_indexes={0, 1}, failing_calls=10**6)
    response = aggregator.process(window_event(records, {}), Context(), kinesis=flaky, sleep=lambda s: None)
    assert response["batchItemFailures"] == [] and sum(e[5] for e in response["state"]["u"].values()) == 4
    assert len(flaky.calls) == aggregator.RELAY_BACKOFF.attempts
    assert "relayed not all 2 readings" in caplog.text and raw_stream(map_stream) == []
