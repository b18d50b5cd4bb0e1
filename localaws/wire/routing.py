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


# The API version a query-protocol request carries names its service when no signature does.
_QUERY_VERSIONS = {"2011-06-15": "sts", "2010-05-08": "iam", "2012-11-05": "sqs", "2010-05-15": "cloudformation"}


def unsigned_query_service(content_type: str | None, body: bytes) -> str | None:
    """The service of an unsigned query-protocol request (``Action=...&Version=...``), if it is one."""
    if not content_type or not content_type.startswith("application/x-www-form-urlencoded"):
        return None
    version = parse_qs(body.decode("utf-8", "replace")).get("Version", [""])[0]
    return _QUERY_VERSIONS.get(version)


def target_operation(target: str | None) -> str | None:
    return target.rsplit(".", 1)[-1] if target else None


_S3_BUCKET_SUBRESOURCES = {
    "policy": "BucketPolicy", "versioning": "BucketVersioning", "lifecycle": "BucketLifecycleConfiguration",
    "notification": "BucketNotificationConfiguration", "tagging": "BucketTagging", "cors": "BucketCors",
    "encryption": "BucketEncryption", "acl": "BucketAcl", "publicAccessBlock": "PublicAccessBlock",
    "ownershipControls": "BucketOwnershipControls",
}


def s3_operation(method: str, path: str, query_string: str, headers: dict[str, str] | None = None) -> str:
    """The S3 API operation of a path-style REST request (as in the SDKs' operation names)."""
    query = parse_qs(query_string, keep_blank_values=True)
    parts = path.lstrip("/").split("/", 1)
    bucket, key = parts[0], (parts[1] if len(parts) > 1 else "")
    if not bucket:
        return "ListBuckets"
    if not key:
        if method == "POST" and "delete" in query:
            return "DeleteObjects"
        if "location" in query:
            return "GetBucketLocation"
        if "uploads" in query:
            return "ListMultipartUploads"
        for name, suffix in _S3_BUCKET_SUBRESOURCES.items():
            if name in query:
                verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method, method.title())
                return f"{verb}{suffix}"
        if method == "GET":
            return "ListObjectsV2" if query.get("list-type") == ["2"] else (
                "ListObjectVersions" if "versions" in query else "ListObjects")
        return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(method, method)
    if method == "POST":
        return "CreateMultipartUpload" if "uploads" in query else (
            "CompleteMultipartUpload" if "uploadId" in query else "PostObject")
    if method == "PUT":
        if "partNumber" in query and "uploadId" in query:
            return "UploadPart"
        if "tagging" in query:
            return "PutObjectTagging"
        copy = {k.lower(): v for k, v in (headers or {}).items()}.get("x-amz-copy-source")
        return "CopyObject" if copy else "PutObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    if method == "GET" and "uploadId" in query:
        return "ListParts"
    return {"GET": "GetObject", "HEAD": "HeadObject"}.get(method, method)
