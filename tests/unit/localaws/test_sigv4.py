"""The SigV4 verifier against botocore's signers: what botocore signs is accepted, and any tampering is refused."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import botocore.session
import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence

from localaws.iam.sigv4 import SignatureError, SignedRequest, parse_signature, verify

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLEsessiontoken//+=="
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
CREDS = Credentials(ACCESS_KEY, SECRET)
Headers = list[tuple[str, str]]


@pytest.fixture(autouse=True)
def _frozen_signing_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """botocore signs at NOW (it reads a naive UTC datetime from botocore.auth.get_current_datetime)."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: NOW.replace(tzinfo=None))
    yield


def _sign(signer: SigV4Auth, method: str, url: str, *, data: bytes = b"",
          headers: Sequence[tuple[str, str]] = ()) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=data)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders appends, so a repeated name keeps both values
    signer.add_auth(request)
    return request


def _received(request: AWSRequest | AWSPreparedRequest) -> tuple[str, Headers, bytes]:
    """What the gateway would see: raw path and query, headers as sent (plus Host, added by the HTTP client), body."""
    parts = urlsplit(request.url)
    raw_path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = [(name, value.decode() if isinstance(value, bytes) else value) for name, value in request.headers.items()]
    if not any(name.lower() == "host" for name, _ in headers):
        headers.append(("Host", parts.netloc))
    body = request.body or b""
    if hasattr(body, "read"):  # a client's streaming body
        body.seek(0)
        body = body.read()
    return raw_path, headers, body.encode() if isinstance(body, str) else body


def _accept(request: AWSRequest | AWSPreparedRequest, now: datetime = NOW) -> SignedRequest:
    raw_path, headers, body = _received(request)
    signed = parse_signature(raw_path, headers)
    assert signed is not None
    verify(signed, SECRET, request.method, raw_path, headers, body, now)
    return signed


def _reject(request: AWSRequest, code: str, *, raw_path: str | None = None, headers: Headers | None = None,
            body: bytes | None = None, secret: str = SECRET, now: datetime = NOW) -> SignatureError:
    got_path, got_headers, got_body = _received(request)
    raw_path = got_path if raw_path is None else raw_path
    headers = got_headers if headers is None else headers
    body = got_body if body is None else body
    signed = parse_signature(raw_path, headers)
    assert signed is not None
    with pytest.raises(SignatureError) as caught:
        verify(signed, secret, request.method, raw_path, headers, body, now)
    assert caught.value.code == code, caught.value.message
    return caught.value


def _replace_header(headers: Headers, name: str, value: str) -> Headers:
    return [(n, value if n.lower() == name.lower() else v) for n, v in headers]


def _kinesis_put_records() -> AWSRequest:
    body = b'{"StreamName":"rides","Records":[{"Data":"eyJhIjoxfQ==","PartitionKey":"r1"}]}'
    return _sign(SigV4Auth(CREDS, "kinesis", "us-east-1"), "POST", "https://kinesis.us-east-1.amazonaws.com/",
                 data=body, headers=[("X-Amz-Target", "Kinesis_20131202.PutRecords"),
                                     ("Content-Type", "application/x-amz-json-1.1")])


S3_KEY = "dir/a b+c%d=e/ünï €.txt"
S3_PUT_URL = "https://s3.us-east-1.amazonaws.com/bucket/" + percent_encode(S3_KEY, safe="/~")


def _s3_put(body: bytes = b"hello, world") -> AWSRequest:
    return _sign(S3SigV4Auth(CREDS, "s3", "us-east-1"), "PUT", S3_PUT_URL, data=body,
                 headers=[("Content-Type", "text/plain")])


# ---- accepted -------------------------------------------------------------------------------------------------------

def test_json_post_is_accepted_and_parsed() -> None:
    signed = _accept(_kinesis_put_records())
    assert signed == SignedRequest(
        access_key=ACCESS_KEY, scope_date="20260301", region="us-east-1", service="kinesis",
        signed_headers=("content-type", "host", "x-amz-date", "x-amz-target"), signature=signed.signature,
        timestamp=NOW, session_token=None, presigned=False, expires=None)
    assert len(signed.signature) == 64


