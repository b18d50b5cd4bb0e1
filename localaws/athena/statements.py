"""What an Athena statement is: its kind, Athena's StatementType / SubstatementType, and its parts.

Queries, CTAS, INSERT, MERGE, views, CREATE EXTERNAL TABLE, DROP and most ALTERs are parsed by
sqlglot (dialect "athena", which reads both Athena's Trino DML and its Hive DDL). The statements
sqlglot keeps as opaque commands (SHOW ..., MSCK REPAIR, EXPLAIN, CREATE DATABASE, ALTER TABLE ...
PARTITION with several partitions, UNLOAD) are parsed here from sqlglot's tokens.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import sqlglot
import sqlglot.dialects.athena
import sqlglot.dialects.duckdb
from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from localaws.athena.errors import AthenaQueryError, at

# sqlglot logs a warning for every statement it falls back to parsing as a Command.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

DIALECT = "athena"

# sqlglot registers a dialect class before attaching its parser and generator, so a thread that looks a
# dialect up while another imports it can get the base generator and write generic SQL (seen as
# "Function 'time_to_unix' not registered" on a fresh engine's first concurrent queries). The dialects the
# engine uses are therefore imported with this module, before any query thread exists.
LOADED_DIALECTS = (sqlglot.dialects.athena.Athena, sqlglot.dialects.duckdb.DuckDB)


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


@dataclass
class Statement:
    kind: str
    statement_type: str
    substatement_type: str
    text: str
    ast: exp.Expression | None = None
    details: dict[str, Any] = field(default_factory=dict)


# kind -> (StatementType, SubstatementType)
_TYPES: dict[str, tuple[str, str]] = {
    "query": ("DML", "SELECT"),
    "explain": ("DML", "EXPLAIN"),
    "ctas": ("DDL", "CREATE_TABLE_AS_SELECT"),
    "insert": ("DML", "INSERT"),
    "merge": ("DML", "MERGE"),
    "update": ("DML", "UPDATE"),
    "delete": ("DML", "DELETE"),
    "unload": ("DML", "UNLOAD"),
    "create_table": ("DDL", "CREATE_TABLE"),
    "create_view": ("DDL", "CREATE_VIEW"),
    "create_database": ("DDL", "CREATE_DATABASE"),
    "drop_table": ("DDL", "DROP_TABLE"),
    "drop_view": ("DDL", "DROP_VIEW"),
    "drop_database": ("DDL", "DROP_DATABASE"),
    "alter_add_partition": ("DDL", "ALTER_TABLE_ADD_PARTITION"),
    "alter_drop_partition": ("DDL", "ALTER_TABLE_DROP_PARTITION"),
    "alter_partition_location": ("DDL", "ALTER_TABLE_SET_LOCATION"),
    "alter_rename": ("DDL", "ALTER_TABLE_RENAME"),
    "alter_set_properties": ("DDL", "ALTER_TABLE_SET_TBLPROPERTIES"),
    "alter_add_columns": ("DDL", "ALTER_TABLE_ADD_COLUMNS"),
    "alter_replace_columns": ("DDL", "ALTER_TABLE_REPLACE_COLUMNS"),
    "alter_change_column": ("DDL", "ALTER_TABLE_CHANGE_COLUMN"),
    "alter_set_location": ("DDL", "ALTER_TABLE_SET_LOCATION"),
    "msck": ("DDL", "MSCK_REPAIR_TABLE"),
    "show_tables": ("UTILITY", "SHOW_TABLES"),
    "show_databases": ("UTILITY", "SHOW_DATABASES"),
    "show_partitions": ("UTILITY", "SHOW_PARTITIONS"),
    "show_columns": ("UTILITY", "SHOW_COLUMNS"),
    "show_create_table": ("UTILITY", "SHOW_CREATE_TABLE"),
    "show_create_view": ("UTILITY", "SHOW_CREATE_VIEW"),
    "show_tblproperties": ("UTILITY", "SHOW_TBLPROPERTIES"),
    "show_views": ("UTILITY", "SHOW_VIEWS"),
    "describe": ("UTILITY", "DESCRIBE_TABLE"),
    "vacuum": ("DML", "VACUUM_TABLE"),
    "optimize": ("DML", "OPTIMIZE"),
}

# Leading keywords of statements that are not Athena's (DuckDB, transactions, sessions ...).
_NOT_ATHENA = {
    "COPY": "COPY is not an Athena statement; the local engine reads and writes only through tables",
    "ATTACH": "ATTACH is not an Athena statement; databases live in the Glue catalog",
    "DETACH": "DETACH is not an Athena statement",
    "INSTALL": "INSTALL is not an Athena statement; extensions cannot be installed",
    "LOAD": "LOAD is not an Athena statement; extensions cannot be loaded",
    "FORCE": "FORCE is not an Athena statement",
    "PRAGMA": "PRAGMA is not an Athena statement",
    "SET": "SET is not an Athena statement (session properties are not supported)",
    "RESET": "RESET is not an Athena statement",
    "EXPORT": "EXPORT is not an Athena statement; use UNLOAD or CREATE TABLE AS",
    "IMPORT": "IMPORT is not an Athena statement",
    "CALL": "CALL is not supported",
    "USE": "USE is not supported; pass QueryExecutionContext.Database",
    "CHECKPOINT": "CHECKPOINT is not an Athena statement",
    "BEGIN": "Transactions are not supported",
    "START": "Transactions are not supported",
    "COMMIT": "Transactions are not supported",
    "ROLLBACK": "Transactions are not supported",
    "GRANT": "GRANT is not supported; use Lake Formation",
    "REVOKE": "REVOKE is not supported; use Lake Formation",
    "SUMMARIZE": "SUMMARIZE is not an Athena statement",
    "DETACH DATABASE": "DETACH is not an Athena statement",
    "PREPARE": "Prepared statements are not supported by the local engine; use ExecutionParameters",
    "EXECUTE": "Prepared statements are not supported by the local engine; use ExecutionParameters",
    "DEALLOCATE": "Prepared statements are not supported by the local engine",
}


def strip_comments(sql: str) -> str:
    """The statement without leading comments and trailing semicolons/whitespace."""
    text = sql
    while True:
        stripped = text.lstrip()
        if stripped.startswith("--"):
            newline = stripped.find("\n")
            text = "" if newline < 0 else stripped[newline + 1:]
        elif stripped.startswith("/*"):
            end = stripped.find("*/")
            text = "" if end < 0 else stripped[end + 2:]
        else:
            text = stripped
            break
    return text.rstrip().rstrip(";").rstrip()


class _Tokenizer(Trino.Tokenizer):
    """Trino's tokens, plus Hive's backtick identifiers, and no statement kept as an opaque command."""

    IDENTIFIERS = ['"', "`"]
    COMMANDS: set[TokenType] = set()


def tokens(sql: str) -> list[Token]:
    try:
        return [t for t in _Tokenizer().tokenize(sql) if t.token_type != TokenType.SEMICOLON]
    except TokenError as error:
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}{error}") from None


def _words(text: str, count: int) -> list[str]:
    return [w.upper() for w in re.findall(r"[A-Za-z_]+", text[:200])[:count]]


def classify(sql: str) -> tuple[str, str]:
    """Athena's (StatementType, SubstatementType) of a statement, cheaply, for a new submission."""
    try:
        kind = _kind_of(strip_comments(sql))
    except AthenaQueryError:
        return "DML", "SELECT"
    return _TYPES.get(kind, ("DML", "SELECT"))


