"""The endpoint authenticates every request (SigV4 against the signing key's secret) and authorizes it against
the signer's IAM policies, answering as each AWS service does; a browser's guest credentials read the map and
summary streams and nothing else."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localaws.settings import DEFAULT_REGION
from tests.stack.iam.conftest import guest_credentials, iam_state, unsigned
from tests.support.stack import LocalStack


def client(stack: LocalStack, service: str, **credentials: str) -> Any:
    return boto3.client(service, endpoint_url=stack.endpoint_url, region_name=DEFAULT_REGION,
                        config=Config(retries={"max_attempts": 1}), **credentials)


def refused(call: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as error:
        call()
    response = error.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


@pytest.fixture(scope="module")
def guest(stack: LocalStack) -> dict[str, str]:
    return guest_credentials(stack)


def test_the_guest_reads_the_map_and_summary_streams(stack: LocalStack, guest: dict[str, str]) -> None:
    kinesis = client(stack, "kinesis", **guest)
    for stream in (stack.outputs["MapStreamName"], stack.outputs["SummaryStreamName"]):
        shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        assert "Records" in kinesis.get_records(ShardIterator=iterator, Limit=5)


@pytest.mark.parametrize("stream_output", ["SourceStreamName", "SummaryStreamName", "MapStreamName"])
def test_the_guest_cannot_write_any_stream(stack: LocalStack, guest: dict[str, str], stream_output: str) -> None:
    kinesis = client(stack, "kinesis", **guest)
    stream = stack.outputs[stream_output]
    entry = {"Data": b"{}", "PartitionKey": "p"}
    for call, action in ((lambda: kinesis.put_record(StreamName=stream, **entry), "kinesis:PutRecord"),
                         (lambda: kinesis.put_records(StreamName=stream, Records=[entry]), "kinesis:PutRecords")):
        status, code, message = refused(call)
        assert (status, code) == (400, "AccessDeniedException")
        assert f"assumed-role/{stack.outputs['MapUnauthenticatedRoleArn'].rsplit('/', 1)[1]}/map" in message
        arn = stack.outputs[stream_output.replace("Name", "Arn")]
        assert f"is not authorized to perform: {action} on resource: {arn}" in message
    # nor read the raw stream
    assert refused(lambda: kinesis.list_shards(StreamName=stack.outputs["SourceStreamName"]))[1] == \
        "AccessDeniedException"


def test_the_guest_cannot_read_dynamodb_or_s3(stack: LocalStack, guest: dict[str, str]) -> None:
    dynamodb = client(stack, "dynamodb", **guest)
    table = stack.outputs["SensorTableName"]
    for call in (lambda: dynamodb.scan(TableName=table, Limit=1),
                 lambda: dynamodb.get_item(TableName=table, Key={"Name": {"S": "Shadowfax"},
                                                                   "StatusTime": {"S": "2026-01-01T00:00:00Z"}})):
        assert refused(call)[:2] == (400, "AccessDeniedException")
    s3 = client(stack, "s3", **guest)
    for bucket in (stack.outputs["ArchiveBucketName"], stack.outputs["AthenaResultsBucketName"]):
        status, code, message = refused(lambda b=bucket: s3.list_objects_v2(Bucket=b))
        assert (status, code) == (403, "AccessDenied")
        assert f"s3:ListBucket on resource: arn:aws:s3:::{bucket}" in message
        assert refused(lambda b=bucket: s3.get_object(Bucket=b, Key="raw/anything"))[:2] == (403, "AccessDenied")
    assert refused(lambda: client(stack, "sqs", **guest).send_message(
        QueueUrl=stack.outputs["QuarantineQueueUrl"], MessageBody="x"))[1] == "AccessDenied"


def test_a_token_or_role_that_does_not_fit_is_refused(stack: LocalStack) -> None:
    sts = unsigned(stack, "sts")
    assert refused(lambda: sts.assume_role_with_web_identity(
        RoleArn=stack.outputs["MapUnauthenticatedRoleArn"], RoleSessionName="map",
        WebIdentityToken="eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtZSJ9.forged"))[1] == "InvalidIdentityToken"
    cognito = unsigned(stack, "cognito-identity")
    identity = cognito.get_id(IdentityPoolId=stack.outputs["MapIdentityPoolId"])["IdentityId"]
    token = cognito.get_open_id_token(IdentityId=identity)["Token"]
    aggregator_role = stack.outputs["MapUnauthenticatedRoleArn"].replace("MapUnauthenticatedRole", "AggregatorRole")
    status, code, _ = refused(lambda: sts.assume_role_with_web_identity(
        RoleArn=aggregator_role, RoleSessionName="map", WebIdentityToken=token))
    assert (status, code) == (403, "AccessDenied")  # the aggregator's role trusts Lambda only


def test_unsigned_requests_are_refused(stack: LocalStack) -> None:
    assert refused(lambda: unsigned(stack, "kinesis").list_streams())[:2] == (
        400, "MissingAuthenticationTokenException")
    assert refused(lambda: unsigned(stack, "dynamodb").list_tables())[:2] == (
        400, "MissingAuthenticationTokenException")
    assert refused(lambda: unsigned(stack, "sts").get_caller_identity())[:2] == (403, "MissingAuthenticationToken")
    status, code, message = refused(lambda: unsigned(stack, "s3").list_objects_v2(
        Bucket=stack.outputs["ArchiveBucketName"]))  # S3 treats it as anonymous; no policy admits anonymous
    assert (status, code) == (403, "AccessDenied") and message.startswith("User: anonymous")


@pytest.mark.parametrize(("service", "call", "expected"), [
    ("kinesis", lambda c: c.list_streams(), (400, "InvalidSignatureException")),
    ("dynamodb", lambda c: c.list_tables(), (400, "InvalidSignatureException")),
    ("s3", lambda c: c.list_buckets(), (403, "SignatureDoesNotMatch")),
    ("sts", lambda c: c.get_caller_identity(), (403, "SignatureDoesNotMatch")),
    ("sqs", lambda c: c.list_queues(), (403, "SignatureDoesNotMatch")),
    ("lambda", lambda c: c.list_functions(), (403, "InvalidSignatureException")),
])
def test_a_wrong_secret_is_refused_as_the_service_does(stack: LocalStack, service: str, call: Any,
                                                       expected: tuple[int, str]) -> None:
    wrong = client(stack, service, aws_access_key_id="test", aws_secret_access_key="not-the-secret")
    assert refused(lambda: call(wrong))[:2] == expected


@pytest.mark.parametrize(("service", "call", "expected"), [
    ("kinesis", lambda c: c.list_streams(), (400, "UnrecognizedClientException")),
    ("s3", lambda c: c.list_buckets(), (403, "InvalidAccessKeyId")),
    ("sts", lambda c: c.get_caller_identity(), (403, "InvalidClientTokenId")),
])
def test_an_unknown_key_is_refused_as_the_service_does(stack: LocalStack, service: str, call: Any,
                                                       expected: tuple[int, str]) -> None:
    unknown = client(stack, service, aws_access_key_id="AKIAUNKNOWNKEY000000", aws_secret_access_key="x")
    assert refused(lambda: call(unknown))[:2] == expected


def test_a_session_key_with_another_token_is_refused(stack: LocalStack, guest: dict[str, str]) -> None:
    forged = {**guest, "aws_session_token": guest["aws_session_token"][:-8] + "AAAAAAAA"}
    assert refused(lambda: client(stack, "kinesis", **forged).list_shards(
        StreamName=stack.outputs["MapStreamName"]))[1] == "UnrecognizedClientException"


def test_a_service_principal_may_only_assume_the_roles_that_trust_it(stack: LocalStack) -> None:
    lambda_service = {"aws_access_key_id": "lambda.amazonaws.com", "aws_secret_access_key": "test"}
    assert refused(lambda: client(stack, "kinesis", **lambda_service).list_streams())[1] == "AccessDeniedException"
    sts = client(stack, "sts", **lambda_service)
    role = stack.outputs["MapUnauthenticatedRoleArn"]  # trusts Cognito's web identities only
    assert refused(lambda: sts.assume_role(RoleArn=role, RoleSessionName="svc"))[1] == "AccessDenied"
    firehose_role = role.replace("MapUnauthenticatedRole", "ArchiveDeliveryRole")
    firehose = client(stack, "sts", aws_access_key_id="firehose.amazonaws.com", aws_secret_access_key="test")
    assert refused(lambda: firehose.assume_role(RoleArn=firehose_role, RoleSessionName="svc"))[1] == "AccessDenied"
    assert firehose.assume_role(RoleArn=firehose_role, RoleSessionName="svc",  # its trust policy wants the account
                                ExternalId=stack.outputs["AccountId"])["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_denials_are_reported_by_local_status(stack: LocalStack, guest: dict[str, str]) -> None:
    refused(lambda: client(stack, "dynamodb", **guest).scan(TableName=stack.outputs["SensorTableName"]))
    state = iam_state(stack)
    assert state["mode"] == "enforce" and state["denied"] >= 1
    assert any(d["action"] == "dynamodb:Scan" and "/map" in d["principal"] for d in state["recent_denials"])
    status = stack.cli("local", "status", "--data-dir", str(stack.data_dir))
    assert "IAM (enforce):" in status.stdout, status.stdout
    assert "dynamodb:Scan on arn:aws:dynamodb:" in status.stdout, status.stdout
    logged = (stack.data_dir / "logs" / "gateway.log").read_text()
    assert "denied: principal=arn:aws:sts::" in logged and "action=dynamodb:Scan" in logged
