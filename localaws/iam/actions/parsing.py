"""Reading a request: lower-cased headers, its protocol (JSON or query), its JSON body or query parameters, and
string members of either."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from localaws.iam.actions.model import RequestInfo, UnmappedRequest


def headers_of(request: RequestInfo) -> dict[str, str]:
    """The headers, their names lower-cased."""
    return {str(k).lower(): v for k, v in request.headers.items()}


def is_json(request: RequestInfo) -> bool:
    """Whether the request is of a JSON protocol (an X-Amz-Target or an application/x-amz-json body)."""
    headers = headers_of(request)
    return bool(headers.get("x-amz-target")) or headers.get("content-type", "").startswith("application/x-amz-json")


def json_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a body ({} when empty); UnmappedRequest when it is not one."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise UnmappedRequest(f"the request body is not JSON: {error}") from error
    if not isinstance(value, dict):
        raise UnmappedRequest("the request body is not a JSON object")
    return value


def query_params(request: RequestInfo) -> dict[str, str]:
    """Query-protocol parameters: the query string's, then the form body's (which win)."""
    params = {k: v[0] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
    if request.body:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UnmappedRequest("the query-protocol body is not UTF-8") from error
        params.update({k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()})
    return params


def member_str(params: Mapping[str, Any], key: str) -> str | None:
    """``params[key]`` when it is a non-empty string, else None."""
    value = params.get(key)
    return value if isinstance(value, str) and value else None
