"""Trino docs: functions/comparison.md (examples of our own for the plain operators)."""

from __future__ import annotations

DOCUMENTED = ["<", ">", "<=", ">=", "=", "<>", "!=", "BETWEEN", "IS NULL", "IS DISTINCT FROM", "greatest", "least",
              "ANY", "ALL", "SOME", "LIKE", "IN"]

EXAMPLES = [
    ("<", "1 < 2", "true", "boolean"),
    ("<", "'a' < 'B'", "false", "boolean"),
    (">", "2 > 1", "true", "boolean"),
    ("<=", "2 <= 2", "true", "boolean"),
    (">=", "1 >= 2", "false", "boolean"),
    ("=", "1 = NULL", None, "boolean"),
    ("=", "'a' = 'a '", "false", "boolean"),
    ("<>", "1 <> 2", "true", "boolean"),
    ("!=", "1 != 1", "false", "boolean"),
    ("BETWEEN", "3 BETWEEN 2 AND 6", "true", "boolean"),
    ("BETWEEN", "3 NOT BETWEEN 2 AND 6", "false", "boolean"),
    ("BETWEEN", "NULL BETWEEN 2 AND 4", None, "boolean"),
    ("BETWEEN", "2 BETWEEN NULL AND 6", None, "boolean"),
    ("BETWEEN", "2 BETWEEN 3 AND NULL", "false", "boolean"),
    ("BETWEEN", "8 BETWEEN NULL AND 6", "false", "boolean"),
    ("BETWEEN", "'Paul' BETWEEN 'John' AND 'Ringo'", "true", "boolean"),
    ("IS NULL", "NULL IS NULL", "true", "boolean"),
    ("IS NULL", "3.0 IS NULL", "false", "boolean"),
    ("IS DISTINCT FROM", "NULL IS DISTINCT FROM NULL", "false", "boolean"),
    ("IS DISTINCT FROM", "NULL IS NOT DISTINCT FROM NULL", "true", "boolean"),
    ("IS DISTINCT FROM", "1 IS DISTINCT FROM NULL", "true", "boolean"),
    ("greatest", "greatest(1, 5, 3)", "5", "integer"),
    ("greatest", "greatest(1, NULL, 3)", None, "integer"),
    ("greatest", "greatest('a', 'c', 'b')", "c", "varchar"),
    ("least", "least(4, 2, 3)", "2", "integer"),
    ("least", "least(1, NULL)", None, "integer"),
    ("ANY", "'hello' = ANY (VALUES 'hello', 'world')", "true", "boolean"),
    ("ALL", "21 < ALL (VALUES 19, 20, 21)", "false", "boolean"),
    ("SOME", "42 >= SOME (SELECT 41 UNION ALL SELECT 42 UNION ALL SELECT 43)", "true", "boolean"),
    ("LIKE", "'Europe' LIKE 'E%'", "true", "boolean"),
    ("LIKE", "'Asia' LIKE 'A__a'", "true", "boolean"),
    ("LIKE", "'asia' LIKE 'A%'", "false", "boolean"),
    ("LIKE", "'South_America' LIKE 'South\\_America' ESCAPE '\\'", "true", "boolean"),
    ("LIKE", "'South America' LIKE 'South\\_America' ESCAPE '\\'", "false", "boolean"),
    ("IN", "'AMERICA' IN ('AMERICA', 'EUROPE')", "true", "boolean"),
    ("IN", "'ASIA' NOT IN ('AMERICA', 'EUROPE')", "true", "boolean"),
    ("IN", "1 IN (2, NULL)", None, "boolean"),
]

UNSUPPORTED: dict[str, tuple[str, str]] = {}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {}
