"""Trino's regular expressions where RE2 falls short: lookaround, backreferences, atomic groups, possessive
quantifiers.

Trino (and so Athena) runs ``regexp_*`` with Java's regex syntax by default; DuckDB has RE2, which has
none of the four. A pattern that needs one of them is run by Python's ``re`` (which has all four, with
Java's backtracking semantics), through DuckDB functions registered on each connection: slower than RE2
(Python per row), so only these patterns take that path.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import duckdb
from sqlglot import exp

from localaws.athena.errors import AthenaQueryError

# one of the four, outside a character class and not escaped (the scan below finds it)
_JAVA_ONLY = re.compile(r"\(\?<?[=!]|\(\?>|\\[1-9]|\\k<|[*+?}]\+")


def _outside_classes(pattern: str) -> str:
    """``pattern`` without its character classes and with each escaped character as a placeholder, except
    ``\\1``-``\\9`` and ``\\k``, which stay (backreferences)."""
    out, i, depth = [], 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if depth == 0:
                out.append("\\" + escaped if escaped in "123456789k" else "_")
            i += 2
            if escaped in "pP" and pattern.startswith("{", i):  # \p{L}: one class, whatever follows
                i = pattern.find("}", i) + 1 or len(pattern)
            continue
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif depth == 0:
            out.append(char)
        i += 1
    return "".join(out)


def needs_java(pattern: str) -> bool:
    """Whether ``pattern`` uses what Java's regex has and RE2 has not."""
    return bool(_JAVA_ONLY.search(_outside_classes(pattern)))


@functools.lru_cache(maxsize=256)
def compiled(pattern: str) -> re.Pattern[str]:
    """A Java pattern as Python's: named groups and their backreferences are spelled differently."""
    python = re.sub(r"\(\?<([A-Za-z][A-Za-z0-9]*)>", r"(?P<\1>", pattern)
    python = re.sub(r"\\k<([A-Za-z][A-Za-z0-9]*)>", r"(?P=\1)", python)
    try:
        return re.compile(python)
    except re.error as error:
        raise ValueError(f"Invalid regex pattern '{pattern}': {error}") from None


