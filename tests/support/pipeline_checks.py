"""What the fault tests prove after a crash: DynamoDB equals the aggregation computed independently from the
stream, and the archive holds every record of the stream, by sequence number (duplicates allowed)."""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow.parquet as pq

from localaws.supervisor.processes import alive
from tests.support.aggregation_oracle import actual_items, expected_items, read_stream
from tests.support.stack import WILDRYDES, LocalStack

TABLE = "UnicornSensorData"
STREAM = "wildrydes"


def wait_for(what: str, condition: Callable[[], Any], timeout: float, stack: LocalStack) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} not within {timeout:.0f}s; stack log:\n{stack.log_tail(5000)}")


def replacement(pid: int, current: Callable[[], int | None], timeout: float = 60.0) -> int | None:
    """After a kill of ``pid``: the pid of the process that replaced it, once ``pid`` was seen gone (a zombie counts
    as gone) and ``current()`` named another process seen running; None if that was not seen within the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = current()
        if not alive(pid) and new is not None and new != pid and alive(new):
            return new
        time.sleep(0.1)
    return None


def produce(stack: LocalStack, seed: int, seconds: float, unicorns: int = 8, rate: float = 5) -> subprocess.Popen[str]:
    """A seeded fleet writing into the stack's stream, as an outside client."""
    return subprocess.Popen([*WILDRYDES, "produce", "--unicorns", str(unicorns), "--rate", str(rate),
                             "--duration", str(seconds), "--seed", str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **stack.env})


def stream_sequence_numbers(kinesis: Any, stream: str = STREAM) -> set[str]:
    return {r["SequenceNumber"] for shard in kinesis.list_shards(StreamName=stream)["Shards"]
            for r in shard_records(kinesis, stream, shard["ShardId"])}


def shard_records(kinesis: Any, stream: str, shard_id: str) -> Iterator[dict[str, Any]]:
    """Every record of one shard, from its trim horizon to its tip."""
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        yield from page["Records"]
        if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
            return
        iterator = page.get("NextShardIterator")


def archived_sequence_numbers(stack: LocalStack, bucket: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The sequence numbers in the archive's Parquet objects, and the (dt, hour) partitions holding them."""
    s3 = stack.client("s3")
    numbers: set[str] = set()
    partitions: set[tuple[str, str]] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="raw/"):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            numbers.update(pq.read_table(io.BytesIO(body), columns=["sequencenumber"]).column(0).to_pylist())
            parts = dict(p.split("=", 1) for p in obj["Key"].split("/")[1:3])
            partitions.add((parts["dt"], parts["hour"]))
    return numbers, partitions


def assert_aggregates_exact(stack: LocalStack, window_s: int, timeout: float = 180) -> int:
    """DynamoDB ends equal to the independent aggregation of every record in the stream; returns the count."""
    records = read_stream(stack.client("kinesis"), STREAM)
    expected = expected_items(records, window_s)
    dynamodb = stack.client("dynamodb")
    items: dict[Any, Any] = {}

    def aggregated() -> bool:
        nonlocal items
        items = actual_items(dynamodb, TABLE)
        return items == expected

    try:
        wait_for("DynamoDB equal to the independent aggregation", aggregated, timeout, stack)
    except AssertionError:
        missing = [k for k in expected if k not in items]
        wrong = [k for k in expected if k in items and items[k] != expected[k]]
        extra = [k for k in items if k not in expected]
        raise AssertionError(f"{len(missing)} unicorn-windows missing, {len(wrong)} wrong, {len(extra)} extra "
                             f"(of {len(expected)}); e.g. {(missing + wrong + extra)[:3]}") from None
    return len(records)


def archived_rows(stack: LocalStack, bucket: str) -> list[str]:
    """Every archived record's sequence number, once per copy in the archive."""
    s3 = stack.client("s3")
    numbers: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="raw/"):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            numbers += pq.read_table(io.BytesIO(body), columns=["sequencenumber"]).column(0).to_pylist()
    return numbers


def assert_archive_complete(stack: LocalStack, bucket: str, timeout: float = 120) -> set[tuple[str, str]]:
    """Every record of the stream is in the archive (by sequence number); returns the partitions."""
    in_stream = stream_sequence_numbers(stack.client("kinesis"))
    archived: set[str] = set()
    partitions: set[tuple[str, str]] = set()

    def all_archived() -> bool:
        nonlocal archived, partitions
        archived, partitions = archived_sequence_numbers(stack, bucket)
        return in_stream <= archived

    try:
        wait_for("every record in the archive", all_archived, timeout, stack)
    except AssertionError:
        raise AssertionError(f"{len(in_stream - archived)} of {len(in_stream)} records not archived") from None
    return partitions
