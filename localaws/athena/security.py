"""Which SQL may reach DuckDB at all.

Two independent layers keep user SQL away from the local filesystem and the network:

1. Here, on the parsed statement: only Athena statement kinds exist (statements.py refuses COPY,
   ATTACH, INSTALL, LOAD, PRAGMA, SET, EXPORT ... by their first keyword, as kinds.py lists them), and
   inside a query every table must be a catalog name (no table functions such as read_csv(), no quoted
   paths or URLs) and no function that reads files, runs SQL text or reveals settings may be called.
2. In DuckDB (duck.py): every connection runs with external access disabled once the query's own
   objects are registered, extension auto-install/auto-load off, and its configuration locked, so
   even SQL that slipped past layer 1 could not open a file, a URL or an extension.
"""

from __future__ import annotations

from sqlglot import exp

from localaws.athena.errors import AthenaQueryError, at
from localaws.athena.syntax import node_position

_DENIED_FUNCTIONS = frozenset({
    "query", "query_table", "glob", "sniff_csv", "getenv", "current_setting", "which_secret",
    "load_aws_credentials", "checkpoint", "force_checkpoint", "repository", "summary", "from_substrait",
    "get_substrait", "get_substrait_json", "json_execute_serialized_sql", "json_serialize_sql",
    "json_deserialize_sql", "json_serialize_plan", "seq_scan", "index_scan", "test_all_types",
    "test_vector_types", "enable_logging", "disable_logging", "truncate_duckdb_logs", "install",
    "load", "attach", "detach", "copy", "export", "set_variable", "getvariable", "version", "platform",
    "icu_calendar_names",
})
_DENIED_PREFIXES = ("read_", "pragma_", "duckdb_", "parquet_", "iceberg_", "delta_", "sqlite_", "postgres_",
                    "mysql_", "ducklake_", "arrow_", "csv_", "json_execute", "parquet", "httpfs", "s3_",
                    "__wr_")
_DENIED_NODES = (exp.Command, exp.Pragma, exp.Set, exp.Copy, exp.Use, exp.Transaction, exp.Commit,
                 exp.Rollback, exp.ReadCSV, exp.ReadParquet)


def _position(node: exp.Expression) -> str:
    return at(*node_position(node))


def function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return ""


def denied_function(name: str) -> bool:
    name = name.lower()
    return name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES)


def check_query(ast: exp.Expression) -> None:
    """Refuse a query (or the query part of CTAS/INSERT/MERGE) that could touch anything but tables."""
    for node in ast.walk():
        if isinstance(node, _DENIED_NODES):
            name = function_name(node) or type(node).__name__.upper()
            raise AthenaQueryError(
                "PERMISSION_DENIED",
                f"{_position(node)}{name} is not allowed: queries read Glue tables only, never local files or URLs")
        if isinstance(node, exp.Table):
            target = node.this
            if not isinstance(target, exp.Identifier):
                name = function_name(target) or target.sql()[:40]
                raise AthenaQueryError(
                    "PERMISSION_DENIED",
                    f"{_position(node)}Table function {name}() is not allowed: queries read Glue tables only, "
                    "never local files or URLs")
            name = target.name
            if any(c in name for c in "/\\:") or name.startswith((".", "~")) or "." in name:
                raise AthenaQueryError(
                    "PERMISSION_DENIED",
                    f"{_position(node)}'{name}' is not allowed as a table name: queries read Glue tables only, "
                    "never local files or URLs")
            if name.lower().startswith("__wr_"):
                raise AthenaQueryError("TABLE_NOT_FOUND", f"{_position(node)}Table '{name}' does not exist")
        elif isinstance(node, (exp.Anonymous, exp.Func)):
            name = function_name(node)
            if name and denied_function(name):
                raise AthenaQueryError(
                    "PERMISSION_DENIED",
                    f"{_position(node)}Function '{name}' is not allowed: it reads files, runs SQL text or exposes "
                    "engine settings")
        elif isinstance(node, exp.Identifier) and node.name.lower().startswith("__wr_"):
            raise AthenaQueryError("COLUMN_NOT_FOUND",
                                   f"{_position(node)}Column '{node.name}' cannot be resolved")
