"""Athena's SQL at the level of its words: sqlglot's tokens (Trino's, plus Hive's backtick identifiers),
table names as written with where they stand, and where a parsed node starts in the user's SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from localaws.athena.errors import AthenaQueryError, at


@dataclass(frozen=True)
class TableName:
    database: str | None
    name: str
    line: int = 1
    col: int = 1

    def resolve(self, default_database: str) -> tuple[str, str]:
        return (self.database or default_database).lower(), self.name.lower()

    @property
    def position(self) -> str:
        return at(self.line, self.col)


class Tokenizer(Trino.Tokenizer):
    """Trino's tokens, plus Hive's backtick identifiers, and no statement kept as an opaque command."""

    IDENTIFIERS = ['"', "`"]
    COMMANDS: set[TokenType] = set()


def tokens(sql: str) -> list[Token]:
    try:
        return [t for t in Tokenizer().tokenize(sql) if t.token_type != TokenType.SEMICOLON]
    except TokenError as error:
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}{error}") from None


def table_name(table: exp.Expression) -> TableName:
    """A TableName from a sqlglot Table (or Schema wrapping one)."""
    if isinstance(table, exp.Schema):
        table = table.this
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}expected a table name")
    catalog = table.catalog
    if catalog and catalog.lower() != "awsdatacatalog":
        raise AthenaQueryError("CATALOG_NOT_FOUND", f"Catalog '{catalog.lower()}' does not exist")
    first = table.args.get("catalog") or table.args.get("db") or table.this
    line, col = node_position(first)
    return TableName(table.db or None, table.name, line, col)


def node_position(node: exp.Expression) -> tuple[int, int]:
    """(line, column) where a node (an identifier, or the first identifier in it) starts."""
    for candidate in (node, *node.find_all(exp.Identifier)):
        meta = candidate.meta or {}
        if "line" in meta and "col" in meta:
            width = int(meta["end"]) - int(meta["start"]) if "start" in meta and "end" in meta else 0
            return int(meta["line"]), max(1, int(meta["col"]) - width)
    return 1, 1
