"""What kind of statement a text is, from its first words, before (and without) parsing it: Athena's
StatementType / SubstatementType of each kind, and the leading keywords of statements that are not Athena's.

``classify`` answers StartQueryExecution at once; ``statements.parse`` starts from ``kind_of``.
"""

from __future__ import annotations

import re

from localaws.athena.errors import AthenaQueryError

# kind -> (StatementType, SubstatementType)
TYPES: dict[str, tuple[str, str]] = {
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
NOT_ATHENA = {
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


def words(text: str, count: int) -> list[str]:
    return [w.upper() for w in re.findall(r"[A-Za-z_]+", text[:200])[:count]]


def classify(sql: str) -> tuple[str, str]:
    """Athena's (StatementType, SubstatementType) of a statement, cheaply, for a new submission."""
    try:
        kind = kind_of(strip_comments(sql))
    except AthenaQueryError:
        return "DML", "SELECT"
    return TYPES.get(kind, ("DML", "SELECT"))


def kind_of(text: str) -> str:
    w = words(text, 8) + [""] * 8
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
    for keyword, _message in NOT_ATHENA.items():
        if first == keyword:
            return "not_athena"
    return "unknown"
