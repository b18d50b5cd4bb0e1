"""Pure helpers of the local endpoint: service routing, mutation detection, error shapes."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest

from localaws.wire.errors import auth_error, error_response, protocol_of
from localaws.wire.operations import is_mutation, operation_name
from localaws.wire.routing import service_of, unsigned_query_service


def _auth(service: str) -> str:
    return (f"AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=abc")


@pytest.mark.parametrize("service", ["kinesis", "dynamodb", "s3", "glue", "athena", "cognito-identity", "lambda"])
def test_signed_requests_route_by_credential_scope(service: str) -> None:
    assert service_of(_auth(service), None, "") == service


@pytest.mark.parametrize(("target", "service"), [
    ("AWSCognitoIdentityService.GetId", "cognito-identity"),
    ("Kinesis_20131202.GetRecords", "kinesis"),
    ("DynamoDB_20120810.Query", "dynamodb"),
])
def test_unsigned_json_requests_route_by_target(target: str, service: str) -> None:
    assert service_of(None, target, "") == service


def test_presigned_and_anonymous_requests() -> None:
    presigned = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261125%2Fus-east-1%2Fs3%2Faws4_request"
    assert service_of(None, None, presigned) == "s3"
    assert service_of(None, None, "") == "s3"


@pytest.mark.parametrize(("method", "operation", "expected"), [
    ("GET", None, False),
    ("HEAD", None, False),
    ("PUT", None, True),  # S3 PutObject
    ("DELETE", None, True),
    ("POST", "CreateTable", True),
    ("POST", "BatchCreatePartition", True),
    ("POST", "GetTable", False),
    ("POST", "GetPartitions", False),
    ("POST", "GetId", True),  # creates the identity a browser keeps
    ("POST", "GetCredentialsForIdentity", False),
    ("POST", "AssumeRole", True),  # the session it records signs later requests: kept across a restart
    ("POST", "GetSessionToken", False),
    ("POST", "SendMessage", True),
    ("POST", "ReceiveMessage", False),
])
def test_mutations(method: str, operation: str | None, expected: bool) -> None:
    assert is_mutation(method, operation) is expected


def test_operation_name_from_target_or_query_body() -> None:
    assert operation_name("AWSGlue.CreateTable", b"{}", "application/x-amz-json-1.1") == "CreateTable"
    assert operation_name(None, b"Action=CreateRole&RoleName=r", "application/x-www-form-urlencoded") == "CreateRole"
    assert operation_name(None, b"<xml/>", "application/xml") is None


def test_error_shapes_match_each_protocol() -> None:
    json_error = error_response(400, "Bad", "it broke", protocol_of("AWSGlue.GetTable", None, "glue"))
    assert json.loads(json_error.body)["__type"] == "Bad"
    assert json_error.headers["x-amzn-ErrorType"] == "Bad"
    query = error_response(400, "Bad", "a <b>", protocol_of(None, "application/x-www-form-urlencoded", "iam"))
    assert ElementTree.fromstring(query.body).findtext("Error/Code") == "Bad"
    assert ElementTree.fromstring(query.body).findtext("Error/Message") == "a <b>"
    rest = error_response(404, "NoSuchKey", "gone", protocol_of(None, None, "s3"))
    assert ElementTree.fromstring(rest.body).findtext("Code") == "NoSuchKey"


def test_an_unsigned_query_call_is_known_by_its_version() -> None:
    form = "application/x-www-form-urlencoded; charset=utf-8"
    assert unsigned_query_service(form, b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15") == "sts"
    assert unsigned_query_service(form, b"Action=ListQueues&Version=2012-11-05") == "sqs"
    assert unsigned_query_service(form, b"Action=Nothing&Version=1999-01-01") is None
    assert unsigned_query_service("application/xml", b"<x/>") is None


def test_refusals_are_shaped_as_each_service_answers() -> None:
    dynamodb = auth_error("dynamodb", "json", "denied", "User: x is not authorized")
    assert dynamodb.status == 400
    assert json.loads(dynamodb.body)["__type"] == "com.amazon.coral.service#AccessDeniedException"
    sqs = auth_error("sqs", "json", "bad-signature", "no")
    assert (sqs.status, sqs.headers["x-amzn-query-error"]) == (403, "SignatureDoesNotMatch;Sender")
    sts = auth_error("sts", "query", "unknown-key", "The security token included in the request is invalid.")
    assert sts.status == 403 and b"<Code>InvalidClientTokenId</Code>" in sts.body
    lam = auth_error("lambda", "rest-json", "denied", "no")
    assert lam.status == 403 and json.loads(lam.body)["__type"] == "AccessDeniedException"
    head = auth_error("s3", "rest-xml", "denied", "no", head=True)
    assert (head.status, head.body) == (403, b"")
    assert b"<Code>InvalidAccessKeyId</Code>" in auth_error("s3", "rest-xml", "unknown-key", "no").body
