"""The fleet simulator (pure), the PutRecords sender and ``wildrydes produce`` against a real moto server.

The only stand-ins are thin wrappers around the real Kinesis client that make some PutRecords entries
(or one whole call) fail the way a throttled shard does (moto never does), to test the re-send logic.
Sends that are read back use one lane: moto's Kinesis can give two concurrent PutRecords the same
sequence number and lose one record, which would test moto, not the sender. Two lanes are read back on
kinesalite in ``tests/stack/streaming/test_producer_acks.py``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from streaming.lambdas.contract import parse_raw
from streaming.lambdas.retry import Backoff
from streaming.producer import cli
from streaming.producer.sender import KinesisSender, SenderError
from streaming.producer.simulation import (
    MAX_LAT,
    MAX_LON,
    MIN_LAT,
    MIN_LON,
    START_LAT,
    START_LON,
    UNICORN_NAMES,
    Fleet,
    simulate,
    unicorn_names,
)

START_MS = 1_795_630_860_000  # 2026-11-25 18:21:00.000 UTC


# ------------------------------------------------------------------------------------------ simulator


def test_names_are_the_fixed_list_then_numbered_and_unique() -> None:
    assert unicorn_names(3) == ["Shadowfax", "Rocinante", "Bucephalus"]
    assert unicorn_names(20) == list(UNICORN_NAMES[:20])
    many = unicorn_names(100)
    assert len(set(many)) == 100
    assert many[len(UNICORN_NAMES)] == "Shadowfax-2" and many[-1].endswith("-5")


def test_same_seed_same_records_different_seed_different_records() -> None:
    a = [r.encode() for r in simulate(20, 42, START_MS, 120)]
    b = [r.encode() for r in simulate(20, 42, START_MS, 120)]
    c = [r.encode() for r in simulate(20, 43, START_MS, 120)]
    assert a == b
    assert a != c
    assert len(a) == 2400


def test_same_seed_in_a_fresh_interpreter_gives_the_same_records() -> None:
    code = (
        "from streaming.producer.simulation import simulate;"
        f"print(b''.join(r.encode() for r in simulate(5, 'seed', {START_MS}, 50)).hex())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert bytes.fromhex(out) == b"".join(r.encode() for r in simulate(5, "seed", START_MS, 50))


def test_a_unicorns_track_does_not_depend_on_fleet_size() -> None:
    small = simulate(3, 9, START_MS, 30)
    large = simulate(20, 9, START_MS, 30)
    assert [r for r in large if r.name in {"Shadowfax", "Rocinante", "Bucephalus"}] == small


def test_records_satisfy_the_contract_and_encode_as_json() -> None:
    for reading in simulate(25, 1, START_MS, 20):  # includes the unicode "Élan"
        data = reading.encode()
        assert json.loads(data) == reading.as_dict()
        assert parse_raw(data) == reading.as_dict()


def test_status_time_comes_from_the_clock_within_the_period() -> None:
    fleet = Fleet(20, 5)
    for clock in (START_MS, START_MS + 1000, START_MS + 2000):
        stamps = [r.status_time for r in fleet.tick(clock)]
        assert all(clock - 1000 < _ms(stamp) <= clock for stamp in stamps)
        assert len(set(stamps)) > 10  # each sensor is read at its own phase
    # a faster tick period keeps stamps within it
    assert all(START_MS - 100 < _ms(r.status_time) <= START_MS for r in Fleet(20, 5).tick(START_MS, 100))


def _ms(stamp: str) -> int:
    from datetime import UTC, datetime

    moment = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def test_movement_starts_in_midtown_moves_30_m_per_second_and_stays_in_the_city() -> None:
    readings = simulate(6, 11, START_MS, 4 * 3600)  # four hours: long enough to reach the edges
    first = readings[:6]
    for r in first:
        assert _metres(r.latitude, r.longitude, START_LAT, START_LON) < 400
    assert all(29.0 <= r.distance <= 31.0 for r in readings)
    assert all(MIN_LAT <= r.latitude <= MAX_LAT and MIN_LON <= r.longitude <= MAX_LON for r in readings)
    # successive positions are ~Distance apart (the reported distance is the distance moved)
    by_name: dict[str, list[Any]] = {}
    for r in readings:
        by_name.setdefault(r.name, []).append(r)
    steps = [
        (_metres(a.latitude, a.longitude, b.latitude, b.longitude), b.distance)
        for track in by_name.values()
        for a, b in zip(track, track[1:], strict=False)
    ]
    close = sum(abs(moved - reported) < 1.0 for moved, reported in steps)
    assert close / len(steps) > 0.99  # all but the odd bounce off the city's edge
    # they roam: someone gets far from Midtown, and the bearing drifts rather than being fixed
    assert max(_metres(r.latitude, r.longitude, START_LAT, START_LON) for r in readings) > 10_000


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dy = (lat2 - lat1) * 110540.0
    dx = (lon2 - lon1) * 111320.0 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)


def test_vitals_start_near_150_move_by_one_stay_bounded_and_sometimes_dip_below_100() -> None:
    readings = simulate(20, 3, START_MS, 3600)
    assert all(140 <= r.health <= 160 and 140 <= r.magic <= 160 for r in readings[:20])
    assert all(0 <= r.health <= 200 and 0 <= r.magic <= 200 for r in readings)
    steps: Counter[int] = Counter()
    previous: dict[str, Any] = {}
    for r in readings:
        if r.name in previous:
            p = previous[r.name]
            steps[r.health - p.health] += 1
            steps[r.magic - p.magic] += 1
        previous[r.name] = r
    assert set(steps) <= {-1, 0, 1}
    total = sum(steps.values())
    assert 0.45 < steps[0] / total < 0.55  # 50 % stay
    assert 0.2 < steps[-1] / total < 0.3 and 0.2 < steps[1] / total < 0.3
    low = {r.name for r in readings if r.health < 100 or r.magic < 100}
    assert 1 <= len(low) < 20  # some unicorns dip below 100 within an hour...
    below = sum(r.health < 100 or r.magic < 100 for r in readings) / len(readings)
    assert below < 0.15  # ...occasionally


def test_fleet_needs_a_unicorn() -> None:
    with pytest.raises(ValueError):
        Fleet(0, 1)


# --------------------------------------------------------------------------------------- moto server


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def make_stream(shards: int = 1) -> str:
    name = f"wildrydes-{uuid.uuid4().hex[:8]}"
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=name)
    return name


def read_stream(name: str) -> list[dict[str, Any]]:
    kinesis = boto3.client("kinesis")
    out = []
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            out += [{**r, "ShardId": shard["ShardId"]} for r in response["Records"]]
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")
    return out


class Recording:
    """The real client; records the size of each PutRecords call and optionally fails entries."""

    def __init__(
        self,
        real: Any,
        fail: set[int] | None = None,
        failing_calls: int = 0,
        raise_first: bool = False,
        fail_payloads: set[bytes] | None = None,
    ):
        self.real = real
        self.fail = fail or set()
        self.fail_payloads = fail_payloads or set()
        self.failing_calls = failing_calls
        self.raise_first = raise_first
        self.calls: list[list[bytes]] = []

    def put_records(self, **kwargs: Any) -> dict[str, Any]:
        records = kwargs.pop("Records")
        self.calls.append([r["Data"] for r in records])
        if self.raise_first and len(self.calls) == 1:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"},
                 "ResponseMetadata": {"HTTPStatusCode": 400}},
                "PutRecords",
            )  # fmt: skip
        failing = {i for i, r in enumerate(records) if r["Data"] in self.fail_payloads}
        if len(self.calls) <= self.failing_calls:
            failing |= self.fail
        if not failing:
            return self.real.put_records(Records=records, **kwargs)
        passing = [r for i, r in enumerate(records) if i not in failing]
        results = iter(self.real.put_records(Records=passing, **kwargs)["Records"] if passing else [])
        merged = [
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard"}
            if i in failing
            else next(results)
            for i in range(len(records))
        ]
        return {"FailedRecordCount": sum("ErrorCode" in m for m in merged), "Records": merged}


def entries(count: int, unicorns: int = 20) -> list[tuple[bytes, str]]:
    readings = simulate(unicorns, 1, START_MS, math.ceil(count / unicorns))[:count]
    return [(r.encode(), r.name) for r in readings]


# -------------------------------------------------------------------------------------------- sender


def test_everything_acknowledged_is_in_the_stream(aws: None) -> None:
    stream = make_stream(shards=2)
    client = Recording(boto3.client("kinesis"))
    data = entries(1234)
    with KinesisSender(stream, client, lanes=1, collect_acks=True) as sender:
        sender.add_many(data)
    assert sender.acknowledged == len(sender.acks) == 1234
    assert all(len(call) <= 500 for call in client.calls) and sum(map(len, client.calls)) == 1234
    stored = {(r["SequenceNumber"], r["ShardId"]): (r["Data"], r["PartitionKey"]) for r in read_stream(stream)}
    assert {(a.sequence_number, a.shard_id) for a in sender.acks} <= set(stored)
    assert Counter(stored.values()) == Counter(data)  # every record exactly once
    for ack in sender.acks:
        assert stored[(ack.sequence_number, ack.shard_id)][1] == ack.partition_key


def test_partial_failure_resends_exactly_the_failed_records(aws: None) -> None:
    stream = make_stream()
    client = Recording(boto3.client("kinesis"), fail={0, 7, 19}, failing_calls=1)
    data = entries(40)
    sleeps: list[float] = []
    with KinesisSender(stream, client, lanes=1, collect_acks=True, sleep=sleeps.append) as sender:
        sender.add_many(data)
    assert [len(c) for c in client.calls] == [40, 3]
    assert client.calls[1] == [data[0][0], data[7][0], data[19][0]]  # exactly the failed entries
    assert sender.stats.resent == 3 and sender.stats.throttled == 3 and len(sleeps) == 1
    assert sender.acknowledged == 40
    assert Counter((r["Data"], r["PartitionKey"]) for r in read_stream(stream)) == Counter(data)


def test_throttled_call_is_retried_with_backoff(aws: None) -> None:
    stream = make_stream()
    client = Recording(boto3.client("kinesis"), raise_first=True)
    sleeps: list[float] = []
    with KinesisSender(stream, client, lanes=1, sleep=sleeps.append) as sender:
        sender.add_many(entries(10))
    assert len(client.calls) == 2 and len(sleeps) == 1
    assert sender.acknowledged == 10 and len(read_stream(stream)) == 10


def test_persistent_failure_raises_and_acknowledges_nothing_it_did_not_write(aws: None) -> None:
    stream = make_stream()
    data = entries(10)
    client = Recording(boto3.client("kinesis"), fail_payloads={data[3][0]})
    sender = KinesisSender(stream, client, lanes=1, backoff=Backoff(attempts=4), sleep=lambda s: None)
    sender.add_many(data)
    with pytest.raises(SenderError, match=r"1 of 10 records still failing after 4 attempts") as info:
        sender.flush()
    assert "ProvisionedThroughputExceededException" in str(info.value)
    assert sender.acknowledged == 0 and sender.pending == 10  # the batch is not acknowledged as a whole
    assert [len(c) for c in client.calls] == [10, 1, 1, 1]
    with pytest.raises(SenderError):
        sender.add(b"{}", "x")  # the sender stays failed
    with pytest.raises(SenderError):
        sender.close()


def test_unknown_stream_is_an_immediate_clear_error(aws: None) -> None:
    sender = KinesisSender("no-such-stream", boto3.client("kinesis"), lanes=1)
    sender.add_many(entries(5))
    with pytest.raises(SenderError, match="ResourceNotFoundException .not retryable."):
        sender.flush()


def test_batches_respect_the_5_mib_limit(aws: None) -> None:
    stream = make_stream()
    client = Recording(boto3.client("kinesis"))
    blob = b"x" * 200_000
    with KinesisSender(stream, client, lanes=1) as sender:
        for i in range(60):
            sender.add(blob, f"k{i}")
    sizes = [sum(map(len, call)) for call in client.calls]
    assert all(size <= 5 * 1024 * 1024 for size in sizes) and sum(sizes) == 60 * 200_000
    assert len(client.calls) == 3


def test_oversized_record_is_refused_not_dropped() -> None:
    sender = KinesisSender("s", client=object(), lanes=1)
    with pytest.raises(SenderError, match="over the 1 MiB Kinesis limit"):
        sender.add(b"x" * (1024 * 1024), "k")
    sender.close()


def test_a_unicorn_always_goes_through_the_same_lane_in_order(aws: None) -> None:
    stream = make_stream()
    client = Recording(boto3.client("kinesis"))
    data = entries(200, unicorns=4)
    with KinesisSender(stream, client, lanes=3, max_records=7) as sender:
        sender.add_many(data)
    order: dict[str, list[bytes]] = {}
    for call in client.calls:
        for payload in call:
            order.setdefault(json.loads(payload)["Name"], []).append(payload)
    for name, sent in order.items():
        assert sent == [d for d, key in data if key == name]


# ----------------------------------------------------------------------------------------------- CLI


def test_produce_command_is_registered_with_its_options() -> None:
    parser = argparse.ArgumentParser(prog="wildrydes")
    sub = parser.add_subparsers(dest="command")
    cli.add_produce_command(sub)
    args = parser.parse_args(["produce"])
    assert (args.unicorns, args.rate, args.stream, args.duration, args.count) == (20, 1.0, "wildrydes", None, None)
    assert args.func is cli.run_produce
    with pytest.raises(SystemExit):
        parser.parse_args(["produce", "--duration", "5", "--count", "10"])
    with pytest.raises(SystemExit):
        parser.parse_args(["produce", "--unicorns", "0"])


def test_produce_count_is_deterministic_quiet_when_piped_and_ends_with_a_summary(aws: None) -> None:
    stream = make_stream()
    out, err = io.StringIO(), io.StringIO()
    parser = argparse.ArgumentParser()
    cli.configure_parser(parser)
    args = parser.parse_args(
        ["--count", "95", "--seed", "3", "--stream", stream, "--rate", "1000", "--in-flight", "1",
         "--start-time", "2026-11-25 18:21:00"]
    )  # fmt: skip
    assert cli.run_produce(args, out, err) == 0
    assert err.getvalue() == ""  # not a terminal: no progress
    (line,) = out.getvalue().splitlines()
    assert line.startswith(f"produce: 95 records acknowledged (20 unicorns, seed 3) to {stream} in ")
    expected = [r.encode() for r in simulate(20, 3, START_MS, 5, period_ms=1)][:95]
    assert [r["Data"] for r in read_stream(stream)] == expected


def test_produce_duration_stops_on_time(aws: None) -> None:
    stream = make_stream()
    out = io.StringIO()
    started = time.monotonic()
    parser = argparse.ArgumentParser()
    cli.configure_parser(parser)
    args = parser.parse_args(["--duration", "1.5", "--unicorns", "3", "--stream", stream, "--in-flight", "1"])
    assert cli.run_produce(args, out, io.StringIO()) == 0
    assert time.monotonic() - started < 4
    stored = read_stream(stream)
    assert len(stored) in (3, 6)  # ticks at t=0 and t=1 s (maybe only one on a slow start)
    assert "records acknowledged" in out.getvalue()


def test_produce_reports_delivery_failure_with_exit_status_1(aws: None) -> None:
    out, err = io.StringIO(), io.StringIO()
    parser = argparse.ArgumentParser()
    cli.configure_parser(parser)
    args = parser.parse_args(["--count", "5", "--stream", "missing-stream", "--in-flight", "1"])
    assert cli.run_produce(args, out, err) == 1
    assert "ResourceNotFoundException" in err.getvalue()
    assert "5 not acknowledged" in out.getvalue()
