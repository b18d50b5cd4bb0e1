"""What an Athena statement is: its kind, Athena's StatementType / SubstatementType, and its parts.

The kind comes from the statement's first words (kinds.py). Queries, CTAS, INSERT, MERGE, views, CREATE
EXTERNAL TABLE, DROP and most ALTERs are then parsed by sqlglot (dialect "athena", which reads both
Athena's Trino DML and its Hive DDL); the statements sqlglot keeps as opaque commands (SHOW ..., MSCK
REPAIR, EXPLAIN, CREATE DATABASE, ALTER TABLE ... PARTITION with several partitions, UNLOAD) are
parsed from sqlglot's tokens (commands.py).
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
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from localaws.athena import commands
from localaws.athena.decimals import typed_literals
from localaws.athena.errors import AthenaQueryError, at
from localaws.athena.kinds import NOT_ATHENA, TYPES, kind_of, strip_comments, words
from localaws.athena.security import denied_function
from localaws.athena.syntax import Tokenizer, tokens
from localaws.athena.trino_names import check_written

# sqlglot logs a warning for every statement it falls back to parsing as a Command.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

DIALECT = "athena"

# sqlglot registers a dialect class before attaching its parser and generator, so a thread that looks a
# dialect up while another imports it can get the base generator and write generic SQL (seen as
# "Function 'time_to_unix' not registered" on a fresh engine's first concurrent queries). The dialects the
# engine uses are therefore imported with this module, before any query thread exists.
LOADED_DIALECTS = (sqlglot.dialects.athena.Athena, sqlglot.dialects.duckdb.DuckDB)


@dataclass
class Statement:
    kind: str
    statement_type: str
    substatement_type: str
    text: str
    ast: exp.Expression | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _padded(sql: str, text: str) -> str:
    """``text`` (a suffix of ``sql`` without its leading comments) with the comments blanked out, so that
    lines and columns in the parsed statement are those of the SQL the user sent."""
    start = sql.find(text)
    if start <= 0:
        return text
    return re.sub(r"[^\n]", " ", sql[:start]) + text


# the statements whose text calls functions (DDL's column lists are no calls)
_CALLING = frozenset({"query", "ctas", "insert", "merge", "update", "delete", "unload", "create_view"})


def parse(sql: str) -> Statement:
    stripped = strip_comments(sql)
    if not stripped:
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}mismatched input '<EOF>'. Expecting: a statement")
    text = _padded(sql, stripped)
    raw_tokens = _reject_multiple_statements(text)
    kind = kind_of(stripped)
    statement_type, substatement_type = TYPES.get(kind, ("DML", "SELECT"))
    statement = Statement(kind, statement_type, substatement_type, text)
    first = words(stripped, 1)[0] if words(stripped, 1) else stripped[:10]
    if kind == "not_athena":
        raise AthenaQueryError("NOT_SUPPORTED", NOT_ATHENA[first])
    if kind in ("unknown", "show_unknown", "create_other", "drop_other", "alter_other"):
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}mismatched input '{first}'. Expecting: a supported "
                                               "Athena statement")
    handler = commands.PARSERS.get(kind)
    if handler:
        details = handler(text)
        nested = commands.NESTED.get(kind)
        if nested is not None:
            details[nested] = parse(details[nested])
        statement.details = details
        return statement
    statement.ast = parse_sql(text)
    _check_kind(statement)
    if kind in _CALLING:
        check_written(raw_tokens, denied_function)
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
    typed_literals(expression, text)
    return expression


def _refuse_denied_calls(text: str) -> None:
    """A statement sqlglot cannot parse may still be an attempt at a file function: say so clearly."""
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


def _reject_multiple_statements(text: str) -> list[Token]:
    """The statement's tokens, once it is known to be one statement."""
    try:
        raw = Tokenizer().tokenize(text)
    except TokenError as error:
        raise AthenaQueryError("SYNTAX_ERROR", f"{at(1, 1)}{error}") from None
    for index, token in enumerate(raw):
        if token.token_type == TokenType.SEMICOLON and index < len(raw) - 1:
            raise AthenaQueryError("SYNTAX_ERROR", f"{at(token.line, token.col)}Only one sql statement is allowed. "
                                                   "Got: " + text[:80])
    return raw


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
        statement.statement_type, statement.substatement_type = TYPES[statement.kind]
