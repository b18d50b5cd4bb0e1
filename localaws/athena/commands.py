"""The statements sqlglot keeps as opaque commands, parsed here from sqlglot's tokens into their details:
SHOW ..., DESCRIBE, MSCK REPAIR TABLE, EXPLAIN, CREATE DATABASE, ALTER TABLE ... PARTITION (several
partitions at once), UNLOAD, OPTIMIZE and VACUUM.

EXPLAIN and UNLOAD hold a statement of their own: their details keep its text (under the key ``NESTED``
names), which ``statements.parse`` parses in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot.tokens import Token, TokenType

from localaws.athena.errors import AthenaQueryError, at
from localaws.athena.syntax import TableName, tokens


class _Cursor:
    def __init__(self, text: str) -> None:
        self.text = text
        self.items = tokens(text)
        self.i = 0

    def error(self, expecting: str) -> AthenaQueryError:
        if self.i < len(self.items):
            token = self.items[self.i]
            return AthenaQueryError("SYNTAX_ERROR", f"{at(token.line, token.col)}mismatched input '{token.text}'. "
                                                    f"Expecting: {expecting}")
        return AthenaQueryError("SYNTAX_ERROR", f"{at(1, len(self.text) + 1)}mismatched input '<EOF>'. "
                                                f"Expecting: {expecting}")

    def peek(self, offset: int = 0) -> Token | None:
        index = self.i + offset
        return self.items[index] if index < len(self.items) else None

    def at_end(self) -> bool:
        return self.i >= len(self.items)

    def word(self, offset: int = 0) -> str:
        token = self.peek(offset)
        if token is None or token.token_type in (TokenType.STRING, TokenType.NUMBER):
            return ""
        return token.text.upper()

    def accept(self, *words: str) -> bool:
        if all(self.word(k) == w for k, w in enumerate(words)):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self.error(" ".join(words))

    def start(self, token: Token) -> tuple[int, int]:
        """(line, column) where a token starts."""
        line = self.text.count("\n", 0, token.start) + 1
        return line, token.start - self.text.rfind("\n", 0, token.start)

    def identifier(self) -> tuple[str, Token]:
        token = self.peek()
        if token is None or token.token_type in (TokenType.STRING, TokenType.NUMBER, TokenType.L_PAREN,
                                                 TokenType.R_PAREN, TokenType.COMMA):
            raise self.error("an identifier")
        self.i += 1
        return token.text, token

    def qualified_name(self) -> TableName:
        first, token = self.identifier()
        parts = [first]
        while self.peek() is not None and self.peek().token_type == TokenType.DOT:  # type: ignore[union-attr]
            self.i += 1
            parts.append(self.identifier()[0])
        if len(parts) == 3:
            if parts[0].lower() != "awsdatacatalog":
                raise AthenaQueryError("CATALOG_NOT_FOUND", f"Catalog '{parts[0].lower()}' does not exist")
            parts = parts[1:]
        if len(parts) > 2:
            raise self.error("a table name")
        database = parts[0] if len(parts) == 2 else None
        line, col = self.start(token)
        return TableName(database, parts[-1], line, col)

    def string(self) -> str:
        token = self.peek()
        if token is None or token.token_type != TokenType.STRING:
            raise self.error("a string literal")
        self.i += 1
        return token.text

    def is_type(self, token_type: TokenType) -> bool:
        token = self.peek()
        return token is not None and token.token_type == token_type

    def punct(self, token_type: TokenType, text: str) -> None:
        if not self.is_type(token_type):
            raise self.error(f"'{text}'")
        self.i += 1

    def literal(self) -> str:
        token = self.peek()
        if token is None:
            raise self.error("a value")
        self.i += 1
        if token.token_type == TokenType.STRING:
            return token.text
        if token.token_type == TokenType.NUMBER:
            return token.text
        if token.text.upper() in ("DATE", "TIMESTAMP", "CAST") and self.is_type(TokenType.STRING):
            return self.string()
        if token.text.upper() in ("TRUE", "FALSE"):
            return token.text.lower()
        if token.token_type == TokenType.DASH and self.is_type(TokenType.NUMBER):
            return "-" + self.literal()
        raise self.error("a literal value")

    def properties(self) -> dict[str, str]:
        """( 'k' = 'v', ... )"""
        self.punct(TokenType.L_PAREN, "(")
        props: dict[str, str] = {}
        while True:
            key = self.string()
            self.punct(TokenType.EQ, "=")
            props[key] = self.string()
            if self.is_type(TokenType.COMMA):
                self.i += 1
                continue
            break
        self.punct(TokenType.R_PAREN, ")")
        return props

    def partition_spec(self) -> list[tuple[str, str]]:
        """( k = 'v', ... )"""
        self.punct(TokenType.L_PAREN, "(")
        spec: list[tuple[str, str]] = []
        while True:
            name = self.identifier()[0].lower()
            self.punct(TokenType.EQ, "=")
            spec.append((name, self.literal()))
            if self.is_type(TokenType.COMMA):
                self.i += 1
                continue
            break
        self.punct(TokenType.R_PAREN, ")")
        return spec

    def done(self) -> None:
        if not self.at_end():
            raise self.error("<EOF>")


def _show_tables(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("SHOW")
    if not (c.accept("TABLES") or c.accept("VIEWS")):
        raise c.error("TABLES")
    database = None
    if c.accept("IN") or c.accept("FROM"):
        database = c.identifier()[0]
    c.accept("LIKE")
    pattern = c.string() if not c.at_end() else None
    c.done()
    return {"database": database, "pattern": pattern}


def _show_databases(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("SHOW")
    if not (c.accept("DATABASES") or c.accept("SCHEMAS")):
        raise c.error("DATABASES")
    c.accept("LIKE")
    pattern = c.string() if not c.at_end() else None
    c.done()
    return {"pattern": pattern}


def _show_partitions(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("SHOW", "PARTITIONS")
    table = c.qualified_name()
    c.done()
    return {"table": table}


def _show_columns(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("SHOW", "COLUMNS")
    if not (c.accept("IN") or c.accept("FROM")):
        raise c.error("IN")
    table = c.qualified_name()
    if c.accept("IN") or c.accept("FROM"):
        table = TableName(c.identifier()[0], table.name, table.line, table.col)
    c.done()
    return {"table": table}


def _show_create(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("SHOW", "CREATE")
    if not (c.accept("TABLE") or c.accept("VIEW")):
        raise c.error("TABLE")
    table = c.qualified_name()
    c.done()
    return {"table": table}


def _show_tblproperties(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("SHOW", "TBLPROPERTIES")
    table = c.qualified_name()
    prop = None
    if c.is_type(TokenType.L_PAREN):
        c.i += 1
        prop = c.string()
        c.punct(TokenType.R_PAREN, ")")
    c.done()
    return {"table": table, "property": prop}


def _describe(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    if not (c.accept("DESCRIBE") or c.accept("DESC")):
        raise c.error("DESCRIBE")
    mode = "formatted" if c.accept("FORMATTED") else "extended" if c.accept("EXTENDED") else "plain"
    table = c.qualified_name()
    column = None
    if not c.at_end():
        column = c.identifier()[0].lower()
    c.done()
    return {"table": table, "mode": mode, "column": column}


def _msck(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("MSCK", "REPAIR", "TABLE")
    table = c.qualified_name()
    c.done()
    return {"table": table}


def _explain(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("EXPLAIN")
    analyze = c.accept("ANALYZE")
    c.accept("VERBOSE")
    options: dict[str, str] = {}
    if c.is_type(TokenType.L_PAREN):
        c.i += 1
        while not c.is_type(TokenType.R_PAREN):
            key = c.identifier()[0].upper()
            value = c.identifier()[0].upper()
            options[key] = value
            if c.is_type(TokenType.COMMA):
                c.i += 1
        c.i += 1
    token = c.peek()
    if token is None:
        raise c.error("a statement")
    inner = text[token.start:]
    return {"analyze": analyze, "options": options, "statement": inner}


def _create_database(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("CREATE")
    if not (c.accept("DATABASE") or c.accept("SCHEMA")):
        raise c.error("DATABASE")
    if_not_exists = c.accept("IF", "NOT", "EXISTS")
    name, _ = c.identifier()
    if c.is_type(TokenType.DOT):
        c.i += 1
        if name.lower() != "awsdatacatalog":
            raise AthenaQueryError("CATALOG_NOT_FOUND", f"Catalog '{name.lower()}' does not exist")
        name, _ = c.identifier()
    details: dict[str, Any] = {"name": name.lower(), "if_not_exists": if_not_exists, "comment": None,
                               "location": None, "properties": {}}
    while not c.at_end():
        if c.accept("COMMENT"):
            details["comment"] = c.string()
        elif c.accept("LOCATION"):
            details["location"] = c.string()
        elif c.accept("WITH", "DBPROPERTIES") or c.accept("WITH"):
            details["properties"] = c.properties()
        else:
            raise c.error("COMMENT, LOCATION or WITH DBPROPERTIES")
    return details


def _alter_partitions(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("ALTER", "TABLE")
    table = c.qualified_name()
    if c.accept("ADD"):
        if_not_exists = c.accept("IF", "NOT", "EXISTS")
        partitions: list[dict[str, Any]] = []
        while c.accept("PARTITION"):
            spec = c.partition_spec()
            location = c.string() if c.accept("LOCATION") else None
            partitions.append({"spec": spec, "location": location})
            if c.is_type(TokenType.COMMA):
                c.i += 1
        if not partitions:
            raise c.error("PARTITION")
        c.done()
        return {"table": table, "action": "add", "if_not_exists": if_not_exists, "partitions": partitions}
    if c.accept("DROP"):
        if_exists = c.accept("IF", "EXISTS")
        specs: list[list[tuple[str, str]]] = []
        while c.accept("PARTITION"):
            specs.append(c.partition_spec())
            if c.is_type(TokenType.COMMA):
                c.i += 1
        if not specs:
            raise c.error("PARTITION")
        c.done()
        return {"table": table, "action": "drop", "if_exists": if_exists, "specs": specs}
    if c.accept("PARTITION"):
        spec = c.partition_spec()
        c.expect("SET", "LOCATION")
        location = c.string()
        c.done()
        return {"table": table, "action": "set_location", "spec": spec, "location": location}
    raise c.error("ADD PARTITION or DROP PARTITION")


def _unload(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("UNLOAD")
    start = c.peek()
    if start is None or start.token_type != TokenType.L_PAREN:
        raise c.error("(")
    depth = 0
    end_token = None
    for token in c.items[c.i:]:
        depth += token.token_type == TokenType.L_PAREN
        depth -= token.token_type == TokenType.R_PAREN
        if depth == 0:
            end_token = token
            break
    if end_token is None:
        raise c.error(")")
    inner = text[start.end + 1:end_token.start]
    c.i = c.items.index(end_token) + 1
    c.expect("TO")
    location = c.string()
    properties: dict[str, str] = {}
    if c.accept("WITH"):
        c.punct(TokenType.L_PAREN, "(")
        while not c.is_type(TokenType.R_PAREN):
            key = c.identifier()[0].lower()
            c.punct(TokenType.EQ, "=")
            token = c.peek()
            if token is not None and token.token_type == TokenType.STRING:
                properties[key] = c.string()
            else:
                value_tokens = []
                depth = 0
                while not c.at_end():
                    token = c.peek()
                    assert token is not None
                    if depth == 0 and token.token_type in (TokenType.COMMA, TokenType.R_PAREN):
                        break
                    depth += token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET)
                    depth -= token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET)
                    value_tokens.append(token)
                    c.i += 1
                properties[key] = text[value_tokens[0].start:value_tokens[-1].end + 1] if value_tokens else ""
            if c.is_type(TokenType.COMMA):
                c.i += 1
        c.i += 1
    c.done()
    return {"query": inner, "location": location, "properties": properties}


def _optimize(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("OPTIMIZE")
    table = c.qualified_name()
    c.expect("REWRITE", "DATA", "USING", "BIN_PACK")
    return {"table": table, "where": text[c.peek().start:] if not c.at_end() else None}  # type: ignore[union-attr]


def _vacuum(text: str) -> dict[str, Any]:
    c = _Cursor(text)
    c.expect("VACUUM")
    table = c.qualified_name()
    c.done()
    return {"table": table}


PARSERS: dict[str, Callable[[str], dict[str, Any]]] = {
    "show_tables": _show_tables,
    "show_views": _show_tables,
    "show_databases": _show_databases,
    "show_partitions": _show_partitions,
    "show_columns": _show_columns,
    "show_create_table": _show_create,
    "show_create_view": _show_create,
    "show_tblproperties": _show_tblproperties,
    "describe": _describe,
    "msck": _msck,
    "explain": _explain,
    "create_database": _create_database,
    "alter_add_partition": _alter_partitions,
    "alter_drop_partition": _alter_partitions,
    "alter_partition_location": _alter_partitions,
    "unload": _unload,
    "optimize": _optimize,
    "vacuum": _vacuum,
}

# kind -> the detail that holds a nested statement's text
NESTED = {"explain": "statement", "unload": "query"}
