"""AWS-style error responses in the wire format of the caller's protocol. Pure functions."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class ErrorResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    code: str = ""


def protocol_of(target: str | None, content_type: str | None, service: str | None) -> str:
    """One of json, query, rest-json, rest-xml: enough to shape an error the SDKs parse."""
    if target:
        return "json"
    if content_type and content_type.startswith("application/x-www-form-urlencoded"):
        return "query"
    if service == "lambda":
        return "rest-json"
    return "rest-xml"


def error_response(
    status: int, code: str, message: str, protocol: str, *, content_type: str | None = None, type_prefix: str = ""
) -> ErrorResponse:
    """``content_type`` and ``type_prefix`` shape JSON errors as a service sends them (DynamoDB:
    ``application/x-amz-json-1.0`` and ``com.amazonaws.dynamodb.v20120810#Code``)."""
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id, "x-amz-request-id": request_id}
    if protocol in ("json", "rest-json"):
        headers["x-amzn-ErrorType"] = code
        headers["Content-Type"] = content_type or "application/x-amz-json-1.1"
        body = json.dumps({"__type": type_prefix + code, "message": message, "Message": message}).encode()
    elif protocol == "query":
        headers["Content-Type"] = "text/xml"
        body = (
            f"<ErrorResponse><Error><Type>{'Receiver' if status >= 500 else 'Sender'}</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    else:
        headers["Content-Type"] = "application/xml"
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
    return ErrorResponse(status, headers, body, code)


# ---- errors injected on purpose (localaws/gateway/faults.py) ------------------------------------------------
# Each kind of fault is rendered with the code and status the service itself answers with, so that the SDKs'
# retry logic classifies it as it would AWS's (botocore: throttling codes, 5xx as transient).
THROUGHPUT_SERVICES = frozenset({"kinesis", "dynamodb"})
FAULT_KINDS = ("ProvisionedThroughputExceededException", "ThrottlingException", "InternalFailure", "ServiceUnavailable")
_KIND_ALIASES = {
    "provisionedthroughputexceeded": "ProvisionedThroughputExceededException",
    "throttling": "ThrottlingException", "slowdown": "ThrottlingException", "throttle": "ThrottlingException",
    "internalservererror": "InternalFailure", "internalerror": "InternalFailure", "500": "InternalFailure",
    "serviceunavailableexception": "ServiceUnavailable", "503": "ServiceUnavailable",
}
_INTERNAL_CODES = {"dynamodb": "InternalServerError", "s3": "InternalError", "athena": "InternalServerException",
                   "glue": "InternalServiceException", "lambda": "ServiceException"}
_UNAVAILABLE_CODES = {"firehose": "ServiceUnavailableException", "glue": "InternalServiceException",
                      "athena": "InternalServerException", "lambda": "ServiceException"}
_MESSAGES = {
    ("kinesis", "ProvisionedThroughputExceededException"): "Rate exceeded for shard in stream under account.",
    ("dynamodb", "ProvisionedThroughputExceededException"):
        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your "
        "provisioning level with the UpdateTable API.",
    ("s3", "SlowDown"): "Please reduce your request rate.",
}
_DEFAULT_PROTOCOL = {"s3": "rest-xml", "iam": "query", "sts": "query", "lambda": "rest-json"}


def fault_kind(name: str) -> str | None:
    """The canonical kind of an injectable error name (case-insensitive, a few aliases); None if unknown."""
    for kind in FAULT_KINDS:
        if name.lower() in (kind.lower(), kind.lower().removesuffix("exception")):
            return kind
    return _KIND_ALIASES.get(name.lower())


def fault_code(service: str, kind: str, protocol: str | None = None) -> tuple[int, str]:
    """(HTTP status, error code) with which ``service`` reports ``kind`` over ``protocol``."""
    protocol = protocol or _DEFAULT_PROTOCOL.get(service, "json")
    if kind == "ProvisionedThroughputExceededException":
        return 400, kind
    if kind == "ThrottlingException":
        if service == "s3":
            return 503, "SlowDown"
        return 400, "Throttling" if protocol == "query" else "ThrottlingException"
    if kind == "InternalFailure":
        return 500, _INTERNAL_CODES.get(service, "InternalFailure")
    if kind == "ServiceUnavailable":
        return 503, _UNAVAILABLE_CODES.get(service, "ServiceUnavailable")
    raise ValueError(f"unknown fault kind {kind!r}")


def injected_error(
    service: str, error: str, protocol: str, *, status: int | None = None, content_type: str | None = None,
    note: str = "",
) -> ErrorResponse:
    """The error response of an injected fault: a known kind rendered as ``service`` does, or a custom code
    with an explicit ``status``."""
    kind = fault_kind(error)
    if kind is not None and status is None:
        status, code = fault_code(service, kind, protocol)
    else:
        code = error
        status = status or 400
    message = _MESSAGES.get((service, code)) or _fallback_message(code, status)
    if service == "dynamodb":
        return error_response(status, code, message + note, protocol, content_type="application/x-amz-json-1.0",
                              type_prefix="com.amazonaws.dynamodb.v20120810#")
    json_type = content_type if content_type and content_type.startswith("application/x-amz-json") else None
    return error_response(status, code, message + note, protocol, content_type=json_type)


def _fallback_message(code: str, status: int) -> str:
    if code in ("ThrottlingException", "Throttling", "ProvisionedThroughputExceededException"):
        return "Rate exceeded"
    if status == 503:
        return "Service unavailable"
    if status >= 500:
        return "We encountered an internal error. Please try again."
    return code


# ---- authentication and authorization failures (localaws/gateway/authorization.py) --------------------------
# problem → (code in JSON protocols, code in query protocols and SQS's x-amzn-query-error, S3's code, S3's status)
_AUTH_CODES = {
    "unknown-key": ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId", 403),
    "bad-token": ("UnrecognizedClientException", "InvalidClientTokenId", "InvalidToken", 400),
    "bad-signature": ("InvalidSignatureException", "SignatureDoesNotMatch", "SignatureDoesNotMatch", 403),
    "request-expired": ("InvalidSignatureException", "SignatureDoesNotMatch", "AccessDenied", 403),
    "expired-token": ("ExpiredTokenException", "ExpiredToken", "ExpiredToken", 400),
    "missing": ("MissingAuthenticationTokenException", "MissingAuthenticationToken", "AccessDenied", 403),
    "malformed": ("IncompleteSignatureException", "IncompleteSignature", "AuthorizationHeaderMalformed", 400),
    "payload-hash": ("InvalidSignatureException", "SignatureDoesNotMatch", "XAmzContentSHA256Mismatch", 400),
    "denied": ("AccessDeniedException", "AccessDenied", "AccessDenied", 403),
    "invalid-identity-token": ("InvalidIdentityTokenException", "InvalidIdentityToken", "AccessDenied", 400),
}
_QUERY_STATUS = {"expired-token": 400, "malformed": 400, "invalid-identity-token": 400}


def auth_error(service: str, protocol: str, problem: str, message: str, *, head: bool = False) -> ErrorResponse:
    """A refused request in the caller's wire format, with the code and status the service answers with (JSON
    services 400, Lambda 403, STS/IAM and SQS the query codes, S3 its own; DynamoDB's coral type prefix)."""
    json_code, query_code, s3_code, s3_status = _AUTH_CODES[problem]
    if service == "s3":
        error = error_response(s3_status, s3_code, message, "rest-xml")
    elif protocol == "query" or service in ("sts", "iam"):
        error = error_response(_QUERY_STATUS.get(problem, 403), query_code, message, "query")
    elif service == "sqs":
        error = error_response(_QUERY_STATUS.get(problem, 403), query_code, message, "json",
                               content_type="application/x-amz-json-1.0")
        error.headers["x-amzn-query-error"] = f"{query_code};Sender"
    elif service == "dynamodb":
        error = error_response(400, json_code, message, "json", content_type="application/x-amz-json-1.0",
                               type_prefix="com.amazon.coral.service#")
    else:
        error = error_response(403 if protocol == "rest-json" else 400, json_code, message, protocol)
    if head:  # a HEAD response has no body; the SDKs read the status alone
        return ErrorResponse(error.status, {k: v for k, v in error.headers.items() if k != "Content-Type"}, b"",
                             error.code)
    return error
