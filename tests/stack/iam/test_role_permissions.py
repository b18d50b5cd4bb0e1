"""Every action the template grants a role is one the platform needs: with the action removed from a copy of the
template and that copy deployed, the endpoint refuses the platform's own call at the step that makes it.

One stack runs the whole time; each case deploys the template without one grant (which also restores the grant
the case before removed), makes the platform take the step that needs it, and waits for the endpoint's denial
of that action to that role. The last test deploys the template unchanged and checks the flow is whole again.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from infra.deploy.local import deploy_local
from infra.deploy.template import TEMPLATE_PATH, load_template
from localaws.settings import DEFAULT_REGION
from tests.stack.iam.conftest import PARAMETERS, STACK, guest_credentials, iam_state
from tests.support.pipeline_checks import wait_for
from tests.support.stack import LocalStack


@dataclass(frozen=True, order=True)
class Grant:
    role: str  # logical id of the role
    sid: str
    action: str

    @property
    def id(self) -> str:
        return f"{self.role}.{self.sid}.{self.action}"


# What makes the platform take the step that needs a grant, now:
#   flowing      - the running pipeline calls it all the time (reads, writes, the Firehose's checks every 2 s)
#   restart:X    - the component X checks or opens its stream when it starts (X is killed; the supervisor restarts it)
#   malformed:S  - a malformed record in stream S is quarantined
#   guest        - a browser's calls: Cognito's basic flow, then reads of the map and summary streams
#   fail:SID     - a batch fails because statement SID's grant is withheld as well, and is given up
#   second-part  - another shard's part of a unicorn-minute already written arrives (the writer merges the two)
#   pinned-schema - the delivery stream's conversion names a table version instead of LATEST
TRIGGERS: dict[tuple[str, str, str], str] = {
    **{(role, "ReadSourceStream" if role != "SummaryWriterRole" else "ReadSummaryStream", action): trigger
       for role in ("AggregatorRole", "SummaryWriterRole", "ArchiveDeliveryRole")
       for action, trigger in (("kinesis:DescribeStream", "restart:{c}"), ("kinesis:DescribeStreamSummary",
                                                                          "restart:{c}"),
                               ("kinesis:GetRecords", "flowing"), ("kinesis:GetShardIterator", "restart:{c}"),
                               ("kinesis:ListShards", "flowing"))},
    ("AggregatorRole", "WriteSummaryStream", "kinesis:PutRecords"): "flowing",
    ("AggregatorRole", "RelayToTheMap", "kinesis:PutRecords"): "flowing",
    ("AggregatorRole", "SendFailedBatches", "sqs:SendMessage"): "fail:WriteSummaryStream",
    ("AggregatorRole", "QuarantineMalformedRecords", "sqs:SendMessage"): "malformed:source",
    ("SummaryWriterRole", "WriteTable", "dynamodb:GetItem"): "second-part",
    ("SummaryWriterRole", "WriteTable", "dynamodb:PutItem"): "flowing",
    ("SummaryWriterRole", "SendFailedBatches", "sqs:SendMessage"): "fail:WriteTable",
    ("SummaryWriterRole", "QuarantineMalformedRecords", "sqs:SendMessage"): "malformed:summary",
    ("ArchiveDeliveryRole", "WriteArchive", "s3:PutObject"): "flowing",
    ("ArchiveDeliveryRole", "WriteArchive", "s3:GetBucketLocation"): "flowing",  # the Firehose's destination check
    ("ArchiveDeliveryRole", "WriteArchive", "s3:ListBucket"): "flowing",
    ("ArchiveDeliveryRole", "TransformRecords", "lambda:InvokeFunction"): "flowing",
    ("ArchiveDeliveryRole", "TransformRecords", "lambda:GetFunctionConfiguration"): "flowing",
    ("ArchiveDeliveryRole", "ReadSchema", "glue:GetTable"): "flowing",
    ("ArchiveDeliveryRole", "ReadSchema", "glue:GetTableVersions"): "flowing",  # the latest version of the schema
    ("ArchiveDeliveryRole", "ReadSchema", "glue:GetTableVersion"): "pinned-schema",
    # a new execution environment opens its log stream; every invocation writes START/END/REPORT lines
    **{(role, "WriteLogs", "logs:CreateLogStream"): "restart:{c}"
       for role in ("AggregatorRole", "SummaryWriterRole", "ArchiveTransformRole")},
    **{(role, "WriteLogs", "logs:PutLogEvents"): "flowing"
       for role in ("AggregatorRole", "SummaryWriterRole", "ArchiveTransformRole")},
    ("ArchiveDeliveryRole", "WriteDeliveryErrors", "logs:PutLogEvents"): "malformed:source",  # processing fails
    **{("MapUnauthenticatedRole", "ReadStreams", action): "guest"
       for action in ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards")},
}
COMPONENT_OF_ROLE = {"AggregatorRole": "lambda", "SummaryWriterRole": "lambda", "ArchiveDeliveryRole": "firehose",
                     "ArchiveTransformRole": "firehose"}

# Granted because AWS's Firehose makes these calls with the role, which the local Firehose does not (it writes
# each object with one PutObject, so it has no multipart uploads to clean up): docs/local-endpoint.md.
NOT_CALLED_LOCALLY: dict[tuple[str, str, str], str] = {
    **{("ArchiveDeliveryRole", "WriteArchive", action): "S3 calls of AWS's Firehose" for action in
       ("s3:AbortMultipartUpload", "s3:GetObject", "s3:ListBucketMultipartUploads")},
}


def template_body() -> dict[str, Any]:
    return copy.deepcopy(load_template(TEMPLATE_PATH).body)


def grants(body: dict[str, Any]) -> list[Grant]:
    found = []
    for logical_id, resource in body["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                found += [Grant(logical_id, statement["Sid"], action) for action in actions]
    return sorted(found)


def pin_schema_version(body: dict[str, Any], version: str) -> None:
    """The delivery stream's record format conversion reads that version of the Glue table, not LATEST."""
    pinned = 0
    for resource in body["Resources"].values():
        if resource["Type"] == "AWS::KinesisFirehose::DeliveryStream":
            destination = resource["Properties"]["ExtendedS3DestinationConfiguration"]
            destination["DataFormatConversionConfiguration"]["SchemaConfiguration"]["VersionId"] = version
            pinned += 1
    assert pinned == 1