def test_dynamodb_request_is_accepted() -> None:
    request = _sign(SigV4Auth(CREDS, "dynamodb", "eu-west-1"), "POST", "https://dynamodb.eu-west-1.amazonaws.com/",
                    data=b'{"TableName":"rides","Key":{"id":{"S":"1"}}}',
                    headers=[("X-Amz-Target", "DynamoDB_20120810.GetItem"),
                             ("Content-Type", "application/x-amz-json-1.0")])
    signed = _accept(request)
    assert (signed.service, signed.region) == ("dynamodb", "eu-west-1")


def test_query_protocol_sts_post_is_accepted() -> None:
    request = _sign(SigV4Auth(CREDS, "sts", "us-east-1"), "POST", "https://sts.amazonaws.com/",
                    data=b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr"
                         b"&RoleSessionName=s&Version=2011-06-15",
                    headers=[("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")])
    assert _accept(request).service == "sts"
    _reject(request, "SignatureDoesNotMatch", body=request.body.replace(b"role%2Fr", b"role%2Fadmin"))


def test_s3_put_with_awkward_key_is_accepted_and_path_is_not_double_encoded() -> None:
    request = _s3_put()
    raw_path, headers, _ = _received(request)
    assert "%20" in raw_path and "%2B" in raw_path and "%25" in raw_path and "%C3%BC" in raw_path
    signed = _accept(request)
    assert "x-amz-content-sha256" in signed.signed_headers
    error = _reject(request, "SignatureDoesNotMatch", secret="wrong")
    assert error.canonical_request.split("\n")[1] == urlsplit(S3_PUT_URL).path
    assert error.string_to_sign.startswith("AWS4-HMAC-SHA256\n20260301T120000Z\n20260301/us-east-1/s3/aws4_request\n")


def test_s3_path_decoded_and_reencoded_is_accepted_as_a_fallback() -> None:
    request = _sign(S3SigV4Auth(CREDS, "s3", "us-east-1"), "GET", "https://s3.amazonaws.com/bucket/a%2Bb%28c%29")
    _, headers, body = _received(request)
    signed = parse_signature("/bucket/a+b(c)", headers)
    assert signed is not None
    verify(signed, SECRET, "GET", "/bucket/a+b(c)", headers, body, NOW)
    _reject(request, "SignatureDoesNotMatch", raw_path="/bucket/a+b(d)")


def test_s3_get_with_query_params_is_accepted() -> None:
    query = percent_encode_sequence([("list-type", "2"), ("prefix", "a b/")])
    assert query == "list-type=2&prefix=a%20b%2F"
    request = _sign(S3SigV4Auth(CREDS, "s3", "us-east-1"), "GET", f"https://bucket.s3.amazonaws.com/?{query}")
    _accept(request)
    _reject(request, "SignatureDoesNotMatch", raw_path="/?list-type=2&prefix=a%20c%2F")
    _reject(request, "SignatureDoesNotMatch", raw_path="/?list-type=2&prefix=a%20b%2F&max-keys=1")


def test_query_flag_without_value_is_canonicalised_with_an_empty_value() -> None:
    request = _sign(S3SigV4Auth(CREDS, "s3", "us-east-1"), "POST", "https://bucket.s3.amazonaws.com/k?uploads=")
    _accept(request)  # botocore signs "uploads="
    raw_path, headers, body = _received(request)
    signed = parse_signature("/k?uploads", headers)
    assert signed is not None
    verify(signed, SECRET, "POST", "/k?uploads", headers, body, NOW)  # the wire form of the same query


def test_lambda_invoke_with_percent_encoded_arn_is_double_encoded() -> None:
    path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/invocations"
    request = _sign(SigV4Auth(CREDS, "lambda", "us-east-1"), "POST", f"https://lambda.us-east-1.amazonaws.com{path}",
                    data=b'{"x":1}')
    _accept(request)
    error = _reject(request, "SignatureDoesNotMatch", secret="wrong")
    assert error.canonical_request.split("\n")[1] == path.replace("%3A", "%253A")


