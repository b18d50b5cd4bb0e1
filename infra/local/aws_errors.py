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


def protocol_of(target: str | None, content_type: str | None, service: str | None) -> str:
    """One of json, query, rest-json, rest-xml: enough to shape an error the SDKs parse."""
    if target:
        return "json"
    if content_type and content_type.startswith("application/x-www-form-urlencoded"):
        return "query"
    if service == "lambda":
        return "rest-json"
    return "rest-xml"


def error_response(status: int, code: str, message: str, protocol: str) -> ErrorResponse:
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id, "x-amz-request-id": request_id}
    if protocol in ("json", "rest-json"):
        headers["x-amzn-ErrorType"] = code
        headers["Content-Type"] = "application/x-amz-json-1.1"
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
    elif protocol == "query":
        headers["Content-Type"] = "text/xml"
        body = (
            "<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    else:
        headers["Content-Type"] = "application/xml"
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
    return ErrorResponse(status, headers, body)