def without(body: dict[str, Any], removed: list[Grant]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for grant in removed:
        for policy in body["Resources"][grant.role]["Properties"]["Policies"]:
            statements = policy["PolicyDocument"]["Statement"]
            for statement in statements:
                if statement["Sid"] == grant.sid:
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    statement["Action"] = [a for a in actions if a != grant.action]
            policy["PolicyDocument"]["Statement"] = [s for s in statements if s["Action"]]
    return body


def test_every_grant_of_the_template_is_covered() -> None:
    """A new grant needs a way to prove it is needed (or a reason it is not called locally)."""
    keys = {(g.role, g.sid, g.action) for g in grants(template_body())}
    assert keys == set(TRIGGERS) | set(NOT_CALLED_LOCALLY), (
        f"no trigger for {sorted(keys - set(TRIGGERS) - set(NOT_CALLED_LOCALLY))}; "
        f"stale: {sorted((set(TRIGGERS) | set(NOT_CALLED_LOCALLY)) - keys)}")
    assert not set(TRIGGERS) & set(NOT_CALLED_LOCALLY)


# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def deploy(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("templates")
    saved = {key: os.environ.get(key) for key in stack.env}
    os.environ.update(stack.env)

    def run(body: dict[str, Any], name: str) -> None:
        path = folder / f"{name}.json"
        path.write_text(json.dumps(body))
        deploy_local(stack.data_dir, PARAMETERS, out=lambda line: None, template_path=path)  # raises on a failure

    try:
        yield run
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def denials(stack: LocalStack, since: float, role_name: str, action: str) -> list[dict[str, Any]]:
    return [d for d in iam_state(stack)["recent_denials"] if d["at"] >= since and d["action"] == action
            and f":assumed-role/{role_name}/" in d["principal"] and d["enforced"]]


def restart(stack: LocalStack, component: str) -> None:
    before = stack.run_state()["components"][component]["pid"]
    os.kill(before, signal.SIGKILL)
    wait_for(f"{component} restarted", lambda: stack.run_state()["components"][component]["pid"] not in
             (before, None), timeout=60, stack=stack)


def put(stack: LocalStack, stream: str, data: bytes) -> None:
    stack.client("kinesis").put_record(StreamName=stream, Data=data, PartitionKey="malformed")


def guest_reads(stack: LocalStack) -> None:
    """What the live map does (streaming/map/src/aws.js): the basic flow, then its reads; denials expected."""
    outputs = stack.outputs
    kinesis = boto3.client("kinesis", endpoint_url=stack.endpoint_url, region_name=DEFAULT_REGION,
                           **guest_credentials(stack), config=Config(retries={"max_attempts": 1}))
    for stream in (outputs["MapStreamName"], outputs["SummaryStreamName"]):
        try:
            shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        except kinesis.exceptions.ClientError:
            shard = "shardId-000000000000"
        try:
            iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                                  ShardIteratorType="LATEST")["ShardIterator"]
        except kinesis.exceptions.ClientError:
            iterator = stack.client("kinesis").get_shard_iterator(  # the admin's: GetRecords is then the guest's
                StreamName=stream, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
        with contextlib.suppress(kinesis.exceptions.ClientError):
            kinesis.get_records(ShardIterator=iterator, Limit=10)


def second_part(stack: LocalStack) -> None:
    """A summary the writer has written, sent again as the part of another shard (one more record of that minute
    from shard 999...): the item exists with another part, so the writer reads it to merge them."""
    kinesis = stack.client("kinesis")
    stream = stack.outputs["SummaryStreamName"]
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    cursor = {"iterator": kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                                     ShardIteratorType="TRIM_HORIZON")["ShardIterator"]}

    def first_record() -> Any:
        page = kinesis.get_records(ShardIterator=cursor["iterator"], Limit=1)
        cursor["iterator"] = page["NextShardIterator"]
        return page["Records"][0] if page["Records"] else None

    summary = json.loads(wait_for("a summary in the stream", first_record, timeout=60, stack=stack)["Data"])
    summary["Partial"] = f"shardId-000000000999/{time.time_ns()}"
    kinesis.put_record(StreamName=stream, Data=json.dumps(summary).encode(), PartitionKey=summary["Name"])


