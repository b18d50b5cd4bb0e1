"""Faults injected by the local endpoint (localaws/gateway/faults.py): AWS errors rendered as each service renders
them, so boto3 classifies and retries them as it would AWS's; and the platform under injected throttling,
5xx, failed entries and slow reads: the producer, the Lambda runtime and the Firehose delivery retry and
lose nothing."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localaws.gateway.faults import FaultRuleError, FaultSet, put_records_result, split_batch_write, split_put_records
from localaws.settings import DEFAULT_REGION, LOCAL_CREDENTIALS
from localaws.wire.errors import fault_code, injected_error
from localaws.wire.routing import s3_operation
from streaming.lambdas.kinesis_put import put_records
from streaming.lambdas.retry import Backoff, is_retryable
from tests.support.aggregation_oracle import actual_items, expected_items, read_stream
from tests.support.firehose_helpers import ARCHIVE_STREAM, Archive, set_destination, wait_for_version
from tests.support.firehose_helpers import read_stream as read_stream_by_sequence_number
from tests.support.stack import LocalStack, started_stack

PROBE = "faults-probe"


# ---- the rule set and the rendering, without a stack -----------------------------------------------------------
def test_rules_count_expire_and_roll_with_their_seed() -> None:
    faults = FaultSet()
    once = faults.add({"service": "kinesis", "operation": "PutRecord", "error": "InternalFailure", "count": 2})
    assert [bool(faults.decide("kinesis", "PutRecord").error) for _ in range(3)] == [True, True, False]
    assert (once.matched, once.injected) == (2, 2)
    assert not faults.decide("kinesis", "GetRecords")
    faults.remove()
    rule = faults.add({"service": "dynamodb", "operation": "*", "error": "throttling", "probability": 0.3,
                       "seed": 7}, now=1000.0)
    hits = sum(bool(faults.decide("dynamodb", "Query", now=1001.0).error) for _ in range(2000))
    assert 450 < hits < 750 and rule.injected == hits and rule.matched == 2000
    assert not faults.decide("dynamodb", "Query", now=2000.0)  # no expiry given: still there
    faults.remove()
    faults.add({"service": "s3", "delay_ms": 50, "expires_in_s": 10}, now=1000.0)
    assert faults.decide("s3", "GetObject", now=1005.0).delay_ms == 50
    assert not faults.decide("s3", "GetObject", now=1010.0)


@pytest.mark.parametrize(("payload", "reason"), [
    ({"service": "s3", "error": "ProvisionedThroughputExceededException"}, "Kinesis and DynamoDB"),
    ({"service": "kinesis", "error": "NoSuchThing"}, "HTTP status"),
    ({"service": "kinesis"}, "an error, a delay"),
    ({"service": "kinesis", "error": "InternalFailure", "probability": 1.5}, "probability"),
    ({"service": "kinesis", "error": "InternalFailure", "count": 0}, "count"),
    ({"service": "kineses", "error": "InternalFailure"}, "service must be"),
    ({"service": "kinesis", "operation": "GetRecords", "error": "InternalFailure", "per_record": True}, "PutRecords"),
    ({"service": "kinesis", "error": "InternalFailure", "colour": "red"}, "colour"),
])
def test_bad_rules_are_refused_with_the_reason(payload: dict, reason: str) -> None:
    with pytest.raises(FaultRuleError, match=reason):
        FaultSet().add(payload)


def test_each_service_renders_a_fault_as_it_does() -> None:
    assert fault_code("s3", "ThrottlingException") == (503, "SlowDown")
    assert fault_code("dynamodb", "InternalFailure") == (500, "InternalServerError")
    assert fault_code("sts", "ThrottlingException") == (400, "Throttling")
    dynamodb = injected_error("dynamodb", "ProvisionedThroughputExceededException", "json")
    body = json.loads(dynamodb.body)
    assert body["__type"] == "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
    assert dynamodb.headers["Content-Type"] == "application/x-amz-json-1.0" and dynamodb.status == 400
    s3 = injected_error("s3", "ThrottlingException", "rest-xml")
    assert s3.status == 503 and b"<Code>SlowDown</Code>" in s3.body


def test_per_entry_faults_split_and_merge_in_request_order() -> None:
    rule = FaultSet().add({"service": "kinesis", "operation": "PutRecords", "per_record": True,
                           "error": "ProvisionedThroughputExceededException", "probability": 0.5, "seed": 3})
    records = [{"Data": str(i), "PartitionKey": "k"} for i in range(10)]
    kept, failed, total = split_put_records(json.dumps({"StreamName": "s", "Records": records}).encode(), rule)
    assert 0 < len(failed) < 10 and total == 10 and rule.injected == len(failed)
    passed = json.loads(kept)["Records"]
    assert [r["Data"] for r in passed] == [str(i) for i in range(10) if i not in failed]
    upstream = json.dumps({"FailedRecordCount": 0, "Records": [{"SequenceNumber": r["Data"], "ShardId": "s0"}
                                                               for r in passed]}).encode()
    merged = json.loads(put_records_result(upstream, failed, total, "ProvisionedThroughputExceededException", ""))
    assert merged["FailedRecordCount"] == len(failed)
    for i, result in enumerate(merged["Records"]):
        assert result.get("ErrorCode") == ("ProvisionedThroughputExceededException" if i in failed else None)
        assert result.get("SequenceNumber") in (None, str(i))

    rule = FaultSet().add({"service": "dynamodb", "operation": "BatchWriteItem", "per_record": True,
                           "error": "ProvisionedThroughputExceededException", "count": 2})
    puts = {"t": [{"PutRequest": {"Item": {"k": {"S": str(i)}}}} for i in range(5)]}
    kept, unprocessed, total = split_batch_write(json.dumps({"RequestItems": puts}).encode(), rule)
    assert total == 5 and len(unprocessed["t"]) == 2 and len(json.loads(kept)["RequestItems"]["t"]) == 3


@pytest.mark.parametrize(("method", "path", "query", "headers", "operation"), [
    ("GET", "/", "", {}, "ListBuckets"),
    ("PUT", "/b", "", {}, "CreateBucket"),
    ("GET", "/b", "list-type=2&prefix=raw/", {}, "ListObjectsV2"),
    ("POST", "/b", "delete", {}, "DeleteObjects"),
    ("PUT", "/b/raw/x.parquet", "", {}, "PutObject"),
    ("PUT", "/b/k", "", {"x-amz-copy-source": "/b/j"}, "CopyObject"),
    ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart"),
    ("POST", "/b/k", "uploads", {}, "CreateMultipartUpload"),
    ("GET", "/b/k", "", {}, "GetObject"),
    ("HEAD", "/b/k", "", {}, "HeadObject"),
    ("GET", "/b", "policy", {}, "GetBucketPolicy"),
])
def test_s3_operations_are_named_as_in_the_sdk(method: str, path: str, query: str, headers: dict,
                                               operation: str) -> None:
    assert s3_operation(method, path, query, headers) == operation


# ---- against the real endpoint ---------------------------------------------------------------------------------
def admin(stack: LocalStack, method: str, path: str = "", payload: Any = None,
          headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{stack.endpoint_url}/_wildrydes/faults{path}", method=method,
        data=None if payload is None else json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def client(stack: LocalStack, service: str, mode: str = "standard", max_attempts: int = 3) -> Any:
    return boto3.client(service, endpoint_url=stack.endpoint_url, region_name=DEFAULT_REGION,
                        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"mode": mode, "total_max_attempts": max_attempts}))


def add_rule(stack: LocalStack, **rule: Any) -> dict:
    status, body = admin(stack, "POST", payload=rule)
    assert status == 201, body
    return body["rules"][0]


def rule_state(stack: LocalStack, rule_id: str) -> dict:
    status, body = admin(stack, "GET", f"/{rule_id}")
    assert status == 200, body
    return body


@pytest.fixture
def endpoint(local_stack: LocalStack) -> Iterator[LocalStack]:
    """The session's endpoint with a probe stream, table and bucket, and no fault rules before or after."""
    admin(local_stack, "DELETE")
    kinesis, dynamodb, s3 = (local_stack.client(s) for s in ("kinesis", "dynamodb", "s3"))
    if PROBE not in kinesis.list_streams()["StreamNames"]:
        kinesis.create_stream(StreamName=PROBE, ShardCount=1)
        dynamodb.create_table(TableName=PROBE, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
        s3.create_bucket(Bucket=PROBE)
        kinesis.get_waiter("stream_exists").wait(StreamName=PROBE, WaiterConfig={"Delay": 0.2})
        dynamodb.get_waiter("table_exists").wait(TableName=PROBE, WaiterConfig={"Delay": 0.2})
    yield local_stack
    admin(local_stack, "DELETE")


CALLS: dict[tuple[str, str], Callable[[Any], dict]] = {
    ("kinesis", "PutRecord"): lambda c: c.put_record(StreamName=PROBE, Data=b"x", PartitionKey="p"),
    ("dynamodb", "PutItem"): lambda c: c.put_item(TableName=PROBE, Item={"k": {"S": "x"}}),
    ("s3", "PutObject"): lambda c: c.put_object(Bucket=PROBE, Key="k", Body=b"x"),
    ("sts", "GetCallerIdentity"): lambda c: c.get_caller_identity(),
}
RENDERED = [
    # service, operation, error, custom status, expected HTTP status, expected code, retryable
    ("kinesis", "PutRecord", "ProvisionedThroughputExceededException", None, 400,
     "ProvisionedThroughputExceededException", True),
    ("kinesis", "PutRecord", "InternalFailure", None, 500, "InternalFailure", True),
    ("kinesis", "PutRecord", "ServiceUnavailable", None, 503, "ServiceUnavailable", True),
    ("dynamodb", "PutItem", "ProvisionedThroughputExceededException", None, 400,
     "ProvisionedThroughputExceededException", True),
    ("dynamodb", "PutItem", "ThrottlingException", None, 400, "ThrottlingException", True),
    ("dynamodb", "PutItem", "InternalFailure", None, 500, "InternalServerError", True),
    ("s3", "PutObject", "ThrottlingException", None, 503, "SlowDown", True),
    ("s3", "PutObject", "InternalFailure", None, 500, "InternalError", True),
    ("sts", "GetCallerIdentity", "ThrottlingException", None, 400, "Throttling", True),
    ("dynamodb", "PutItem", "ValidationException", 400, 400, "ValidationException", False),
]


@pytest.mark.faults
@pytest.mark.parametrize(("service", "operation", "error", "status", "http", "code", "retryable"), RENDERED,
                         ids=[f"{r[0]}-{r[5]}" for r in RENDERED])
def test_injected_errors_are_what_boto3_expects(endpoint: LocalStack, service: str, operation: str, error: str,
                                                status: int | None, http: int, code: str, retryable: bool) -> None:
    aws = client(endpoint, service)
    call = CALLS[(service, operation)]
    rule = add_rule(endpoint, service=service, operation=operation, error=error, count=3,
                    **({"status": status} if status else {}))
    with pytest.raises(ClientError) as caught:
        call(aws)
    response = caught.value.response
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == http
    # botocore retried it (twice: 3 attempts) exactly when AWS's error would be retried
    assert response["ResponseMetadata"]["RetryAttempts"] == (2 if retryable else 0)
    assert is_retryable(caught.value) is retryable  # and so does the platform's own classification
    assert rule_state(endpoint, rule["id"])["injected"] == (3 if retryable else 1)
    admin(endpoint, "DELETE")
    if retryable:  # two faults, then the call goes through on the third attempt
        rule = add_rule(endpoint, service=service, operation=operation, error=error, count=2)
        assert call(aws)["ResponseMetadata"]["RetryAttempts"] == 2
        state = rule_state(endpoint, rule["id"])
        assert (state["injected"], state["active"]) == (2, False)


@pytest.mark.faults
def test_legacy_retry_mode_retries_throughput_and_slowdown(endpoint: LocalStack) -> None:
    """Legacy mode is what a plain boto3.client() uses (the producer's and the handlers' clients)."""
    kinesis = client(endpoint, "kinesis", "legacy", 5)
    s3 = client(endpoint, "s3", "legacy", 5)
    add_rule(endpoint, service="kinesis", operation="PutRecord", error="ProvisionedThroughputExceededException",
             count=2)
    add_rule(endpoint, service="s3", operation="PutObject", error="ThrottlingException", count=2)
    assert CALLS[("kinesis", "PutRecord")](kinesis)["ResponseMetadata"]["RetryAttempts"] == 2
    assert CALLS[("s3", "PutObject")](s3)["ResponseMetadata"]["RetryAttempts"] == 2
    _, state = admin(endpoint, "GET")
    assert state["totals"]["kinesis PutRecord 400 ProvisionedThroughputExceededException"] >= 2
    assert state["totals"]["s3 PutObject 503 SlowDown"] >= 2


@pytest.mark.faults
def test_delays_slow_only_the_matching_calls(endpoint: LocalStack) -> None:
    kinesis = endpoint.client("kinesis")
    add_rule(endpoint, service="kinesis", operation="DescribeStreamSummary", delay_ms=600, count=1)
    started = time.monotonic()
    kinesis.describe_stream_summary(StreamName=PROBE)
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    kinesis.list_shards(StreamName=PROBE)  # another operation
    kinesis.describe_stream_summary(StreamName=PROBE)  # the rule is spent
    assert time.monotonic() - started < 0.6


@pytest.mark.faults
def test_failed_entries_are_not_written_and_a_retrying_writer_writes_each_once(endpoint: LocalStack) -> None:
    kinesis, dynamodb = endpoint.client("kinesis"), endpoint.client("dynamodb")
    shard = kinesis.list_shards(StreamName=PROBE)["Shards"][0]["ShardId"]
    tip = kinesis.put_record(StreamName=PROBE, Data=b"tip", PartitionKey="p")["SequenceNumber"]
    rule = add_rule(endpoint, service="kinesis", operation="PutRecords", per_record=True, probability=0.4, seed=5,
                    error="ProvisionedThroughputExceededException")
    data = [f"entry-{i}".encode() for i in range(40)]
    response = kinesis.put_records(StreamName=PROBE, Records=[{"Data": d, "PartitionKey": "p"} for d in data])
    failed = [i for i, r in enumerate(response["Records"]) if r.get("ErrorCode")]
    assert 0 < len(failed) < 40 and response["FailedRecordCount"] == len(failed)
    assert all(response["Records"][i]["ErrorCode"] == "ProvisionedThroughputExceededException" for i in failed)
    acks = put_records(kinesis, PROBE, [(d, "p") for d in data], backoff=Backoff(attempts=20, base=0.01, cap=0.05),
                       reset_on_progress=True)
    assert len(acks) == 40
    assert rule_state(endpoint, rule["id"])["injected"] > len(failed)  # the re-sends were throttled too
    admin(endpoint, "DELETE")
    iterator = kinesis.get_shard_iterator(StreamName=PROBE, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                          StartingSequenceNumber=tip)["ShardIterator"]
    written = [r["Data"] for r in kinesis.get_records(ShardIterator=iterator, Limit=1000)["Records"]]
    ok_first = [data[i] for i in range(40) if i not in failed]
    assert written[:len(ok_first)] == ok_first  # the first call wrote exactly its successful entries
    assert sorted(written[len(ok_first):]) == sorted(data)  # the retrying writer: every entry exactly once

    rule = add_rule(endpoint, service="dynamodb", operation="BatchWriteItem", per_record=True, count=3,
                    error="ProvisionedThroughputExceededException")
    puts = [{"PutRequest": {"Item": {"k": {"S": f"batch-{i}"}}}} for i in range(10)]
    response = dynamodb.batch_write_item(RequestItems={PROBE: puts})  # botocore checks the rewritten CRC32
    unprocessed = response["UnprocessedItems"][PROBE]
    assert len(unprocessed) == 3
    keys = {r["PutRequest"]["Item"]["k"]["S"] for r in unprocessed}
    for i in range(10):
        item = dynamodb.get_item(TableName=PROBE, Key={"k": {"S": f"batch-{i}"}}, ConsistentRead=True).get("Item")
        assert (item is None) == (f"batch-{i}" in keys)


@pytest.mark.faults
def test_the_producer_outlasts_the_sdks_retries_and_fails_loudly_on_a_fatal_error(endpoint: LocalStack) -> None:
    kinesis, stream = endpoint.client("kinesis"), "faults-producer"
    if stream not in kinesis.list_streams()["StreamNames"]:
        kinesis.create_stream(StreamName=stream, ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    # five 503s: all of botocore's attempts (legacy mode, the producer's plain client) at the first call
    rule = add_rule(endpoint, service="kinesis", operation="PutRecords", error="ServiceUnavailable", count=5)
    produced = endpoint.cli("produce", "--stream", stream, "--unicorns", "4", "--count", "200", "--seed", "3",
                            "--rate", "100", "--in-flight", "1")
    assert produced.returncode == 0, produced.stderr
    assert "produce: 200 records acknowledged" in produced.stdout, produced.stdout
    assert rule_state(endpoint, rule["id"])["injected"] == 5
    data = read_stream(kinesis, stream)
    assert len(data) == 200 and len({d for d, _ in data}) == 200

    add_rule(endpoint, service="kinesis", operation="PutRecords", error="AccessDeniedException", status=400, count=1)
    failed = endpoint.cli("produce", "--stream", stream, "--unicorns", "4", "--count", "40", "--seed", "4",
                          "--in-flight", "1", "--rate", "100")
    assert failed.returncode == 1, failed.stdout
    assert "AccessDeniedException (not retryable)" in failed.stderr and "Traceback" not in failed.stderr
    # it stops at the failed batch and says how many records it could not deliver
    assert re.search(r"produce: 0 records acknowledged .*; [1-9]\d* not acknowledged", failed.stdout), failed.stdout
    assert len(read_stream(kinesis, stream)) == 200  # and it did not write some of them behind the caller's back


@pytest.mark.faults
def test_admin_api_validates_lists_and_removes(endpoint: LocalStack) -> None:
    status, body = admin(endpoint, "POST", payload={"service": "s3", "error": "ProvisionedThroughputExceededException"})
    assert status == 400 and "Kinesis and DynamoDB" in body["error"]
    status, body = admin(endpoint, "POST", payload=[{"service": "sqs", "delay_ms": 5},
                                                    {"service": "sqs", "error": "Nope"}])
    assert status == 400
    assert admin(endpoint, "GET")[1]["rules"] == []  # all or nothing
    status, body = admin(endpoint, "POST", payload=[{"service": "glue", "operation": "GetTable", "delay_ms": 5},
                                                    {"service": "athena", "error": "InternalFailure",
                                                     "probability": 0.1}])
    assert status == 201 and [r["renders_as"] for r in body["rules"]] == [None, "500 InternalServerException"]
    first = body["rules"][0]["id"]
    assert admin(endpoint, "DELETE", f"/{first}")[0] == 200
    assert admin(endpoint, "DELETE", f"/{first}")[0] == 404
    assert [r["service"] for r in admin(endpoint, "GET")[1]["rules"]] == ["athena"]
    # never from a browser page, whatever its origin
    status, _ = admin(endpoint, "POST", payload={"service": "s3", "delay_ms": 1},
                      headers={"Origin": "http://127.0.0.1:8000"})
    assert status == 403


@pytest.mark.faults
def test_cli_adds_lists_and_clears(endpoint: LocalStack) -> None:
    result = endpoint.cli("local", "faults", "add", "--service", "kinesis", "--operation", "PutRecord",
                          "--error", "ProvisionedThroughputExceededException", "--probability", "1", "--count", "1")
    assert result.returncode == 0, result.stderr
    assert re.search(r"added fault f\d+: kinesis PutRecord: 400 ProvisionedThroughputExceededException", result.stdout)
    kinesis = client(endpoint, "kinesis")
    assert CALLS[("kinesis", "PutRecord")](kinesis)["ResponseMetadata"]["RetryAttempts"] == 1
    listed = endpoint.cli("local", "faults", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    state = json.loads(listed.stdout)
    assert [(r["operation"], r["injected"], r["active"]) for r in state["rules"]] == [("PutRecord", 1, False)]
    bad = endpoint.cli("local", "faults", "add", "--service", "s3", "--error", "Teapot")
    assert bad.returncode == 1 and "HTTP status" in bad.stderr and "Traceback" not in bad.stderr
    helped = endpoint.cli("local", "faults", "add", "--help")
    assert helped.returncode == 0 and "usage: wildrydes local faults add" in helped.stdout
    cleared = endpoint.cli("local", "faults", "clear")
    assert cleared.returncode == 0 and "removed 1 fault rule(s)" in cleared.stdout
    assert admin(endpoint, "GET")[1]["rules"] == []


# ---- the platform under faults ---------------------------------------------------------------------------------
WINDOW_S = 2
TABLE = "UnicornSensorData"
UNDER_LOAD = [
    # the producer's and the aggregator's PutRecords: whole calls throttled, and single entries failing
    {"service": "kinesis", "operation": "PutRecords", "error": "ProvisionedThroughputExceededException",
     "probability": 0.3, "seed": 1},
    {"service": "kinesis", "operation": "PutRecords", "error": "ProvisionedThroughputExceededException",
     "per_record": True, "probability": 0.2, "seed": 2},
    # the Lambda runtime's and Firehose's reads: slow and sometimes throttled
    {"service": "kinesis", "operation": "GetRecords", "delay_ms": 300, "probability": 0.5, "seed": 3},
    {"service": "kinesis", "operation": "GetRecords", "error": "ProvisionedThroughputExceededException",
     "probability": 0.2, "seed": 4},
    # the summary writer's conditional PutItem: 500s and throttling
    {"service": "dynamodb", "operation": "PutItem", "error": "InternalFailure", "probability": 0.2, "seed": 1},
    {"service": "dynamodb", "operation": "PutItem", "error": "ProvisionedThroughputExceededException",
     "probability": 0.2, "seed": 4},
    # the Firehose delivery's archive objects
    {"service": "s3", "operation": "PutObject", "error": "ThrottlingException", "probability": 0.3, "seed": 1},
]
# The writer makes few calls (one PutItem per unicorn per window): seeds whose first draws hit (random.Random(1)
# starts 0.13..., Random(4) 0.24, 0.10...) make sure each kind of fault happens in every run.


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from started_stack(tmp_path_factory.mktemp("faults"),
                             ["--no-producer", "--no-map", "--parameter", f"TumblingWindowInSeconds={WINDOW_S}",
                              "--parameter", "AggregatorMaximumBatchingWindowInSeconds=0",
                              "--parameter", "ArchiveBufferIntervalSeconds=2", "--parameter", "ArchiveBufferSizeMB=1"])


@pytest.mark.faults
def test_under_injected_faults_nothing_is_lost(platform: LocalStack) -> None:
    # The archive's processor buffers 60 s by default; shortened as an operator would (a new stream version).
    version = set_destination(platform.client("firehose"), ARCHIVE_STREAM, processor_interval_s=1)
    wait_for_version(platform.data_dir, ARCHIVE_STREAM, version)
    outputs = json.loads((platform.data_dir / "deploy" / "outputs.json").read_text())["Outputs"]
    archive = Archive(platform.client("s3"), outputs["ArchiveBucketName"])

    status, body = admin(platform, "POST", payload=UNDER_LOAD)
    assert status == 201, body
    produced = platform.cli("produce", "--unicorns", "5", "--count", "600", "--seed", "21", "--rate", "40",
                            timeout=300)
    assert produced.returncode == 0, produced.stderr
    assert "produce: 600 records acknowledged" in produced.stdout, produced.stdout
    resent = int(re.search(r"(\d+) re-sent", produced.stdout).group(1))
    assert resent > 0, produced.stdout  # the failed entries reached the producer, which sent them again

    dynamodb = platform.client("dynamodb")
    deadline = time.monotonic() + 150
    items: dict = {}
    while time.monotonic() < deadline:
        items = actual_items(dynamodb, TABLE)
        if sum(i["RecordCount"] for i in items.values()) >= 600:
            break
        time.sleep(0.5)
    while time.monotonic() < deadline:
        archive.refresh("raw/")
        if len(archive.rows("raw/")) >= 600:
            break
        time.sleep(0.5)
    _, state = admin(platform, "DELETE")
    injected = {(r["operation"], r["error"], r["delay_ms"], r["per_record"]): r["injected"] for r in state["removed"]}
    assert all(n > 0 for n in injected.values()), injected  # every kind of fault was hit
    assert sum(i["RecordCount"] for i in items.values()) == 600, (
        f"{sum(i['RecordCount'] for i in items.values())} of 600 records aggregated under faults {injected}")

    records = read_stream(platform.client("kinesis"), "wildrydes")
    assert len(records) == 600 and len({data for data, _ in records}) == 600  # each record once in the stream
    assert items == expected_items(records, WINDOW_S)
    # every record archived (a retried delivery may archive one twice; staging removes duplicates)
    archive.refresh("raw/")
    archived = [row["sequencenumber"] for _, row in archive.rows("raw/")]
    stream = set(read_stream_by_sequence_number(platform.client("kinesis"), "wildrydes"))
    assert set(archived) == stream, f"{len(stream - set(archived))} records not archived"

    sqs = platform.client("sqs")  # nothing given up by the runtime, nothing taken for malformed
    for queue in ("wildrydes-aggregator-dlq", "wildrydes-summary-writer-dlq", "wildrydes-quarantine"):
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0", queue