def _kind_of(text: str) -> str:
    w = _words(text, 8) + [""] * 8
    first = w[0]
    if first in ("SELECT", "WITH", "VALUES", "TABLE") or text.startswith("("):
        return "query"
    if first == "EXPLAIN":
        return "explain"
    if first == "SHOW":
        if w[1] in ("TABLES",):
            return "show_tables"
        if w[1] in ("DATABASES", "SCHEMAS"):
            return "show_databases"
        if w[1] == "PARTITIONS":
            return "show_partitions"
        if w[1] == "COLUMNS":
            return "show_columns"
        if w[1] == "CREATE" and w[2] == "VIEW":
            return "show_create_view"
        if w[1] == "CREATE":
            return "show_create_table"
        if w[1] == "TBLPROPERTIES":
            return "show_tblproperties"
        if w[1] == "VIEWS":
            return "show_views"
        return "show_unknown"
    if first in ("DESCRIBE", "DESC"):
        return "describe"
    if first == "MSCK":
        return "msck"
    if first == "UNLOAD":
        return "unload"
    if first == "INSERT":
        return "insert"
    if first == "MERGE":
        return "merge"
    if first == "UPDATE":
        return "update"
    if first == "DELETE":
        return "delete"
    if first == "VACUUM":
        return "vacuum"
    if first == "OPTIMIZE":
        return "optimize"
    if first == "CREATE":
        rest = [x for x in w[1:] if x not in ("OR", "REPLACE", "EXTERNAL", "PROTECTED", "MULTI_DIALECT")]
        if rest[0] in ("DATABASE", "SCHEMA"):
            return "create_database"
        if rest[0] == "VIEW":
            return "create_view"
        if rest[0] == "TABLE":
            return "ctas" if re.search(r"\)\s*AS\s*(\(|SELECT|WITH|VALUES)|\bAS\s+(\(|SELECT|WITH|VALUES)",
                                       text, re.I | re.S) and not re.search(r"\bROW\s+FORMAT\b|\bSTORED\s+AS\b",
                                                                            text, re.I) else "create_table"
        return "create_other"
    if first == "DROP":
        if w[1] in ("DATABASE", "SCHEMA"):
            return "drop_database"
        if w[1] == "VIEW":
            return "drop_view"
        if w[1] == "TABLE":
            return "drop_table"
        return "drop_other"
    if first == "ALTER":
        upper = text.upper()
        if re.search(r"\bADD\s+(IF\s+NOT\s+EXISTS\s+)?PARTITION\b", upper):
            return "alter_add_partition"
        if re.search(r"\bDROP\s+(IF\s+EXISTS\s+)?PARTITION\b", upper):
            return "alter_drop_partition"
        if re.search(r"\bPARTITION\s*\(.*\)\s*SET\s+LOCATION\b", upper, re.S):
            return "alter_partition_location"
        if re.search(r"\bRENAME\s+TO\b", upper):
            return "alter_rename"
        if re.search(r"\bSET\s+TBLPROPERTIES\b", upper):
            return "alter_set_properties"
        if re.search(r"\bADD\s+COLUMNS\b", upper):
            return "alter_add_columns"
        if re.search(r"\bREPLACE\s+COLUMNS\b", upper):
            return "alter_replace_columns"
        if re.search(r"\bCHANGE\s+(COLUMN\s+)?", upper):
            return "alter_change_column"
        if re.search(r"\bSET\s+LOCATION\b", upper):
            return "alter_set_location"
        return "alter_other"
    for keyword, _message in _NOT_ATHENA.items():
        if first == keyword:
            return "not_athena"
    return "unknown"


