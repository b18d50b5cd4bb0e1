"""Which AWS service a request to the one local endpoint is for. Pure functions."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_TARGET_PREFIXES = {
    "Kinesis_20131202": "kinesis",
    "DynamoDB_20120810": "dynamodb",
    "DynamoDB_20111205": "dynamodb",
    "AmazonAthena": "athena",
    "AWSGlue": "glue",
    "Firehose_20150804": "firehose",
    "AWSCognitoIdentityService": "cognito-identity",
    "AmazonSQS": "sqs",
}
# Athena control-plane operations whose state lives in moto; queries go to the Athena engine.
ATHENA_CONTROL_PLANE = frozenset(
    {"CreateWorkGroup", "DeleteWorkGroup", "GetWorkGroup", "ListWorkGroups", "UpdateWorkGroup",
     "CreateDataCatalog", "DeleteDataCatalog", "GetDataCatalog", "ListDataCatalogs",
     "TagResource", "UntagResource", "ListTagsForResource"}
)


def service_of(authorization: str | None, target: str | None, query_string: str) -> str:
    """The signing name of the service (kinesis, dynamodb, s3, ...); unsigned requests without a
    target header are S3 (path-style, e.g. a presigned or anonymous GET)."""
    if authorization:
        match = _CREDENTIAL.search(authorization)
        if match:
            return match.group(1)
    if target:
        prefix = target.split(".", 1)[0]
        if prefix in _TARGET_PREFIXES:
            return _TARGET_PREFIXES[prefix]
    if "X-Amz-Credential" in query_string:
        credential = parse_qs(query_string).get("X-Amz-Credential", [""])[0]
        parts = credential.split("/")
        if len(parts) == 5:
            return parts[3]
    return "s3"


def target_operation(target: str | None) -> str | None:
    return target.rsplit(".", 1)[-1] if target else None