@functools.lru_cache(maxsize=256)
def _replacement(text: str) -> tuple[tuple[bool, str], ...]:
    """Java's replacement text as (is_group, literal or group) parts: ``$1``, ``${name}``, ``\\$``."""
    parts: list[tuple[bool, str]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            parts.append((False, text[i + 1]))
            i += 2
        elif char == "$" and i + 1 < len(text) and text[i + 1] == "{":
            end = text.index("}", i)
            parts.append((True, text[i + 2:end]))
            i = end + 1
        elif char == "$" and i + 1 < len(text) and text[i + 1].isdigit():
            j = i + 1
            while j < len(text) and text[j].isdigit():
                j += 1
            parts.append((True, text[i + 1:j]))
            i = j
        elif char == "$":
            raise ValueError("Illegal group reference")
        else:
            parts.append((False, char))
            i += 1
    return tuple(parts)


def _group(match: re.Match[str], group: str) -> str:
    key: int | str = int(group) if group.isdigit() else group
    try:
        return match.group(key) or ""
    except IndexError:
        raise ValueError(f"No group {group}") from None


def like(text: str, pattern: str) -> bool:
    return compiled(pattern).search(text) is not None


def _check_group(pattern: re.Pattern[str], group: int) -> None:
    if group < 0 or group > pattern.groups:
        raise ValueError(f"Pattern has {pattern.groups} groups. Cannot access group {group}")


def extract(text: str, pattern: str, group: int = 0) -> str | None:
    regex = compiled(pattern)
    _check_group(regex, group)
    match = regex.search(text)
    return None if match is None else match.group(group)


def extract_all(text: str, pattern: str, group: int = 0) -> list[str | None]:
    regex = compiled(pattern)
    _check_group(regex, group)
    return [m.group(group) for m in regex.finditer(text)]


def replace(text: str, pattern: str, replacement: str = "") -> str:
    parts = _replacement(replacement)
    return compiled(pattern).sub(lambda m: "".join(_group(m, v) if is_group else v for is_group, v in parts), text)


def count(text: str, pattern: str) -> int:
    return sum(1 for _ in compiled(pattern).finditer(text))


def position(text: str, pattern: str, start: int = 1, occurrence: int = 1) -> int:
    if start < 1 or occurrence < 1:
        raise ValueError("start and occurrence must be positive")
    for seen, match in enumerate(compiled(pattern).finditer(text, start - 1), start=1):
        if seen == occurrence:
            return match.start() + 1
    return -1


def split(text: str, pattern: str) -> list[str]:
    pieces, last = [], 0
    for match in compiled(pattern).finditer(text):
        pieces.append(text[last:match.start()])
        last = match.end()
    pieces.append(text[last:])
    return pieces


NODES = (exp.RegexpLike, exp.RegexpExtract, exp.RegexpExtractAll, exp.RegexpReplace, exp.RegexpSplit,
                *(c for c in (getattr(exp, "RegexpCount", None),) if c is not None))


def rewrite(node: exp.Expression) -> exp.Expression | None:
    """A regexp_* function whose literal pattern needs Java's regex, as a call of the functions below; None
    for a pattern RE2 runs."""
    if isinstance(node, exp.Anonymous):
        if str(node.this).lower() != "regexp_position" or len(node.expressions) < 2:
            return None
        subject, pattern, rest = node.expressions[0], node.expressions[1], node.expressions[2:]
    else:
        subject, pattern, rest = node.this, node.expression, []
    if not (isinstance(pattern, exp.Literal) and pattern.is_string and needs_java(str(pattern.this))):
        return None
    try:
        compiled(str(pattern.this))
    except ValueError as error:
        raise AthenaQueryError("INVALID_FUNCTION_ARGUMENT", str(error)) from None
    zero, one = exp.Literal.number(0), exp.Literal.number(1)
    if isinstance(node, exp.RegexpLike):
        name, args = "like", [subject, pattern]
    elif isinstance(node, (exp.RegexpExtract, exp.RegexpExtractAll)):
        name = "extract" if isinstance(node, exp.RegexpExtract) else "extract_all"
        args = [subject, pattern, node.args.get("group") or zero]
    elif isinstance(node, exp.RegexpReplace):
        replacement = node.args.get("replacement") or exp.Literal.string("")
        if isinstance(replacement, exp.Lambda):
            raise AthenaQueryError("NOT_SUPPORTED", "regexp_replace with a lambda and a pattern RE2 cannot run "
                                                    "(lookaround, backreferences) is not supported by the local engine")
        name, args = "replace", [subject, pattern, replacement]
    elif isinstance(node, exp.RegexpSplit):
        name, args = "split", [subject, pattern]
    elif isinstance(node, exp.Anonymous):
        name, args = "position", [subject, pattern, rest[0] if rest else one, rest[1] if len(rest) > 1 else one]
    else:
        name, args = "count", [subject, pattern]
    return exp.Anonymous(this=f"__wr_jre_{name}", expressions=args)


def _nulls(function: Callable[..., Any]) -> Callable[..., Any]:
    """NULL in, NULL out (as Trino's functions); a bad pattern or group fails the query with Trino's error."""
    @functools.wraps(function)  # DuckDB counts the parameters of the signature
    def call(*args: Any) -> Any:
        if any(a is None for a in args):
            return None
        try:
            return function(*args)
        except ValueError as error:
            raise AthenaQueryError("INVALID_FUNCTION_ARGUMENT", str(error)) from None
    return call


FUNCTIONS: dict[str, tuple[Callable[..., Any], list[str], str]] = {
    "__wr_jre_like": (like, ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    "__wr_jre_extract": (extract, ["VARCHAR", "VARCHAR", "BIGINT"], "VARCHAR"),
    "__wr_jre_extract_all": (extract_all, ["VARCHAR", "VARCHAR", "BIGINT"], "VARCHAR[]"),
    "__wr_jre_replace": (replace, ["VARCHAR", "VARCHAR", "VARCHAR"], "VARCHAR"),
    "__wr_jre_count": (count, ["VARCHAR", "VARCHAR"], "BIGINT"),
    "__wr_jre_position": (position, ["VARCHAR", "VARCHAR", "BIGINT", "BIGINT"], "INTEGER"),
    "__wr_jre_split": (split, ["VARCHAR", "VARCHAR"], "VARCHAR[]"),
}


def register(con: duckdb.DuckDBPyConnection) -> None:
    for name, (function, parameters, result) in FUNCTIONS.items():
        con.create_function(name, _nulls(function), parameters, result, null_handling="special",
                            side_effects=False)
