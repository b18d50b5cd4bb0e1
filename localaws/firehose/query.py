"""Inline partition-key extraction (the MetadataExtraction processor) for the JQ subset Firehose users
write: ``{key: .path.to.field, other: .["odd key"]}``. Values become strings; a missing or null value
fails the record (``DynamicPartitioning.MetadataExtractionFailed``)."""

from __future__ import annotations

import json
import re
from typing import Any

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_ENTRY = re.compile(rf"\s*({_QUOTED}|{_NAME})\s*:\s*((?:\.(?:{_NAME}|\[{_QUOTED}\]))+)\s*")
_STEP = re.compile(r'\.(?:([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\])')


class QueryError(ValueError):
    pass


def compile_query(query: str) -> list[tuple[str, list[str]]]:
    """[(partition key, path)] of a ``{k: .a.b, …}`` query; QueryError for anything else."""
    text = query.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise QueryError(f"unsupported MetadataExtractionQuery {query!r} (expected {{key: .path, …}})")
    body = text[1:-1]
    entries: list[tuple[str, list[str]]] = []
    for part in _split(body):
        match = _ENTRY.fullmatch(part)
        if not match:
            raise QueryError(f"unsupported MetadataExtractionQuery entry {part.strip()!r}")
        name = json.loads(match.group(1)) if match.group(1).startswith('"') else match.group(1)
        path = [m.group(1) if m.group(1) is not None else json.loads(f'"{m.group(2)}"')
                for m in _STEP.finditer(match.group(2))]
        entries.append((name, path))
    return entries


def _split(body: str) -> list[str]:
    parts, current, quoted, escaped = [], [], False, False
    for char in body:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def extract(entries: list[tuple[str, list[str]]], document: Any) -> dict[tuple[str, str], str]:
    keys: dict[tuple[str, str], str] = {}
    for name, path in entries:
        value = document
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        if value is None or isinstance(value, dict | list):
            raise QueryError(f"partition key {name!r} ({'.' + '.'.join(path)}) is missing, null or not a scalar")
        keys[("partitionKeyFromQuery", name)] = json.dumps(value) if isinstance(value, bool) else str(value)
    return keys
