"""Trino docs: functions/logical.md (its truth tables, as examples)."""

from __future__ import annotations

DOCUMENTED = ["AND", "OR", "NOT"]

EXAMPLES = [
    ("AND", "true AND true", "true", "boolean"),
    ("AND", "true AND false", "false", "boolean"),
    ("AND", "true AND NULL", None, "boolean"),
    ("AND", "false AND NULL", "false", "boolean"),
    ("AND", "NULL AND NULL", None, "boolean"),
    ("OR", "false OR false", "false", "boolean"),
    ("OR", "true OR NULL", "true", "boolean"),
    ("OR", "false OR NULL", None, "boolean"),
    ("OR", "NULL OR NULL", None, "boolean"),
    ("NOT", "NOT true", "false", "boolean"),
    ("NOT", "NOT NULL", None, "boolean"),
]

UNSUPPORTED: dict[str, tuple[str, str]] = {}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {}