def take_step(stack: LocalStack, grant: Grant, trigger: str) -> None:
    if trigger.startswith("restart:"):
        restart(stack, COMPONENT_OF_ROLE[grant.role])
    elif trigger == "malformed:source":
        put(stack, stack.outputs["SourceStreamName"], b"this is not JSON")
    elif trigger == "malformed:summary":
        put(stack, stack.outputs["SummaryStreamName"], b"{not a summary")
    elif trigger == "guest":
        guest_reads(stack)
    elif trigger == "second-part":
        second_part(stack)


CASES = sorted((Grant(*key), trigger) for key, trigger in TRIGGERS.items())


@pytest.mark.parametrize(("grant", "trigger"), CASES, ids=[grant.id for grant, _ in CASES])
def test_without_the_grant_the_step_is_denied(stack: LocalStack, deploy: Any, grant: Grant, trigger: str) -> None:
    body = template_body()
    removed = [grant]
    if trigger.startswith("fail:"):  # the batch must fail for its records to be given up
        sid = trigger.removeprefix("fail:")
        removed += [g for g in grants(body) if g.role == grant.role and g.sid == sid]
    if trigger == "pinned-schema":
        pin_schema_version(body, "1")  # every table has its first version
    since = time.time()
    deploy(without(body, removed), grant.id.replace(":", "_"))
    role_name = f"{STACK}-{grant.role}"
    take_step(stack, grant, trigger)
    found = wait_for(f"{grant.action} denied to {role_name}", lambda: denials(stack, since, role_name, grant.action)
                     or (take_step(stack, grant, trigger) if trigger == "guest" else None), timeout=90, stack=stack)
    assert found
    assert all(grant.action in d["reason"] and "is not authorized to perform" in d["reason"] for d in found)


def test_with_every_grant_back_the_flow_is_whole(stack: LocalStack, deploy: Any) -> None:
    deploy(template_body(), "original")
    dynamodb = stack.client("dynamodb")
    table = stack.outputs["SensorTableName"]

    def items() -> int:
        return dynamodb.scan(TableName=table, Select="COUNT")["Count"]

    before = items()
    wait_for("new summaries", lambda: items() > before, timeout=90, stack=stack)
    since = time.time()  # by now every component has come back from the last case
    restart(stack, "lambda")
    restart(stack, "firehose")
    guest_reads(stack)
    written = items()
    wait_for("more summaries", lambda: items() > written, timeout=90, stack=stack)
    recent = [d for d in iam_state(stack)["recent_denials"] if d["at"] >= since]
    assert not recent, recent