# ---------------------------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------------------------
def _padded(sql: str, text: str) -> str:
    """``text`` (a suffix of ``sql`` without its leading comments) with the comments blanked out, so that
    lines and columns in the parsed statement are those of the SQL the user sent."""
    start = sql.find(text)
    if start <= 0:
        return text
    return re.sub(r"[^\n]", " ", sql[:start]) + text


def parse(sql: str) -> Statement:
    stripped = strip_comments(sql)
    if not stripped:
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}mismatched input '<EOF>'. Expecting: a statement")
    text = _padded(sql, stripped)
    _reject_multiple_statements(text)
    kind = _kind_of(stripped)
    statement_type, substatement_type = _TYPES.get(kind, ("DML", "SELECT"))
    statement = Statement(kind, statement_type, substatement_type, text)
    first = _words(stripped, 1)[0] if _words(stripped, 1) else stripped[:10]
    if kind == "not_athena":
        raise AthenaQueryError("NOT_SUPPORTED", _NOT_ATHENA[first])
    if kind in ("unknown", "show_unknown", "create_other", "drop_other", "alter_other"):
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}mismatched input '{first}'. Expecting: a supported "
                                               "Athena statement")
    handler = _HAND_PARSERS.get(kind)
    if handler:
        statement.details = handler(text)
        return statement
    statement.ast = parse_sql(text)
    _check_kind(statement)
    return statement