def test_non_s3_path_dot_segments_and_double_slashes_are_normalised() -> None:
    request = _sign(SigV4Auth(CREDS, "execute-api", "us-east-1"), "GET",
                    "https://abc.execute-api.us-east-1.amazonaws.com/prod//rides/./1/../2")
    _accept(request)
    error = _reject(request, "SignatureDoesNotMatch", secret="wrong")
    assert error.canonical_request.split("\n")[1] == "/prod/rides/2"


def test_session_token_header_is_parsed_and_signed() -> None:
    signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET, TOKEN), "kinesis", "us-east-1")
    request = _sign(signer, "POST", "https://kinesis.us-east-1.amazonaws.com/", data=b"{}",
                    headers=[("X-Amz-Target", "Kinesis_20131202.ListStreams")])
    signed = _accept(request)
    assert signed.session_token == TOKEN and "x-amz-security-token" in signed.signed_headers
    _, headers, _ = _received(request)
    _reject(request, "SignatureDoesNotMatch", headers=_replace_header(headers, "X-Amz-Security-Token", TOKEN + "x"))


def test_date_header_instead_of_x_amz_date_is_accepted() -> None:
    request = _sign(SigV4Auth(CREDS, "kinesis", "us-east-1"), "POST", "https://kinesis.us-east-1.amazonaws.com/",
                    data=b"{}", headers=[("Date", "placeholder")])
    _, headers, _ = _received(request)
    assert not any(name.lower() == "x-amz-date" for name, _ in headers)
    assert _accept(request).timestamp == NOW


def test_duplicate_header_values_are_joined_in_arrival_order() -> None:
    request = _sign(SigV4Auth(CREDS, "kinesis", "us-east-1"), "POST", "https://kinesis.us-east-1.amazonaws.com/",
                    data=b"{}", headers=[("X-Amz-Meta-Tag", "a"), ("X-Amz-Meta-Tag", "  b   c ")])
    _accept(request)
    _, headers, _ = _received(request)
    tags = [h for h in headers if h[0] == "X-Amz-Meta-Tag"]
    others = [h for h in headers if h[0] != "X-Amz-Meta-Tag"]
    _reject(request, "SignatureDoesNotMatch", headers=others + tags[::-1])
    _reject(request, "SignatureDoesNotMatch", headers=others + tags[:1])


def test_headers_botocore_never_signs_are_still_honoured_when_signed() -> None:
    class SignsUserAgent(SigV4Auth):  # as @smithy/signature-v4 may
        def headers_to_sign(self, request: AWSRequest) -> Any:
            header_map = super().headers_to_sign(request)
            header_map["user-agent"] = request.headers["User-Agent"]
            return header_map

    request = _sign(SignsUserAgent(CREDS, "kinesis", "us-east-1"), "POST", "https://kinesis.us-east-1.amazonaws.com/",
                    data=b"{}", headers=[("User-Agent", "aws-sdk-js/3.0 ua/2.1")])
    assert "user-agent" in _accept(request).signed_headers
    _, headers, _ = _received(request)
    _reject(request, "SignatureDoesNotMatch", headers=_replace_header(headers, "User-Agent", "curl/8"))


def test_authorization_parameters_without_spaces_are_parsed() -> None:
    request = _kinesis_put_records()
    raw_path, headers, body = _received(request)
    compact = _replace_header(headers, "Authorization", request.headers["Authorization"].replace(", ", ","))
    signed = parse_signature(raw_path, compact)
    assert signed is not None
    verify(signed, SECRET, "POST", raw_path, compact, body, NOW)


