"""Trino docs: functions/conditional.md (the page's forms, with values of our own)."""

from __future__ import annotations

DOCUMENTED = ["CASE", "if", "coalesce", "nullif", "try"]

EXAMPLES = [
    ("CASE", "CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END", "two", "varchar"),
    ("CASE", "CASE 5 WHEN 1 THEN 'one' END", None, "varchar"),
    ("CASE", "CASE WHEN 1 = 2 THEN 'aaa' WHEN 2 = 2 THEN 'bbb' ELSE 'ccc' END", "bbb", "varchar"),
    ("if", "if(1 > 2, 'a')", None, "varchar"),
    ("if", "if(1 < 2, 'a', 'b')", "a", "varchar"),
    ("if", "if(NULL, 'a', 'b')", "b", "varchar"),
    ("coalesce", "coalesce(NULL, 2, 3)", "2", "integer"),
    ("coalesce", "coalesce(NULL, NULL)", None, None),
    ("nullif", "nullif(1, 1)", None, "integer"),
    ("nullif", "nullif(1, 2)", "1", "integer"),
    ("try", "try(CAST('P332a' AS BIGINT))", None, "bigint"),
    ("try", "try(CAST('94131' AS BIGINT))", "94131", "bigint"),
    ("try", "coalesce(try(155 / 0), 0)", "0", "integer"),
]

UNSUPPORTED: dict[str, tuple[str, str]] = {}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {}
