"""Requests of the local endpoint as ``localaws.iam.actions`` sees them (JSON, query and REST protocols), for the
tests of the IAM action mapping, and the SDK models they are checked against."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import urlencode

import botocore.session

from localaws.iam.actions import Access, RequestInfo, accesses

REGION = "eu-west-1"
ACCOUNT = "123456789012"
TARGETS = {
    "kinesis": "Kinesis_20131202", "dynamodb": "DynamoDB_20120810", "glue": "AWSGlue", "firehose": "Firehose_20150804",
    "athena": "AmazonAthena", "logs": "Logs_20140328", "cognito-identity": "AWSCognitoIdentityService",
    "sqs": "AmazonSQS",
}


@cache
def service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def json_request(service: str, operation: str, body: Mapping[str, Any] | bytes | None = None,
                 with_operation: bool = True) -> RequestInfo:
    raw = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
    headers = {"x-amz-target": f"{TARGETS[service]}.{operation}", "content-type": "application/x-amz-json-1.1"}
    return RequestInfo(service, operation if with_operation else None, "POST", "/", "", headers, raw, REGION, ACCOUNT)


def query_request(service: str, params: Mapping[str, str], method: str = "POST", path: str = "/") -> RequestInfo:
    if method == "GET":
        return RequestInfo(service, None, method, path, urlencode(params), {}, b"", REGION, ACCOUNT)
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    return RequestInfo(service, None, method, path, "", headers, urlencode(params).encode(), REGION, ACCOUNT)


def rest_request(service: str, method: str, path: str, query: str = "", body: bytes = b"",
                 headers: Mapping[str, str] | None = None, host: str = "localhost:4566") -> RequestInfo:
    return RequestInfo(service, None, method, path, query, dict(headers or {}), body, REGION, ACCOUNT, host)


def one(request: RequestInfo, **kwargs: Any) -> Access:
    result = accesses(request, **kwargs)
    assert len(result) == 1, result
    return result[0]


def pairs(result: list[Access]) -> list[tuple[str, tuple[str, ...]]]:
    return [(access.action, access.resources) for access in result]
