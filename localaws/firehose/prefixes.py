"""S3 prefix expressions and object names, as Firehose evaluates them.

``!{namespace:value}`` with namespace ``timestamp`` (a Java DateTimeFormatter pattern, evaluated at the
approximate arrival time of the oldest record in the object), ``firehose`` (``error-output-type``,
``random-string``), ``partitionKeyFromLambda`` and ``partitionKeyFromQuery`` (dynamic partitioning).
Objects are named ``<evaluated prefix><stream name>-<stream version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>``
(+ the configured FileExtension, none by default, even for Parquet).
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from localaws.firehose.javatime import PatternError, compile_pattern, format_java

EXPRESSION = re.compile(r"!\{([^}:]*):([^}]*)\}")
NAMESPACES = ("timestamp", "firehose", "partitionKeyFromLambda", "partitionKeyFromQuery")
FIREHOSE_VALUES = ("error-output-type", "random-string")
DEFAULT_PREFIX = "!{timestamp:yyyy/MM/dd/HH}/"
DEFAULT_ERROR_PREFIX = "!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"
RANDOM_STRING_LENGTH = 11
_ALPHABET = string.ascii_letters + string.digits


class PrefixError(ValueError):
    """A prefix Firehose would reject when the delivery stream is created."""


@dataclass(frozen=True)
class Expression:
    namespace: str
    value: str


def expressions(prefix: str) -> list[Expression]:
    return [Expression(m.group(1), m.group(2)) for m in EXPRESSION.finditer(prefix)]


def partition_keys(prefix: str) -> list[tuple[str, str]]:
    """The (namespace, key) pairs of the dynamic partition keys the prefix refers to, in order."""
    seen: list[tuple[str, str]] = []
    for expression in expressions(prefix):
        pair = (expression.namespace, expression.value)
        if expression.namespace.startswith("partitionKeyFrom") and pair not in seen:
            seen.append(pair)
    return seen


def validate(prefix: str, *, error_prefix: bool, dynamic_partitioning: bool) -> None:
    """Raise PrefixError for what Firehose refuses in a Prefix / ErrorOutputPrefix."""
    if "!{" in EXPRESSION.sub("", prefix):
        raise PrefixError(f"malformed expression in prefix {prefix!r}")
    for expression in expressions(prefix):
        namespace, value = expression.namespace, expression.value
        if namespace not in NAMESPACES:
            raise PrefixError(f"unknown namespace {namespace!r} in prefix {prefix!r}")
        if namespace == "timestamp":
            try:
                compile_pattern(value)
            except PatternError as error:
                raise PrefixError(f"invalid timestamp pattern {value!r}: {error}") from None
        elif namespace == "firehose":
            if value not in FIREHOSE_VALUES:
                raise PrefixError(f"unknown firehose value {value!r} in prefix {prefix!r}")
            if value == "error-output-type" and not error_prefix:
                raise PrefixError("!{firehose:error-output-type} is only allowed in the ErrorOutputPrefix")
        else:
            if error_prefix:
                raise PrefixError(f"!{{{namespace}:…}} is not allowed in the ErrorOutputPrefix")
            if not dynamic_partitioning:
                raise PrefixError(f"!{{{namespace}:…}} needs dynamic partitioning enabled")
            if not value:
                raise PrefixError(f"empty partition key name in prefix {prefix!r}")


def render(prefix: str, *, moment: datetime, keys: dict[tuple[str, str], str] | None = None,
           error_output_type: str | None = None) -> str:
    """The evaluated prefix. ``moment`` must be timezone-aware (the stream's time zone, UTC by default)."""
    keys = keys or {}

    def substitute(match: re.Match[str]) -> str:
        namespace, value = match.group(1), match.group(2)
        if namespace == "timestamp":
            return format_java(moment, value)
        if namespace == "firehose":
            if value == "error-output-type":
                return error_output_type or ""
            return "".join(secrets.choice(_ALPHABET) for _ in range(RANDOM_STRING_LENGTH))
        return keys[(namespace, value)]

    return EXPRESSION.sub(substitute, prefix)


def effective_prefix(prefix: str | None, *, error: bool) -> str:
    """What Firehose uses when no (error) prefix is configured."""
    if prefix:
        return prefix
    return DEFAULT_ERROR_PREFIX if error else DEFAULT_PREFIX


def object_key(evaluated_prefix: str, stream_name: str, version: str, moment: datetime,
               extension: str = "", unique: str | None = None) -> str:
    """``<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>``."""
    stamp = moment.strftime("%Y-%m-%d-%H-%M-%S")
    return f"{evaluated_prefix}{stream_name}-{version}-{stamp}-{unique or uuid.uuid4()}{extension}"


def moment_of(epoch_ms: int, zone: tzinfo = UTC) -> datetime:
    seconds, millis = divmod(int(epoch_ms), 1000)
    return (datetime.fromtimestamp(seconds, UTC) + timedelta(milliseconds=millis)).astimezone(zone)
