"""IAM authorizations of S3 requests (localaws.iam.actions): operations from method, path and query, bucket and
object ARNs, condition keys, copies, multi-object deletes, form uploads, and every operation of the SDK model."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from localaws.iam.actions import Access, RequestInfo, UnmappedRequest, accesses, operation_of
from tests.support.iam_requests import ACCOUNT, REGION, one, pairs, rest_request, service_model


def s3(method: str, path: str, query: str = "", headers: Mapping[str, str] | None = None, body: bytes = b"",
       host: str = "localhost:4566") -> RequestInfo:
    return rest_request("s3", method, path, query, body, headers, host)


BUCKET = "arn:aws:s3:::b"


@pytest.mark.parametrize(("method", "path", "query", "action", "resource"), [
    ("GET", "/", "", "s3:ListAllMyBuckets", "*"),
    ("GET", "/b", "", "s3:ListBucket", BUCKET),
    ("GET", "/b/", "list-type=2", "s3:ListBucket", BUCKET),
    ("HEAD", "/b", "", "s3:ListBucket", BUCKET),
    ("GET", "/b", "versions", "s3:ListBucketVersions", BUCKET),
    ("GET", "/b", "uploads", "s3:ListBucketMultipartUploads", BUCKET),
    ("GET", "/b", "location", "s3:GetBucketLocation", BUCKET),
    ("PUT", "/b", "", "s3:CreateBucket", BUCKET),
    ("DELETE", "/b", "", "s3:DeleteBucket", BUCKET),
    ("GET", "/b", "policy", "s3:GetBucketPolicy", BUCKET),
    ("PUT", "/b", "policy", "s3:PutBucketPolicy", BUCKET),
    ("DELETE", "/b", "policy", "s3:DeleteBucketPolicy", BUCKET),
    ("GET", "/b", "policyStatus", "s3:GetBucketPolicyStatus", BUCKET),
    ("GET", "/b", "lifecycle", "s3:GetLifecycleConfiguration", BUCKET),
    ("PUT", "/b", "lifecycle", "s3:PutLifecycleConfiguration", BUCKET),
    ("DELETE", "/b", "lifecycle", "s3:PutLifecycleConfiguration", BUCKET),
    ("GET", "/b", "tagging", "s3:GetBucketTagging", BUCKET),
    ("PUT", "/b", "tagging", "s3:PutBucketTagging", BUCKET),
    ("DELETE", "/b", "tagging", "s3:PutBucketTagging", BUCKET),
    ("GET", "/b", "cors", "s3:GetBucketCORS", BUCKET),
    ("PUT", "/b", "cors", "s3:PutBucketCORS", BUCKET),
    ("DELETE", "/b", "cors", "s3:PutBucketCORS", BUCKET),
    ("GET", "/b", "encryption", "s3:GetEncryptionConfiguration", BUCKET),
    ("PUT", "/b", "encryption", "s3:PutEncryptionConfiguration", BUCKET),
    ("DELETE", "/b", "encryption", "s3:PutEncryptionConfiguration", BUCKET),
    ("GET", "/b", "versioning", "s3:GetBucketVersioning", BUCKET),
    ("PUT", "/b", "versioning", "s3:PutBucketVersioning", BUCKET),
    ("GET", "/b", "notification", "s3:GetBucketNotification", BUCKET),
    ("PUT", "/b", "notification", "s3:PutBucketNotification", BUCKET),
    ("GET", "/b", "acl", "s3:GetBucketAcl", BUCKET),
    ("PUT", "/b", "acl", "s3:PutBucketAcl", BUCKET),
    ("GET", "/b", "logging", "s3:GetBucketLogging", BUCKET),
    ("PUT", "/b", "logging", "s3:PutBucketLogging", BUCKET),
    ("GET", "/b", "publicAccessBlock", "s3:GetBucketPublicAccessBlock", BUCKET),
    ("PUT", "/b", "publicAccessBlock", "s3:PutBucketPublicAccessBlock", BUCKET),
    ("DELETE", "/b", "publicAccessBlock", "s3:PutBucketPublicAccessBlock", BUCKET),
    ("GET", "/b", "ownershipControls", "s3:GetBucketOwnershipControls", BUCKET),
    ("PUT", "/b", "ownershipControls", "s3:PutBucketOwnershipControls", BUCKET),
    ("DELETE", "/b", "ownershipControls", "s3:PutBucketOwnershipControls", BUCKET),
    ("GET", "/b/k", "", "s3:GetObject", BUCKET + "/k"),
    ("HEAD", "/b/k", "", "s3:GetObject", BUCKET + "/k"),
    ("GET", "/b/k", "versionId=v1", "s3:GetObjectVersion", BUCKET + "/k"),
    ("GET", "/b/k", "tagging", "s3:GetObjectTagging", BUCKET + "/k"),
    ("PUT", "/b/k", "tagging", "s3:PutObjectTagging", BUCKET + "/k"),
    ("DELETE", "/b/k", "tagging", "s3:DeleteObjectTagging", BUCKET + "/k"),
    ("GET", "/b/k", "acl", "s3:GetObjectAcl", BUCKET + "/k"),
    ("PUT", "/b/k", "acl", "s3:PutObjectAcl", BUCKET + "/k"),
    ("GET", "/b/k", "attributes", "s3:GetObjectAttributes", BUCKET + "/k"),
    ("PUT", "/b/k", "", "s3:PutObject", BUCKET + "/k"),
    ("POST", "/b/k", "uploads", "s3:PutObject", BUCKET + "/k"),
    ("PUT", "/b/k", "partNumber=1&uploadId=u", "s3:PutObject", BUCKET + "/k"),
    ("POST", "/b/k", "uploadId=u", "s3:PutObject", BUCKET + "/k"),
    ("DELETE", "/b/k", "uploadId=u", "s3:AbortMultipartUpload", BUCKET + "/k"),
    ("GET", "/b/k", "uploadId=u", "s3:ListMultipartUploadParts", BUCKET + "/k"),
    ("DELETE", "/b/k", "", "s3:DeleteObject", BUCKET + "/k"),
    ("DELETE", "/b/k", "versionId=v1", "s3:DeleteObjectVersion", BUCKET + "/k"),
    ("POST", "/b/k", "restore", "s3:RestoreObject", BUCKET + "/k"),
    ("POST", "/b/k", "select&select-type=2", "s3:GetObject", BUCKET + "/k"),
    ("GET", "/b", "replication", "s3:GetReplicationConfiguration", BUCKET),
    ("GET", "/b", "analytics", "s3:GetAnalyticsConfiguration", BUCKET),
    ("DELETE", "/b", "metrics&id=m", "s3:PutMetricsConfiguration", BUCKET),
])
def test_s3_operations(method: str, path: str, query: str, action: str, resource: str) -> None:
    access = one(s3(method, path, query))
    assert (access.action, access.resources) == (action, (resource,))


def test_s3_list_context() -> None:
    access = one(s3("GET", "/b", "list-type=2&prefix=rides%2F2026&delimiter=%2F&max-keys=10"))
    assert access.context == {"s3:prefix": "rides/2026", "s3:delimiter": "/", "s3:max-keys": "10"}
    assert one(s3("GET", "/b")).context == {"s3:prefix": ""}
    assert one(s3("GET", "/b/k", "versionId=v1")).context == {"s3:versionid": "v1"}


def test_s3_keys_are_decoded_once() -> None:
    assert one(s3("GET", "/b/rides/a%20b%2Bc+d.json")).resources == (BUCKET + "/rides/a b+c+d.json",)
    assert one(s3("GET", "/b/%E2%82%AC/%C3%A9t%C3%A9")).resources == (BUCKET + "/€/été",)
    assert one(s3("GET", "/b/a%2520b")).resources == (BUCKET + "/a%20b",)
    assert one(s3("PUT", "/b//leading")).resources == (BUCKET + "//leading",)


@pytest.mark.parametrize(("host", "path", "resource"), [
    ("b.localhost:4566", "/k%20x", BUCKET + "/k x"),
    ("b.localhost", "/", BUCKET),
    ("my.dotted.bucket.s3.localhost:4566", "/k", "arn:aws:s3:::my.dotted.bucket/k"),
    ("b.s3.eu-west-1.amazonaws.com", "/dir/k", BUCKET + "/dir/k"),
    ("localhost:4566", "/b/k", BUCKET + "/k"),
    ("s3.localhost:4566", "/b/k", BUCKET + "/k"),
    ("127.0.0.1:4566", "/b/k", BUCKET + "/k"),
])
def test_s3_virtual_hosted_and_path_style(host: str, path: str, resource: str) -> None:
    assert one(s3("GET", path, host=host)).resources == (resource,)
    headers_only = RequestInfo("s3", None, "GET", path, "", {"Host": host}, b"", REGION, ACCOUNT)
    assert one(headers_only).resources == (resource,)


def test_s3_copy_object_and_upload_part_copy() -> None:
    copy = s3("PUT", "/dst/new%20key", headers={"x-amz-copy-source": "/src/old%20key%E2%82%AC"})
    assert operation_of(copy) == "CopyObject"
    put, get = accesses(copy)
    assert (put.action, put.resources) == ("s3:PutObject", ("arn:aws:s3:::dst/new key",))
    assert get == Access("s3:GetObject", ("arn:aws:s3:::src/old key€",))
    versioned = s3("PUT", "/dst/k", "partNumber=2&uploadId=u",
                   headers={"X-Amz-Copy-Source": "src/a%3Fb?versionId=v9"})
    assert operation_of(versioned) == "UploadPartCopy"
    assert pairs(accesses(versioned)) == [("s3:PutObject", ("arn:aws:s3:::dst/k",)),
                                          ("s3:GetObjectVersion", ("arn:aws:s3:::src/a?b",))]
    assert accesses(versioned)[1].context == {"s3:versionid": "v9"}


def test_s3_delete_objects_authorizes_each_key() -> None:
    body = (b'<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<Object><Key>a b.txt</Key></Object><Object><Key>dir/&#233;</Key><VersionId>v2</VersionId></Object>"
            b"<Quiet>true</Quiet></Delete>")
    request = s3("POST", "/b", "delete", body=body)
    assert operation_of(request) == "DeleteObjects"
    assert pairs(accesses(request)) == [("s3:DeleteObject", (BUCKET + "/a b.txt",)),
                                        ("s3:DeleteObjectVersion", (BUCKET + "/dir/é",))]
    no_namespace = s3("POST", "/b/", "delete", body=b"<Delete><Object><Key>k</Key></Object></Delete>")
    assert pairs(accesses(no_namespace)) == [("s3:DeleteObject", (BUCKET + "/k",))]
    for broken in (b"", b"<Delete>", b"<Delete></Delete>"):
        with pytest.raises(UnmappedRequest):
            accesses(s3("POST", "/b", "delete", body=broken))


def test_s3_browser_form_upload() -> None:
    body = (b'--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nuploads/${filename}\r\n'
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="photo 1.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\r\n--XyZ--\r\n")
    request = s3("POST", "/b", body=body, headers={"Content-Type": "multipart/form-data; boundary=XyZ"})
    assert operation_of(request) == "PostObject"
    assert pairs(accesses(request)) == [("s3:PutObject", (BUCKET + "/uploads/photo 1.jpg",))]
    with pytest.raises(UnmappedRequest):
        accesses(s3("POST", "/b", body=b"x", headers={"Content-Type": "text/plain"}))


def test_s3_unknown_requests_are_unmapped() -> None:
    for request in (s3("PUT", "/"), s3("POST", "/b/k"), s3("PATCH", "/b/k")):
        with pytest.raises(UnmappedRequest):
            accesses(request)


S3_ALIASES = {  # operations a request cannot tell apart: the SDKs' older and newer names of one call
    "GetBucketLifecycle": "GetBucketLifecycleConfiguration", "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
    "GetBucketNotification": "GetBucketNotificationConfiguration",
    "PutBucketNotification": "PutBucketNotificationConfiguration", "ListDirectoryBuckets": "ListBuckets",
}


def test_every_s3_model_operation_is_recognized() -> None:
    model = service_model("s3")
    for name in model.operation_names:
        operation = model.operation_model(name)
        uri = operation.http["requestUri"]
        path, _, literal = uri.partition("?")
        path = path.replace("{Bucket}", "b").replace("{Key+}", "dir/k")
        query = [literal] if literal else []
        for member_name, member in operation.input_shape.members.items():
            if member.serialization.get("location") == "querystring" and \
                    member_name in operation.input_shape.required_members:
                query.append(f"{member.serialization['name']}=1")
        headers = {"x-amz-copy-source": "/src/k"} if name in ("CopyObject", "UploadPartCopy") else {}
        request = s3(operation.http["method"], path, "&".join(query), headers,
                     b"<Delete><Object><Key>k</Key></Object></Delete>" if name == "DeleteObjects" else b"")
        assert operation_of(request) == S3_ALIASES.get(name, name), uri
        actions = [access.action for access in accesses(request)]
        assert actions and all(a.startswith("s3:") for a in actions) or name == "WriteGetObjectResponse", name
