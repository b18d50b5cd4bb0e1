"""Fault injection: kill -9 at random moments, one process at a time, several together, and the whole local
stack, while a seeded producer writes. Afterwards DynamoDB equals the aggregation computed independently
from the stream, the archive holds every record of the stream, and the reconciliation of the archive with
DynamoDB passes. ``pytest -m faults`` runs this file alone."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow.parquet as pq
import pytest

from infra.local.cli import _alive as alive
from tests.aggregation_oracle import actual_items, expected_items, read_stream
from tests.firehose_helpers import ARCHIVE_STREAM, set_destination, wait_for_version
from tests.orchestration_stack import environment
from tests.stack import WILDRYDES, LocalStack, started_stack

pytestmark = pytest.mark.faults

WINDOW_S = 2
SEED = 23
TABLE = "UnicornSensorData"
LONG_QUERY = ("SELECT count(*) FROM unnest(sequence(1, 30000)) AS a(x) CROSS JOIN unnest(sequence(1, 30000)) AS b(y) "
              "WHERE (x * y) % 7 = 3")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    for stack in started_stack(tmp_path_factory.mktemp("fault-kills"), [
            "--no-producer", "--parameter", f"TumblingWindowInSeconds={WINDOW_S}",
            "--parameter", "AggregatorMaximumBatchingWindowInSeconds=0",
            "--parameter", "ArchiveBufferIntervalSeconds=1", "--parameter", "ArchiveBufferSizeMB=1"]):
        # The processor buffers 60 s before invoking the transform (AWS's default); shortened as an operator would.
        version = set_destination(stack.client("firehose"), ARCHIVE_STREAM, processor_interval_s=1)
        wait_for_version(stack.data_dir, ARCHIVE_STREAM, version)
        yield stack


def components(stack: LocalStack) -> dict[str, Any]:
    return json.loads((stack.data_dir / "run" / "stack.json").read_text())["components"]


def wait_for(what: str, condition: Any, timeout: float, stack: LocalStack) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} not within {timeout:.0f}s; stack log:\n{stack.log_tail(5000)}")


def kill_components(stack: LocalStack, names: list[str]) -> bool:
    """kill -9 the named components; True once the supervisor has restarted every one of them."""
    before = components(stack)
    for name in names:
        os.kill(before[name]["pid"], signal.SIGKILL)

    def restarted() -> bool:
        now = components(stack)
        return all(now[n]["pid"] != before[n]["pid"] and alive(now[n]["pid"]) for n in names)

    wait_for(f"restart of {names}", restarted, timeout=90, stack=stack)
    return True


def kill_athena_mid_query(stack: LocalStack) -> bool:
    """The engine is killed while a query runs: after its restart the query is FAILED (never hung) with a
    reason, and a new query succeeds."""
    athena = stack.client("athena")
    query_id = athena.start_query_execution(QueryString=LONG_QUERY, WorkGroup="wildrydes")["QueryExecutionId"]
    wait_for("the long query running", lambda: athena.get_query_execution(QueryExecutionId=query_id)[
        "QueryExecution"]["Status"]["State"] == "RUNNING", timeout=30, stack=stack)
    kill_components(stack, ["athena"])

    def state() -> dict[str, Any] | None:
        try:
            status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        except Exception:  # noqa: BLE001 - the gateway answers 503 until the engine is back
            return None
        return status if status["State"] not in ("QUEUED", "RUNNING") else None

    status = wait_for("the interrupted query's final state", state, timeout=60, stack=stack)
    assert status["State"] == "FAILED" and status.get("StateChangeReason"), status
    check = athena.start_query_execution(QueryString="SELECT 1", WorkGroup="wildrydes")["QueryExecutionId"]
    final = wait_for("a query after the restart", lambda: athena.get_query_execution(QueryExecutionId=check)[
        "QueryExecution"]["Status"]["State"] in ("SUCCEEDED", "FAILED"), timeout=60, stack=stack)
    assert final and athena.get_query_execution(QueryExecutionId=check)["QueryExecution"]["Status"][
        "State"] == "SUCCEEDED"
    return True


def produce(stack: LocalStack, seed: int, seconds: int) -> subprocess.Popen[str]:
    return subprocess.Popen([*WILDRYDES, "produce", "--unicorns", "8", "--rate", "5", "--duration", str(seconds),
                             "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **stack.env})


def archived_sequence_numbers(stack: LocalStack, bucket: str) -> tuple[set[str], set[tuple[str, str]]]:
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


def test_kill_9_at_random_moments_loses_nothing(stack: LocalStack) -> None:
    rng = random.Random(SEED)
    outputs = json.loads((stack.data_dir / "deploy" / "outputs.json").read_text())["Outputs"]
    bucket = outputs["ArchiveBucketName"]
    attempted: list[str] = []
    survived: list[str] = []

    def attempt(label: str, action: Any) -> None:
        attempted.append(label)
        if action():
            survived.append(label)

    # Phase 1: one process at a time and two together, at random moments while the producer writes.
    producer = produce(stack, SEED, 40)
    for label, action in [
        ("lambda runtime", lambda: kill_components(stack, ["lambda"])),
        ("firehose", lambda: kill_components(stack, ["firehose"])),
        ("athena engine mid-query", lambda: kill_athena_mid_query(stack)),
        ("lambda runtime + firehose together", lambda: kill_components(stack, ["lambda", "firehose"])),
    ]:
        time.sleep(rng.uniform(1.0, 4.0))  # a random moment, not a wait for a condition
        attempt(label, action)
    out, err = producer.communicate(timeout=300)
    assert producer.returncode == 0, err[-2000:]

    # Phase 2: the whole stack, while processing still catches up; then more data and one more kill.
    time.sleep(rng.uniform(0.0, 2.0))
    attempted.append("whole stack")
    stack.kill_all()
    stack.start()
    survived.append("whole stack")
    producer = produce(stack, SEED + 1, 12)
    time.sleep(rng.uniform(1.0, 5.0))
    attempt("lambda runtime after the stack restart", lambda: kill_components(stack, ["lambda"]))
    out, err = producer.communicate(timeout=300)
    assert producer.returncode == 0, err[-2000:]

    # DynamoDB equals the aggregation of everything in the stream, computed independently.
    records = read_stream(stack.client("kinesis"), "wildrydes")
    assert len(records) >= 8 * 5 * 50
    expected = expected_items(records, WINDOW_S)
    dynamodb = stack.client("dynamodb")
    items: dict[Any, Any] = {}

    def aggregated() -> bool:
        nonlocal items
        items = actual_items(dynamodb, TABLE)
        return items == expected

    with contextlib.suppress(AssertionError):
        wait_for("DynamoDB equal to the independent aggregation", aggregated, timeout=180, stack=stack)
    assert items == expected

    # The archive holds every record of the stream (duplicates allowed).
    kinesis = stack.client("kinesis")
    in_stream = {r["SequenceNumber"] for shard in kinesis.list_shards(StreamName="wildrydes")["Shards"]
                 for r in _records(kinesis, shard["ShardId"])}
    archived: set[str] = set()
    partitions: set[tuple[str, str]] = set()

    def all_archived() -> bool:
        nonlocal archived, partitions
        archived, partitions = archived_sequence_numbers(stack, bucket)
        return in_stream <= archived

    with contextlib.suppress(AssertionError):
        wait_for("every record in the archive", all_archived, timeout=120, stack=stack)
    assert not in_stream - archived, f"{len(in_stream - archived)} of {len(in_stream)} records not archived"

    # The reconciliation of each archived hour with DynamoDB passes.
    from orchestration.defs.archive.catalog import register_partition
    from orchestration.defs.platform.resources import AthenaResource
    from orchestration.defs.platform.stack import load_names
    from orchestration.defs.quality.reconcile import reconcile_hour

    with environment(stack.env):
        names = load_names()
        for dt, hour in sorted(partitions):
            register_partition(stack.client("glue"), names.glue_database, names.raw_table, [dt, hour])
            start = datetime.strptime(f"{dt} {hour}", "%Y-%m-%d %H").replace(tzinfo=UTC)
            outcome = reconcile_hour(AthenaResource(), dynamodb, stack.client("s3"), names, start, WINDOW_S)
            assert outcome.result.passed, outcome.result.mismatches[:5]
            assert outcome.result.matched > 0

    print(f"kills survived: {len(survived)} of {len(attempted)} attempted ({', '.join(attempted)})")
    assert survived == attempted


def _records(kinesis: Any, shard_id: str) -> Iterator[dict[str, Any]]:
    iterator = kinesis.get_shard_iterator(StreamName="wildrydes", ShardId=shard_id,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        yield from page["Records"]
        if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
            return
        iterator = page.get("NextShardIterator")
