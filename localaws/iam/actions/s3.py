"""S3: the IAM action of each operation (and of its versioned form), on its bucket or object ARN, with the s3:
condition keys; copies, multi-object deletes and browser-form uploads."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote
from xml.etree import ElementTree

from localaws.iam.actions.model import Access, ContextValue, RequestInfo, UnmappedRequest, one
from localaws.iam.actions.parsing import headers_of
from localaws.iam.actions.s3_operations import s3_locate

# Operation -> (IAM action, IAM action when the request names a versionId). Operations not listed authorize as
# s3:<Operation> on their bucket or object ARN.
_S3_ACTIONS: dict[str, tuple[str, str | None]] = {
    "ListBuckets": ("ListAllMyBuckets", None),
    "HeadBucket": ("ListBucket", None), "ListObjects": ("ListBucket", None), "ListObjectsV2": ("ListBucket", None),
    "ListObjectVersions": ("ListBucketVersions", None),
    "ListMultipartUploads": ("ListBucketMultipartUploads", None),
    "ListParts": ("ListMultipartUploadParts", None),
    "GetBucketLifecycleConfiguration": ("GetLifecycleConfiguration", None),
    "PutBucketLifecycleConfiguration": ("PutLifecycleConfiguration", None),
    "DeleteBucketLifecycle": ("PutLifecycleConfiguration", None),
    "DeleteBucketTagging": ("PutBucketTagging", None),
    "GetBucketCors": ("GetBucketCORS", None), "PutBucketCors": ("PutBucketCORS", None),
    "DeleteBucketCors": ("PutBucketCORS", None),
    "GetBucketEncryption": ("GetEncryptionConfiguration", None),
    "PutBucketEncryption": ("PutEncryptionConfiguration", None),
    "DeleteBucketEncryption": ("PutEncryptionConfiguration", None),
    "GetBucketNotificationConfiguration": ("GetBucketNotification", None),
    "PutBucketNotificationConfiguration": ("PutBucketNotification", None),
    "GetPublicAccessBlock": ("GetBucketPublicAccessBlock", None),
    "PutPublicAccessBlock": ("PutBucketPublicAccessBlock", None),
    "DeletePublicAccessBlock": ("PutBucketPublicAccessBlock", None),
    "DeleteBucketOwnershipControls": ("PutBucketOwnershipControls", None),
    "GetBucketReplication": ("GetReplicationConfiguration", None),
    "PutBucketReplication": ("PutReplicationConfiguration", None),
    "DeleteBucketReplication": ("PutReplicationConfiguration", None),
    "GetBucketAccelerateConfiguration": ("GetAccelerateConfiguration", None),
    "PutBucketAccelerateConfiguration": ("PutAccelerateConfiguration", None),
    "GetObjectLockConfiguration": ("GetBucketObjectLockConfiguration", None),
    "PutObjectLockConfiguration": ("PutBucketObjectLockConfiguration", None),
    "GetBucketAnalyticsConfiguration": ("GetAnalyticsConfiguration", None),
    "ListBucketAnalyticsConfigurations": ("GetAnalyticsConfiguration", None),
    "PutBucketAnalyticsConfiguration": ("PutAnalyticsConfiguration", None),
    "DeleteBucketAnalyticsConfiguration": ("PutAnalyticsConfiguration", None),
    "GetBucketMetricsConfiguration": ("GetMetricsConfiguration", None),
    "ListBucketMetricsConfigurations": ("GetMetricsConfiguration", None),
    "PutBucketMetricsConfiguration": ("PutMetricsConfiguration", None),
    "DeleteBucketMetricsConfiguration": ("PutMetricsConfiguration", None),
    "GetBucketInventoryConfiguration": ("GetInventoryConfiguration", None),
    "ListBucketInventoryConfigurations": ("GetInventoryConfiguration", None),
    "PutBucketInventoryConfiguration": ("PutInventoryConfiguration", None),
    "DeleteBucketInventoryConfiguration": ("PutInventoryConfiguration", None),
    "GetBucketIntelligentTieringConfiguration": ("GetIntelligentTieringConfiguration", None),
    "ListBucketIntelligentTieringConfigurations": ("GetIntelligentTieringConfiguration", None),
    "PutBucketIntelligentTieringConfiguration": ("PutIntelligentTieringConfiguration", None),
    "DeleteBucketIntelligentTieringConfiguration": ("PutIntelligentTieringConfiguration", None),
    "GetObject": ("GetObject", "GetObjectVersion"), "HeadObject": ("GetObject", "GetObjectVersion"),
    "SelectObjectContent": ("GetObject", None),
    "GetObjectAcl": ("GetObjectAcl", "GetObjectVersionAcl"), "PutObjectAcl": ("PutObjectAcl", "PutObjectVersionAcl"),
    "GetObjectTagging": ("GetObjectTagging", "GetObjectVersionTagging"),
    "PutObjectTagging": ("PutObjectTagging", "PutObjectVersionTagging"),
    "DeleteObjectTagging": ("DeleteObjectTagging", "DeleteObjectVersionTagging"),
    "GetObjectAttributes": ("GetObjectAttributes", "GetObjectVersionAttributes"),
    "GetObjectTorrent": ("GetObjectTorrent", "GetObjectVersionTorrent"),
    "PutObject": ("PutObject", None), "PostObject": ("PutObject", None),
    "CreateMultipartUpload": ("PutObject", None), "UploadPart": ("PutObject", None),
    "CompleteMultipartUpload": ("PutObject", None),
    "CopyObject": ("PutObject", None), "UploadPartCopy": ("PutObject", None),
    "DeleteObject": ("DeleteObject", "DeleteObjectVersion"),
}
_S3_LIST_CONTEXT = (("prefix", "s3:prefix"), ("delimiter", "s3:delimiter"), ("max-keys", "s3:max-keys"))


def _s3_object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _s3_bucket_action(operation: str) -> str:
    return f"s3:{_S3_ACTIONS.get(operation, (operation, None))[0]}"


def s3_accesses(request: RequestInfo) -> list[Access]:
    target = s3_locate(request)
    operation, bucket, key, query = target.operation, target.bucket, target.key, target.query
    if operation == "ListBuckets":
        return one("s3:ListAllMyBuckets")
    if operation == "WriteGetObjectResponse":
        return one("s3-object-lambda:WriteGetObjectResponse")
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if operation == "DeleteObjects":
        return _s3_delete_objects(bucket, request.body)
    if operation == "PostObject":
        return one("s3:PutObject", _s3_object_arn(bucket, _s3_form_key(request)))
    version = (query.get("versionId") or [""])[0]
    context: dict[str, ContextValue] = {}
    if operation in ("ListObjects", "ListObjectsV2", "HeadBucket", "ListObjectVersions"):
        for name, condition in _S3_LIST_CONTEXT:
            if name in query:
                context[condition] = query[name][0]
        context.setdefault("s3:prefix", "")
    if not key:
        return one(_s3_bucket_action(operation), bucket_arn, context=context)
    plain, version_action = _S3_ACTIONS.get(operation, (operation, None))
    action = f"s3:{version_action if version and version_action else plain}"
    if version and version_action:
        context["s3:versionid"] = version
    result = [Access(action, (_s3_object_arn(bucket, key),), context)]
    if operation in ("CopyObject", "UploadPartCopy"):
        source = headers_of(request)["x-amz-copy-source"]
        source_arn, source_version = _s3_copy_source(source)
        result[0] = Access(action, result[0].resources, {**context, "s3:x-amz-copy-source": source})
        result.append(Access("s3:GetObjectVersion" if source_version else "s3:GetObject", (source_arn,),
                             {"s3:versionid": source_version} if source_version else {}))
    return result


def _s3_copy_source(value: str) -> tuple[str, str | None]:
    """The ARN and version of an ``x-amz-copy-source`` (``[/]bucket/key[?versionId=v]``, percent-encoded, or an
    access point object ARN)."""
    raw, _, query = value.partition("?")
    version = parse_qs(query).get("versionId", [None])[0]
    source = unquote(raw.strip())
    if source.startswith("/"):
        source = source[1:]
    if source.startswith("arn:"):
        return source, version
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise UnmappedRequest(f"an unreadable x-amz-copy-source: {value!r}")
    return _s3_object_arn(bucket, key), version


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _s3_delete_objects(bucket: str, body: bytes) -> list[Access]:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise UnmappedRequest(f"an unreadable DeleteObjects body: {error}") from error
    result = []
    for element in root.iter():
        if _local(element.tag) != "Object":
            continue
        fields = {_local(child.tag): child.text or "" for child in element}
        if "Key" not in fields:
            continue
        version = fields.get("VersionId")
        result.append(Access("s3:DeleteObjectVersion" if version else "s3:DeleteObject",
                             (_s3_object_arn(bucket, fields["Key"]),),
                             {"s3:versionid": version} if version else {}))
    if not result:
        raise UnmappedRequest("a DeleteObjects body without keys")
    return result


def _s3_form_key(request: RequestInfo) -> str:
    """The object key of a browser-form POST upload (multipart/form-data field ``key``)."""
    content_type = headers_of(request).get("content-type", "")
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or not match:
        raise UnmappedRequest("an S3 POST to a bucket that is neither DeleteObjects nor a form upload")
    fields: dict[str, str] = {}
    filename = ""
    for part in request.body.split(b"--" + match.group(1).encode("latin-1")):
        head, sep, value = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        disposition = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', disposition)
        if not name:
            continue
        file = re.search(r'\bfilename="([^"]*)"', disposition)
        if file:
            filename = file.group(1)
        elif name.group(1).lower() not in fields:
            fields[name.group(1).lower()] = value.removesuffix(b"\r\n").decode("utf-8", "replace")
    key = fields.get("key")
    if not key:
        raise UnmappedRequest("an S3 form upload without a key field")
    return key.replace("${filename}", filename)
