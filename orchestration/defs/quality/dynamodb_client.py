"""The reconciliation's DynamoDB client: the DynamoDB resource's configuration, with a response parser that takes
a successful Query page as ``json.loads`` gives it.

botocore walks every attribute value of a page through the model (~0.8-2 ms for a 60-item page, ~2 s of CPU for an
hour of 1,000 unicorns); the wire JSON of a ``QueryOutput`` is already exactly what botocore returns, except for
binary attributes (``B``/``BS``, which botocore base64-decodes): a page that mentions them, every other operation,
and every error take botocore's own path, so retries, throttling and ClientError behave as before. The parser is
plugged in the way botocore creates parsers (the session's ``response_parser_factory`` component), so the client
runs the same against AWS and any endpoint set through ``AWS_ENDPOINT_URL*``.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.parsers import JSONParser, ResponseParserFactory
from dagster_aws.utils import ResourceWithBoto3Configuration

QUERY_OUTPUT = "QueryOutput"
BINARY_MARKERS = (b'"B"', b'"BS"')  # a binary attribute's type key (or a string "B"/"BS": botocore's path, harmless)


def plain_json_page(raw_body: bytes, shape: Any) -> bool:
    """Whether botocore's parse of this body for ``shape`` equals its plain JSON: a Query page without binaries."""
    return (shape is not None and shape.name == QUERY_OUTPUT and bool(raw_body)
            and not any(marker in raw_body for marker in BINARY_MARKERS))


class QueryPageParser(JSONParser):
    def _handle_json_body(self, raw_body: bytes, shape: Any) -> Any:
        if not plain_json_page(raw_body, shape):
            return super()._handle_json_body(raw_body, shape)
        return json.loads(raw_body)


class QueryPageParserFactory(ResponseParserFactory):
    """:class:`QueryPageParser` for the ``json`` protocol (DynamoDB's), botocore's parsers for the others."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return QueryPageParser(**self._defaults)
        return super().create_parser(protocol_name)


def reconciliation_client(resource: ResourceWithBoto3Configuration, connections: int) -> Any:
    """A DynamoDB client configured as ``resource`` configures its own (unset fields fall through to boto3's
    environment lookup), with :class:`QueryPageParserFactory` and ``connections`` pooled connections."""
    session = botocore.session.Session(profile=resource.profile_name)
    session.register_component("response_parser_factory", QueryPageParserFactory())
    kwargs: dict[str, Any] = {
        "region_name": resource.region_name,
        "endpoint_url": resource.endpoint_url,
        "use_ssl": resource.use_ssl,
        "verify": resource.verify,
        "aws_access_key_id": resource.aws_access_key_id,
        "aws_secret_access_key": resource.aws_secret_access_key,
        "aws_session_token": resource.aws_session_token,
    }
    config = Config(retries={"max_attempts": resource.max_attempts, "mode": "standard"},
                    max_pool_connections=connections)
    return boto3.session.Session(botocore_session=session).client(
        "dynamodb", config=config, **{k: v for k, v in kwargs.items() if v is not None})