def test_signing_through_a_real_botocore_client() -> None:
    """The requests a botocore client puts on the wire (its own serialisation of paths and queries)."""
    sent: list[AWSPreparedRequest] = []

    class Sent(Exception):
        pass

    def capture(request: AWSPreparedRequest, **_: Any) -> None:
        sent.append(request)
        raise Sent  # nothing goes on the network

    session = botocore.session.get_session()
    session.register("before-send", capture)
    options: dict[str, Any] = {"region_name": "us-east-1", "endpoint_url": "http://localhost:4566",
                               "aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET}
    s3 = session.create_client("s3", **options)
    lambda_ = session.create_client("lambda", **options)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    for call in (lambda: s3.put_object(Bucket="bucket", Key=S3_KEY, Body=b"payload"),
                 lambda: s3.list_objects_v2(Bucket="bucket", Prefix="a b/"),
                 lambda: lambda_.invoke(FunctionName=arn, Payload=b"{}")):
        with pytest.raises(Sent):
            call()
    assert len(sent) == 3
    for request in sent:
        _accept(request)
    assert "%253A" not in sent[2].url and "%3A" in sent[2].url


# ---- presigned ------------------------------------------------------------------------------------------------------

def _presigned_s3_get(expires: int = 60, creds: Credentials = CREDS) -> AWSRequest:
    return _sign(S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=expires), "GET",
                 "https://bucket.s3.amazonaws.com/photos/a%20b.jpg?versionId=3")


def test_presigned_s3_get_is_accepted_until_it_expires() -> None:
    request = _presigned_s3_get(expires=60)
    signed = _accept(request, now=NOW + timedelta(seconds=59))
    assert signed.presigned and signed.expires == 60 and signed.signed_headers == ("host",)
    assert signed.timestamp == NOW
    error = _reject(request, "RequestExpired", now=NOW + timedelta(seconds=61))
    assert error.message == "Request has expired"


def test_presigned_s3_get_rejects_tampering() -> None:
    request = _presigned_s3_get()
    raw_path, _, _ = _received(request)
    _reject(request, "SignatureDoesNotMatch", raw_path=raw_path.replace("X-Amz-Expires=60", "X-Amz-Expires=600"))
    _reject(request, "SignatureDoesNotMatch", raw_path=raw_path.replace("versionId=3", "versionId=4"))
    _reject(request, "SignatureDoesNotMatch", raw_path=raw_path.replace("/photos/", "/private/"))
    _reject(request, "SignatureDoesNotMatch", secret="wrong")


def test_presigned_url_with_session_token() -> None:
    request = _presigned_s3_get(creds=Credentials(ACCESS_KEY, SECRET, TOKEN))
    assert _accept(request).session_token == TOKEN


def test_presigned_expiry_longer_than_a_week_is_refused() -> None:
    _reject(_presigned_s3_get(expires=604801), "RequestExpired")
    _accept(_presigned_s3_get(expires=604800))


def test_presigned_non_s3_request_hashes_the_empty_body() -> None:
    """An EKS-style presigned sts:GetCallerIdentity (botocore's SigV4QueryAuth signs sha256 of the empty body)."""
    request = _sign(SigV4QueryAuth(CREDS, "sts", "us-east-1", expires=60), "GET",
                    "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
                    headers=[("x-k8s-aws-id", "wildrydes")])
    signed = _accept(request)
    assert signed.signed_headers == ("host", "x-k8s-aws-id") and signed.service == "sts"
    _, headers, _ = _received(request)
    _reject(request, "SignatureDoesNotMatch", headers=_replace_header(headers, "x-k8s-aws-id", "other"))

    class UnsignedPayloadQueryAuth(SigV4QueryAuth):  # a presigner that uses UNSIGNED-PAYLOAD for any service
        def payload(self, request: AWSRequest) -> str:
            return "UNSIGNED-PAYLOAD"

    request = _sign(UnsignedPayloadQueryAuth(CREDS, "sts", "us-east-1", expires=60), "GET",
                    "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15")
    assert _accept(request).presigned


# ---- refused --------------------------------------------------------------------------------------------------------

def test_skewed_clock_is_refused_either_way() -> None:
    request = _kinesis_put_records()
    _accept(request, now=NOW + timedelta(minutes=14))
    _accept(request, now=NOW - timedelta(minutes=14))
    late = _reject(request, "RequestExpired", now=NOW + timedelta(minutes=16))
    assert late.message == ("Signature expired: 20260301T120000Z is now earlier than 20260301T120100Z "
                            "(20260301T121600Z - 15 min.)")
    _reject(request, "RequestExpired", now=NOW - timedelta(minutes=16))


