"""Which S3 REST operation a request is, from its method, path, query and headers, and its bucket and key
(path-style or virtual-hosted)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

from localaws.iam.actions.model import RequestInfo, UnmappedRequest
from localaws.iam.actions.parsing import headers_of

_S3_BUCKET_SUBRESOURCES: tuple[tuple[str, Mapping[str, str]], ...] = (
    ("delete", {"POST": "DeleteObjects"}),
    ("policyStatus", {"GET": "GetBucketPolicyStatus"}),
    ("policy", {"GET": "GetBucketPolicy", "PUT": "PutBucketPolicy", "DELETE": "DeleteBucketPolicy"}),
    ("versioning", {"GET": "GetBucketVersioning", "PUT": "PutBucketVersioning"}),
    ("lifecycle", {"GET": "GetBucketLifecycleConfiguration", "PUT": "PutBucketLifecycleConfiguration",
                   "DELETE": "DeleteBucketLifecycle"}),
    ("notification", {"GET": "GetBucketNotificationConfiguration", "PUT": "PutBucketNotificationConfiguration"}),
    ("tagging", {"GET": "GetBucketTagging", "PUT": "PutBucketTagging", "DELETE": "DeleteBucketTagging"}),
    ("cors", {"GET": "GetBucketCors", "PUT": "PutBucketCors", "DELETE": "DeleteBucketCors"}),
    ("encryption", {"GET": "GetBucketEncryption", "PUT": "PutBucketEncryption", "DELETE": "DeleteBucketEncryption"}),
    ("acl", {"GET": "GetBucketAcl", "PUT": "PutBucketAcl"}),
    ("logging", {"GET": "GetBucketLogging", "PUT": "PutBucketLogging"}),
    ("publicAccessBlock", {"GET": "GetPublicAccessBlock", "PUT": "PutPublicAccessBlock",
                           "DELETE": "DeletePublicAccessBlock"}),
    ("ownershipControls", {"GET": "GetBucketOwnershipControls", "PUT": "PutBucketOwnershipControls",
                           "DELETE": "DeleteBucketOwnershipControls"}),
    ("website", {"GET": "GetBucketWebsite", "PUT": "PutBucketWebsite", "DELETE": "DeleteBucketWebsite"}),
    ("replication", {"GET": "GetBucketReplication", "PUT": "PutBucketReplication",
                     "DELETE": "DeleteBucketReplication"}),
    ("accelerate", {"GET": "GetBucketAccelerateConfiguration", "PUT": "PutBucketAccelerateConfiguration"}),
    ("requestPayment", {"GET": "GetBucketRequestPayment", "PUT": "PutBucketRequestPayment"}),
    ("object-lock", {"GET": "GetObjectLockConfiguration", "PUT": "PutObjectLockConfiguration"}),
    ("location", {"GET": "GetBucketLocation"}),
    ("uploads", {"GET": "ListMultipartUploads"}),
    ("versions", {"GET": "ListObjectVersions"}),
    ("session", {"GET": "CreateSession"}),
    ("abac", {"GET": "GetBucketAbac", "PUT": "PutBucketAbac"}),
    ("metadataConfiguration", {"GET": "GetBucketMetadataConfiguration", "POST": "CreateBucketMetadataConfiguration",
                               "DELETE": "DeleteBucketMetadataConfiguration"}),
    ("metadataTable", {"GET": "GetBucketMetadataTableConfiguration", "POST": "CreateBucketMetadataTableConfiguration",
                       "DELETE": "DeleteBucketMetadataTableConfiguration"}),
    ("metadataAnnotationTable", {"PUT": "UpdateBucketMetadataAnnotationTableConfiguration"}),
    ("metadataInventoryTable", {"PUT": "UpdateBucketMetadataInventoryTableConfiguration"}),
    ("metadataJournalTable", {"PUT": "UpdateBucketMetadataJournalTableConfiguration"}),
)
# Configurations addressed by ?<name>&id=: GET without id lists them.
_S3_BUCKET_CONFIGURATIONS = {
    "analytics": "BucketAnalyticsConfiguration", "metrics": "BucketMetricsConfiguration",
    "inventory": "BucketInventoryConfiguration", "intelligent-tiering": "BucketIntelligentTieringConfiguration",
}
_S3_OBJECT_SUBRESOURCES: tuple[tuple[str, Mapping[str, str]], ...] = (
    ("acl", {"GET": "GetObjectAcl", "PUT": "PutObjectAcl"}),
    ("tagging", {"GET": "GetObjectTagging", "PUT": "PutObjectTagging", "DELETE": "DeleteObjectTagging"}),
    ("attributes", {"GET": "GetObjectAttributes"}),
    ("legal-hold", {"GET": "GetObjectLegalHold", "PUT": "PutObjectLegalHold"}),
    ("retention", {"GET": "GetObjectRetention", "PUT": "PutObjectRetention"}),
    ("torrent", {"GET": "GetObjectTorrent"}),
    ("restore", {"POST": "RestoreObject"}),
    ("select", {"POST": "SelectObjectContent"}),
    ("renameObject", {"PUT": "RenameObject"}),
    ("encryption", {"PUT": "UpdateObjectEncryption"}),
    ("uploads", {"POST": "CreateMultipartUpload"}),
)


_PORT = re.compile(r":\d+$")
_VIRTUAL_S3 = re.compile(r"(?P<bucket>.+)\.s3\..+")


@dataclass(frozen=True)
class S3Request:
    operation: str
    bucket: str
    key: str  # decoded once; "" for bucket operations
    query: Mapping[str, list[str]]


def _virtual_bucket(host: str) -> str | None:
    """The bucket of a virtual-hosted-style Host: ``<bucket>.s3.<anything>`` or ``<bucket>.localhost``."""
    host = _PORT.sub("", host.strip().lower())
    match = _VIRTUAL_S3.fullmatch(host)
    if match:
        return match.group("bucket")
    if host.endswith(".localhost"):
        bucket = host[: -len(".localhost")]
        if bucket and bucket != "s3" and not bucket.startswith(("s3.", "s3-")):  # s3.localhost: an endpoint
            return bucket
    return None


def s3_locate(request: RequestInfo) -> S3Request:
    headers = headers_of(request)
    method = request.method.upper()
    query = parse_qs(request.query, keep_blank_values=True)
    path = request.path or "/"
    rest = path[1:] if path.startswith("/") else path
    virtual = _virtual_bucket(request.host or headers.get("host", ""))
    if virtual is not None:
        bucket, raw_key = virtual, rest
    else:
        raw_bucket, _, raw_key = rest.partition("/")
        bucket = unquote(raw_bucket)
    key = unquote(raw_key)
    if not bucket:
        if method in ("GET", "HEAD"):
            return S3Request("ListBuckets", "", "", query)
        raise UnmappedRequest(f"no S3 operation is {method} /")
    if virtual is None and method == "POST" and bucket == "WriteGetObjectResponse" and not key:
        return S3Request("WriteGetObjectResponse", "", "", query)  # S3 Object Lambda (no bucket has capitals)
    return S3Request(_s3_operation(method, bucket, key, query, headers), bucket, key, query)


def _s3_operation(method: str, bucket: str, key: str, query: Mapping[str, list[str]],
                  headers: Mapping[str, str]) -> str:
    if not key:
        if method == "GET" and query.get("list-type") == ["2"]:
            return "ListObjectsV2"
        for name, operations in _S3_BUCKET_SUBRESOURCES:
            if name in query and method in operations:
                return operations[method]
        for name, suffix in _S3_BUCKET_CONFIGURATIONS.items():
            if name in query:
                if method == "GET":
                    return f"Get{suffix}" if "id" in query else f"List{suffix}s"
                verb = {"PUT": "Put", "DELETE": "Delete"}.get(method)
                if verb:
                    return f"{verb}{suffix}"
        operation = {"GET": "ListObjects", "HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket",
                     "POST": "PostObject"}.get(method)
        if operation:
            return operation
        raise UnmappedRequest(f"no S3 bucket operation is {method} {bucket}")
    if "annotation" in query:
        if method == "GET":
            return "GetObjectAnnotation" if "annotationName" in query else "ListObjectAnnotations"
        if method in ("PUT", "DELETE"):
            return f"{method.title()}ObjectAnnotation"
    for name, operations in _S3_OBJECT_SUBRESOURCES:
        if name in query and method in operations:
            return operations[method]
    copy = bool(headers.get("x-amz-copy-source"))
    upload = "uploadId" in query
    if method == "PUT":
        if upload and "partNumber" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        return "CopyObject" if copy else "PutObject"
    if method == "POST" and upload:
        return "CompleteMultipartUpload"
    if method == "DELETE":
        return "AbortMultipartUpload" if upload else "DeleteObject"
    if method == "GET":
        return "ListParts" if upload else "GetObject"
    if method == "HEAD":
        return "HeadObject"
    raise UnmappedRequest(f"no S3 object operation is {method} {bucket}/{key}")
