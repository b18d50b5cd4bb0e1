"""Trino docs: functions/regexp.md (its examples, plus Java-regex cases of our own)."""

from __future__ import annotations

DOCUMENTED = ["regexp_count", "regexp_extract_all", "regexp_extract", "regexp_like", "regexp_position",
              "regexp_replace", "regexp_split"]

_S = "'I have 23 apples, 5 pears and 13 oranges'"

EXAMPLES = [
    ("regexp_count", "regexp_count('1a 2b 14m', '\\s*[a-z]+\\s*')", "3", "bigint"),
    ("regexp_extract_all", "regexp_extract_all('1a 2b 14m', '\\d+')", "[1, 2, 14]", "array"),
    ("regexp_extract_all", "regexp_extract_all('1a 2b 14m', '(\\d+)([a-z]+)', 2)", "[a, b, m]", "array"),
    ("regexp_extract", "regexp_extract('1a 2b 14m', '\\d+')", "1", "varchar"),
    ("regexp_extract", "regexp_extract('1a 2b 14m', '(\\d+)([a-z]+)', 2)", "a", "varchar"),
    ("regexp_extract", "regexp_extract('abc', '\\d+')", None, "varchar"),
    ("regexp_like", "regexp_like('1a 2b 14m', '\\d+b')", "true", "boolean"),
    ("regexp_like", "regexp_like('abc', '^b')", "false", "boolean"),
    ("regexp_like", "regexp_like('ABC', '(?i)^abc$')", "true", "boolean"),
    ("regexp_like", "regexp_like('héllo wörld', '^\\p{L}+ \\p{L}+$')", "true", "boolean"),
    ("regexp_like", "regexp_like('foobar', 'foo(?=bar)')", "true", "boolean"),
    ("regexp_like", "regexp_like('abab', '^(ab)\\1$')", "true", "boolean"),
    ("regexp_position", f"regexp_position({_S}, '\\b\\d+\\b')", "8", "integer"),
    ("regexp_position", f"regexp_position({_S}, '\\b\\d+\\b', 5)", "8", "integer"),
    ("regexp_position", f"regexp_position({_S}, '\\b\\d+\\b', 12)", "19", "integer"),
    ("regexp_position", f"regexp_position({_S}, '\\b\\d+\\b', 12, 1)", "19", "integer"),
    ("regexp_position", f"regexp_position({_S}, '\\b\\d+\\b', 12, 2)", "31", "integer"),
    ("regexp_position", f"regexp_position({_S}, '\\b\\d+\\b', 12, 3)", "-1", "integer"),
    ("regexp_replace", "regexp_replace('1a 2b 14m', '\\d+[ab] ')", "14m", "varchar"),
    ("regexp_replace", "regexp_replace('1a 2b 14m', '(\\d+)([ab]) ', '3c$2 ')", "3ca 3cb 14m", "varchar"),
    ("regexp_replace", "regexp_replace('abc', '(?<first>a)', '${first}!')", "a!bc", "varchar"),
    ("regexp_replace", "regexp_replace('new york', '(\\w)(\\w*)', x -> upper(x[1]) || lower(x[2]))", "New York",
     "varchar"),
    ("regexp_split", "regexp_split('1a 2b 14m', '\\s*[a-z]+\\s*')", "[1, 2, 14, ]", "array"),
]

UNSUPPORTED: dict[str, tuple[str, str]] = {}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {}