def test_tampered_requests_are_refused() -> None:
    request = _kinesis_put_records()
    raw_path, headers, body = _received(request)
    _reject(request, "SignatureDoesNotMatch", body=body.replace(b"r1", b"r2"))
    _reject(request, "SignatureDoesNotMatch",
            headers=_replace_header(headers, "X-Amz-Target", "Kinesis_20131202.DeleteStream"))
    _reject(request, "SignatureDoesNotMatch", raw_path="/other")
    _reject(request, "SignatureDoesNotMatch", raw_path="/?a=b")
    _reject(request, "SignatureDoesNotMatch", secret=SECRET[:-1] + "X")
    _reject(request, "SignatureDoesNotMatch", headers=_replace_header(headers, "X-Amz-Date", "20260301T120001Z"))
    _reject(request, "SignatureDoesNotMatch", headers=[h for h in headers if h[0].lower() != "x-amz-target"])
    signed = parse_signature(raw_path, headers)
    assert signed is not None
    with pytest.raises(SignatureError) as caught:
        verify(signed, SECRET, "PUT", raw_path, headers, body, NOW)
    assert caught.value.code == "SignatureDoesNotMatch"
    assert caught.value.message.startswith("The request signature we calculated does not match")


def test_s3_body_that_does_not_match_the_content_sha256_header_is_refused() -> None:
    request = _s3_put()
    error = _reject(request, "XAmzContentSHA256Mismatch", body=b"hello, World")
    assert error.message == "The provided 'x-amz-content-sha256' header does not match what was computed."
    _, headers, _ = _received(request)
    _reject(request, "SignatureDoesNotMatch", body=b"hello, World",
            headers=_replace_header(headers, "X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"))


def test_unsigned_request_parses_to_none() -> None:
    assert parse_signature("/", [("Host", "localhost:4566"), ("X-Amz-Target", "Kinesis_20131202.ListStreams")]) is None
    assert parse_signature("/bucket/key?list-type=2&prefix=X-Amz-", [("Host", "localhost")]) is None


@pytest.mark.parametrize("authorization", [
    "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
    "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260301/s3/aws4_request, SignedHeaders=host, Signature=3045",
    "AWS4-HMAC-SHA256 Credential=AKID/20260301/us-east-1/s3/aws4_request, SignedHeaders=host",
    "AWS4-HMAC-SHA256 Credential=AKID/20260301/us-east-1/s3, SignedHeaders=host, Signature=ab",
    "Bearer abc",
])
def test_malformed_or_foreign_authorization_is_incomplete(authorization: str) -> None:
    with pytest.raises(SignatureError) as caught:
        parse_signature("/", [("Authorization", authorization), ("X-Amz-Date", "20260301T120000Z")])
    assert caught.value.code == "IncompleteSignature"


def test_missing_date_or_scope_date_mismatch_is_incomplete() -> None:
    request = _kinesis_put_records()
    raw_path, headers, _ = _received(request)
    with pytest.raises(SignatureError) as caught:
        parse_signature(raw_path, [h for h in headers if h[0].lower() != "x-amz-date"])
    assert caught.value.code == "IncompleteSignature"
    with pytest.raises(SignatureError) as caught:
        parse_signature(raw_path, _replace_header(headers, "X-Amz-Date", "20260302T000000Z"))
    assert caught.value.code == "IncompleteSignature"
    presigned_path, presigned_headers, _ = _received(_presigned_s3_get())
    with pytest.raises(SignatureError) as caught:
        parse_signature(presigned_path.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256&", ""), presigned_headers)
    assert caught.value.code == "IncompleteSignature"


def test_signature_error_carries_code_and_message() -> None:
    error = SignatureError("SignatureDoesNotMatch", "nope")
    assert (error.code, error.message, error.canonical_request, error.string_to_sign) == (
        "SignatureDoesNotMatch", "nope", "", "")
    assert str(error) == "SignatureDoesNotMatch: nope"