def parse_sql(text: str) -> exp.Expression:
    try:
        expressions = sqlglot.parse(text, read=DIALECT)
    except ParseError as error:
        _refuse_denied_calls(text)
        detail = error.errors[0] if error.errors else {}
        line, col = detail.get("line", 1), detail.get("col", 1)
        highlight = detail.get("highlight") or ""
        description = detail.get("description") or str(error)
        near = f"mismatched input '{highlight}'. " if highlight else ""
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(line, col)}{near}{description}") from None
    except TokenError as error:
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}{error}") from None
    expressions = [e for e in expressions if e is not None]
    if len(expressions) != 1:
        raise AthenaQueryError("SYNTAX_ERROR", "Only one sql statement is allowed")
    expression = expressions[0]
    if isinstance(expression, exp.Command):
        raise AthenaQueryError("SYNTAX_ERROR",
                               f"{at(1, 1)}mismatched input '{expression.this}'. Expecting: a supported statement")
    return expression


def _refuse_denied_calls(text: str) -> None:
    """A statement sqlglot cannot parse may still be an attempt at a file function: say so clearly."""
    from localaws.athena.security import denied_function

    try:
        found = tokens(text)
    except AthenaQueryError:
        return
    for token, following in zip(found, found[1:], strict=False):
        if following.token_type == TokenType.L_PAREN and denied_function(token.text):
            line = text.count("\n", 0, token.start) + 1
            col = token.start - text.rfind("\n", 0, token.start)
            raise AthenaQueryError("PERMISSION_DENIED",
                                   f"{at(line, col)}Function '{token.text.lower()}' is not allowed: it reads files, "
                                   "runs SQL text or exposes engine settings")


def _reject_multiple_statements(text: str) -> None:
    try:
        raw = _Tokenizer().tokenize(text)
    except TokenError as error:
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}{error}") from None
    for index, token in enumerate(raw):
        if token.token_type == TokenType.SEMICOLON and index < len(raw) - 1:
            raise AthenaQueryError("SYNTAX_ERROR", f"{at(token.line, token.col)}Only one sql statement is allowed. "
                                                   "Got: " + text[:80])


def _check_kind(statement: Statement) -> None:
    ast = statement.ast
    expected: dict[str, tuple[type[exp.Expression], ...]] = {
        "query": (exp.Query, exp.Values),
        "insert": (exp.Insert,),
        "merge": (exp.Merge,),
        "update": (exp.Update,),
        "delete": (exp.Delete,),
        "create_table": (exp.Create,),
        "ctas": (exp.Create,),
        "create_view": (exp.Create,),
        "drop_table": (exp.Drop,),
        "drop_view": (exp.Drop,),
        "drop_database": (exp.Drop,),
        "alter_rename": (exp.Alter,),
        "alter_set_properties": (exp.Alter,),
        "alter_add_columns": (exp.Alter,),
        "alter_replace_columns": (exp.Alter,),
        "alter_change_column": (exp.Alter,),
        "alter_set_location": (exp.Alter,),
        "describe": (exp.Describe,),
    }
    types = expected.get(statement.kind)
    if types and not isinstance(ast, types):
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}cannot parse this {statement.substatement_type} statement")
    if statement.kind in ("create_table", "ctas") and isinstance(ast, exp.Create):
        statement.kind = "ctas" if ast.expression is not None else "create_table"
        statement.statement_type, statement.substatement_type = _TYPES[statement.kind]


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


# ---------------------------------------------------------------------------------------------
# hand parsers, over sqlglot tokens
# ---------------------------------------------------------------------------------------------
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
    return {"analyze": analyze, "options": options, "statement": parse(inner)}


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
    return {"query": parse(inner), "location": location, "properties": properties}


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


_HAND_PARSERS = {
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


def athena_like_to_regex(pattern: str) -> re.Pattern[str]:
    """SHOW TABLES/DATABASES patterns: '*' matches anything, '|' separates alternatives."""
    parts = [re.escape(p.strip()).replace(r"\*", ".*") for p in pattern.split("|")]
    return re.compile("^(" + "|".join(parts) + ")$", re.I)
