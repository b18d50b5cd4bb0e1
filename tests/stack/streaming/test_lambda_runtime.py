"""The local Lambda runtime against the real endpoint: each event source mapping option."""

from __future__ import annotations

import io
import json
import sqlite3
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import LocalStack

ACCOUNT = "123456789012"
HANDLERS = "tests.support.lambda_fixtures.handlers"


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Deployment:
    """A stream, a function and an event source mapping with a unique name, for one test."""

    def __init__(self, stack: LocalStack, tmp_path: Path) -> None:
        self.stack = stack
        self.name = f"rt-{uuid.uuid4().hex[:8]}"
        self.out = tmp_path / f"{self.name}.jsonl"
        self.kinesis = stack.client("kinesis")
        self.lam = stack.client("lambda")
        self.sqs = stack.client("sqs")

    def stream(self, shards: int = 1) -> str:
        self.kinesis.create_stream(StreamName=self.name, ShardCount=shards)
        self.kinesis.get_waiter("stream_exists").wait(StreamName=self.name, WaiterConfig={"Delay": 0.2})
        return f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{self.name}"

    def function(self, handler: str, timeout: int = 30, **env: str) -> None:
        role = self.stack.client("iam").create_role(
            RoleName=self.name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
        )["Role"]["Arn"]
        # what a function fed by Kinesis with an SQS failure destination needs (the endpoint enforces it)
        statements = [
            {"Effect": "Allow", "Action": ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
                                           "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
             "Resource": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{self.name}"},
            {"Effect": "Allow", "Action": "sqs:SendMessage",
             "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{self.name}"},
        ]
        self.stack.client("iam").put_role_policy(RoleName=self.name, PolicyName="mapping", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("placeholder.py", "")
        self.lam.create_function(
            FunctionName=self.name, Runtime="python3.12", Role=role, Handler=f"{HANDLERS}.{handler}",
            Code={"ZipFile": buffer.getvalue()}, Timeout=timeout,
            Environment={"Variables": {"OUT_FILE": str(self.out), **env}},
        )

    def queue(self) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=self.name)["QueueUrl"]
        return url, f"arn:aws:sqs:us-east-1:{ACCOUNT}:{self.name}"

    def mapping(self, stream_arn: str, **options: Any) -> str:
        options.setdefault("StartingPosition", "TRIM_HORIZON")
        return self.lam.create_event_source_mapping(FunctionName=self.name, EventSourceArn=stream_arn,
                                                    **options)["UUID"]

    def put(self, *payloads: str, key: str = "k") -> list[str]:
        result = self.kinesis.put_records(StreamName=self.name,
                                          Records=[{"Data": p.encode(), "PartitionKey": key} for p in payloads])
        assert result["FailedRecordCount"] == 0
        return [r["SequenceNumber"] for r in result["Records"]]

    def checkpoint_exists(self, mapping: str) -> bool:
        path = self.stack.data_dir / "lambda" / "checkpoints.sqlite"
        if not path.exists():
            return False
        with sqlite3.connect(path) as db:
            return db.execute("SELECT 1 FROM checkpoint WHERE mapping = ?", (mapping,)).fetchone() is not None

    def first_seen(self, mapping: str) -> float:
        """When the runtime first saw the mapping's shard (what StartingPosition LATEST starts from)."""
        with sqlite3.connect(self.stack.data_dir / "lambda" / "checkpoints.sqlite") as db:
            [(first_seen,)] = db.execute("SELECT first_seen FROM checkpoint WHERE mapping = ?", (mapping,)).fetchall()
        return float(first_seen)

    def arrival(self, payload: str) -> float:
        """The ApproximateArrivalTimestamp (epoch seconds) of the record holding this payload."""
        shard = self.kinesis.list_shards(StreamName=self.name)["Shards"][0]["ShardId"]
        iterator = self.kinesis.get_shard_iterator(StreamName=self.name, ShardId=shard,
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = self.kinesis.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        [arrival] = [r["ApproximateArrivalTimestamp"].timestamp() for r in records if r["Data"] == payload.encode()]
        return arrival

    def seen(self) -> list[dict[str, Any]]:
        return read_lines(self.out)

    def all_data(self) -> list[str]:
        return [d for line in self.seen() for d in line.get("data", [])]

    def failure_messages(self, queue_url: str, expected: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []

        def received() -> bool:
            page = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            messages.extend(json.loads(m["Body"]) for m in page.get("Messages", []))
            return len(messages) >= expected

        wait_for(received, what=f"{expected} failure destination messages")
        return messages


@pytest.fixture
def deploy(local_stack: LocalStack, tmp_path: Path) -> Deployment:
    return Deployment(local_stack, tmp_path)


def test_batch_size_environment_and_aws_event_shape(deploy: Deployment) -> None:
    arn = deploy.stream()
    deploy.function("collect", MARKER="from-function-config")
    payloads = [f"r{i}" for i in range(25)]
    deploy.put(*payloads)
    deploy.mapping(arn, BatchSize=10)
    wait_for(lambda: len(deploy.all_data()) >= 25, what="25 records")
    seen = deploy.seen()
    assert deploy.all_data() == payloads  # each once, in order
    assert all(len(line["data"]) <= 10 for line in seen)
    assert {line["env"] for line in seen} == {"from-function-config"}
    assert {line["function"] for line in seen} == {deploy.name}
    assert all(0 < line["remaining_ms"] <= 30_000 for line in seen)
    assert seen[0]["event_keys"] == ["awsRegion", "eventID", "eventName", "eventSource", "eventSourceARN",
                                     "eventVersion", "invokeIdentityArn", "kinesis"]


def test_batching_window_gathers_records(deploy: Deployment) -> None:
    arn = deploy.stream()
    deploy.function("collect")
    mapping = deploy.mapping(arn, BatchSize=100, MaximumBatchingWindowInSeconds=3)
    wait_for(lambda: deploy.checkpoint_exists(mapping), what="the runtime to see the shard")
    for i in range(5):
        deploy.put(f"b{i}")
    wait_for(lambda: len(deploy.all_data()) >= 5, what="5 records")
    assert [line["data"] for line in deploy.seen()] == [[f"b{i}" for i in range(5)]]


def test_starting_position_latest_skips_older_records(deploy: Deployment) -> None:
    arn = deploy.stream()
    deploy.function("collect")
    deploy.put("before")
    mapping = deploy.mapping(arn, StartingPosition="LATEST")
    wait_for(lambda: deploy.checkpoint_exists(mapping), what="the runtime to see the shard")
    # LATEST is when the runtime first saw the shard (checkpointed); "before" arrived earlier (to the millisecond
    # of arrival timestamps), so it must be skipped.
    assert deploy.arrival("before") < deploy.first_seen(mapping)
    deploy.put("after")
    wait_for(lambda: "after" in deploy.all_data(), what="the record put after the mapping")
    assert deploy.all_data() == ["after"]


def test_retries_exhausted_go_to_the_failure_destination(deploy: Deployment) -> None:
    arn = deploy.stream()
    deploy.function("always_fail")
    queue_url, queue_arn = deploy.queue()
    sequence = deploy.put("doomed")
    deploy.mapping(arn, MaximumRetryAttempts=2, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    [message] = deploy.failure_messages(queue_url, 1)
    assert len(deploy.seen()) == 3  # the first attempt and two retries
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["responseContext"]["functionError"] == "RuntimeError"
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == sequence[0]
    assert message["KinesisBatchInfo"]["batchSize"] == 1


def test_bisect_isolates_the_poison_record(deploy: Deployment) -> None:
    arn = deploy.stream()
    deploy.function("fail_on_poison")
    queue_url, queue_arn = deploy.queue()
    payloads = ["a", "b", "c", "poison", "d", "e", "f", "g"]
    sequences = deploy.put(*payloads)
    deploy.mapping(arn, BatchSize=8, MaximumRetryAttempts=0, BisectBatchOnFunctionError=True,
                   DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    [message] = deploy.failure_messages(queue_url, 1)
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == sequences[3]
    assert message["KinesisBatchInfo"]["batchSize"] == 1

    def good_batches() -> list[list[str]]:
        return [line["data"] for line in deploy.seen() if "poison" not in line["data"]]

    # The half after the poison record is processed after the poison one is given up.
    wait_for(lambda: sum(len(batch) for batch in good_batches()) >= 7, what="the 7 good records")
    succeeded = good_batches()
    assert sorted(d for batch in succeeded for d in batch) == ["a", "b", "c", "d", "e", "f", "g"]


def test_partial_batch_response_retries_from_the_failed_item(deploy: Deployment) -> None:
    arn = deploy.stream()
    deploy.function("fail_item_once")
    deploy.put("one", "two", "flaky", "four")
    deploy.mapping(arn, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"])
    wait_for(lambda: len(deploy.seen()) >= 2, what="the retry")
    assert [line["data"] for line in deploy.seen()] == [["one", "two", "flaky", "four"], ["flaky", "four"]]


def test_function_timeout_is_enforced(deploy: Deployment) -> None:
    arn = deploy.stream()
    deploy.function("sleepy", timeout=1, SLEEP_S="10")
    queue_url, queue_arn = deploy.queue()
    deploy.put("slow")
    started = time.monotonic()
    deploy.mapping(arn, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    [message] = deploy.failure_messages(queue_url, 1)
    assert message["responseContext"]["functionError"] == "Sandbox.Timedout"
    assert time.monotonic() - started < 9  # killed at its 1 s timeout, not after its 10 s sleep


def test_tumbling_windows_carry_state_and_end_with_a_final_invoke(deploy: Deployment) -> None:
    arn = deploy.stream()
    deploy.function("count_window")
    deploy.mapping(arn, BatchSize=3, TumblingWindowInSeconds=2)
    sent: list[float] = []
    for i in range(12):
        deploy.put(f"w{i}")
        sent.append(time.time())
        time.sleep(0.25)  # paced: the 12 records spread over several 2 s windows
    finals = wait_for(lambda: [line for line in deploy.seen() if line.get("final")] if sum(
        line["state"]["count"] for line in deploy.seen() if line.get("final")) >= 12 else None,
        timeout=30, what="final invocations covering all 12 records")
    assert sum(f["state"]["count"] for f in finals) == 12
    for final in finals:
        start = time.mktime(time.strptime(final["window"]["start"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        assert final["records_in_final"] == 0
        # every record counted in a window arrived inside it: boundaries come from arrival times
        assert all(start <= arrival < start + 2 for arrival in final["state"]["arrivals"])
    assert len({f["window"]["start"] for f in finals}) == len(finals)  # one final per window


def test_children_shards_wait_for_their_parent(deploy: Deployment) -> None:
    arn = deploy.stream(shards=1)
    deploy.function("collect")
    deploy.put(*[f"parent-{i}" for i in range(20)])
    shard = deploy.kinesis.list_shards(StreamName=deploy.name)["Shards"][0]
    middle = str((int(shard["HashKeyRange"]["StartingHashKey"]) + int(shard["HashKeyRange"]["EndingHashKey"])) // 2)
    deploy.kinesis.split_shard(StreamName=deploy.name, ShardToSplit=shard["ShardId"], NewStartingHashKey=middle)
    wait_for(lambda: deploy.kinesis.describe_stream_summary(StreamName=deploy.name)["StreamDescriptionSummary"][
        "StreamStatus"] == "ACTIVE", what="split done")
    deploy.put(*[f"child-{i}" for i in range(20)], key="another-key")
    deploy.mapping(arn, BatchSize=5)
    wait_for(lambda: len(deploy.all_data()) >= 40, what="all 40 records")
    data = deploy.all_data()
    assert sorted(data) == sorted([f"parent-{i}" for i in range(20)] + [f"child-{i}" for i in range(20)])
    assert max(data.index(f"parent-{i}") for i in range(20)) < min(data.index(f"child-{i}") for i in range(20))
