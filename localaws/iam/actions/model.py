"""What the mapping is about: a request (``RequestInfo``), the authorizations it needs (``Access``), the error when
they cannot be told (``UnmappedRequest``), and the builders of ARNs and single-access answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

ContextValue = str | tuple[str, ...]
STAR = "*"


@dataclass(frozen=True)
class Access:
    """One authorization: ``action`` must be allowed on every ARN of ``resources``, with ``context`` condition keys."""

    action: str  # IAM action, e.g. "kinesis:PutRecords"
    resources: tuple[str, ...]  # ARNs that must ALL be allowed (Glue needs catalog, database and table ARNs)
    context: Mapping[str, ContextValue] = field(default_factory=dict, hash=False)  # request condition keys


@dataclass(frozen=True)
class RequestInfo:
    """What the gateway knows about one request."""

    service: str  # signing name: kinesis, dynamodb, s3, sqs, glue, lambda, firehose, athena, sts, iam, logs, ...
    operation: str | None  # X-Amz-Target operation (JSON), Action= (query), None for REST (s3, lambda)
    method: str
    path: str  # the raw (still percent-encoded) path, without query
    query: str  # the raw query string
    headers: Mapping[str, str]  # looked up case-insensitively
    body: bytes
    region: str
    account: str
    host: str = ""  # Host header, for virtual-hosted S3 (bucket.localhost:4566 / bucket.s3.localhost...)


class UnmappedRequest(ValueError):
    """The operation of a request, or the resources it needs, cannot be determined."""


IteratorResolver = Callable[[str], str | None]
QueryResolver = Callable[[str], str | None]


def make_arn(service: str, region: str, account: str, resource: str) -> str:
    """``arn:aws:<service>:<region>:<account>:<resource>``."""
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def one(action: str, *resources: str, context: Mapping[str, ContextValue] | None = None) -> list[Access]:
    """A single ``Access`` of ``action`` on ``resources`` (``"*"`` when none), with ``context``."""
    return [Access(action, tuple(resources) or (STAR,), dict(context or {}))]
