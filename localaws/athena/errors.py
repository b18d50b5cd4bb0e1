"""Athena's error reporting: a failed query carries ``Status.StateChangeReason`` ("NAME: message") and
``Status.AthenaError`` {ErrorCategory (1 system, 2 user, 3 other), ErrorType, Retryable, ErrorMessage}.

Error types follow Athena's error catalog (docs: "Athena error catalog"); the mapping from error
names to types is this engine's best reading of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SYSTEM, USER, OTHER = 1, 2, 3

# error name -> (category, error type, retryable)
_KINDS: dict[str, tuple[int, int, bool]] = {
    "SYNTAX_ERROR": (USER, 1006, False),
    "COLUMN_NOT_FOUND": (USER, 1006, False),
    "AMBIGUOUS_NAME": (USER, 1006, False),
    "MISSING_COLUMN_NAME": (USER, 1006, False),
    "DUPLICATE_COLUMN_NAME": (USER, 1006, False),
    "MISMATCHED_COLUMN_ALIASES": (USER, 1006, False),
    "TYPE_MISMATCH": (USER, 1006, False),
    "TYPE_NOT_FOUND": (USER, 1006, False),
    "FUNCTION_NOT_FOUND": (USER, 1006, False),
    "EXPRESSION_NOT_AGGREGATE": (USER, 1006, False),
    "INVALID_FUNCTION_ARGUMENT": (USER, 1100, False),
    "INVALID_CAST_ARGUMENT": (USER, 1100, False),
    "INVALID_TABLE_PROPERTY": (USER, 1101, False),
    "INVALID_SESSION_PROPERTY": (USER, 1101, False),
    "INVALID_PARAMETER_USAGE": (USER, 1100, False),
    "HIVE_EXCEEDED_PARTITION_LIMIT": (USER, 1100, False),
    "DIVISION_BY_ZERO": (USER, 1001, False),
    "NUMERIC_VALUE_OUT_OF_RANGE": (USER, 1001, False),
    "HIVE_BAD_DATA": (USER, 1001, False),
    "HIVE_CURSOR_ERROR": (USER, 1001, False),
    "HIVE_PATH_ALREADY_EXISTS": (USER, 1003, False),
    "HIVE_COLUMN_ORDER_MISMATCH": (USER, 1003, False),
    "HIVE_TOO_MANY_OPEN_PARTITIONS": (USER, 1003, False),
    "HIVE_INVALID_PARTITION_VALUE": (USER, 1003, False),
    "HIVE_METASTORE_ERROR": (SYSTEM, 204, True),
    "ALREADY_EXISTS": (USER, 1003, False),
    "TABLE_ALREADY_EXISTS": (USER, 1003, False),
    "SCHEMA_ALREADY_EXISTS": (USER, 1003, False),
    "SCHEMA_NOT_EMPTY": (USER, 1003, False),
    "DDL_FAILED": (USER, 1003, False),
    "TABLE_NOT_FOUND": (USER, 1301, False),
    "SCHEMA_NOT_FOUND": (USER, 1301, False),
    "CATALOG_NOT_FOUND": (USER, 1301, False),
    "PARTITION_NOT_FOUND": (USER, 1301, False),
    "ENTITY_NOT_FOUND": (USER, 1301, False),
    "NOT_SUPPORTED": (USER, 1008, False),
    "PERMISSION_DENIED": (USER, 1500, False),
    "ACCESS_DENIED": (USER, 1500, False),
    "CONSTRAINT_VIOLATION": (USER, 1100, False),
    "GENERIC_USER_ERROR": (USER, 1000, False),
    "EXCEEDED_TIME_LIMIT": (SYSTEM, 206, True),
    "EXCEEDED_MEMORY_LIMIT": (SYSTEM, 0, True),
    "USER_CANCELED": (USER, 1009, False),
    "GENERIC_INTERNAL_ERROR": (SYSTEM, 200, True),
    "INTERNAL_ERROR_QUERY_ENGINE": (SYSTEM, 200, True),
    "ENGINE_RESTARTED": (SYSTEM, 100, True),
    "S3_ERROR": (SYSTEM, 401, True),
}


@dataclass
class AthenaQueryError(Exception):
    """A query failure, reported as Athena reports it."""

    name: str
    message: str

    def __post_init__(self) -> None:
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        return f"{self.name}: {self.message}"

    @property
    def category(self) -> int:
        return _KINDS.get(self.name, (USER, 1000, False))[0]

    @property
    def error_type(self) -> int:
        return _KINDS.get(self.name, (USER, 1000, False))[1]

    @property
    def retryable(self) -> bool:
        return _KINDS.get(self.name, (USER, 1000, False))[2]

    def athena_error(self) -> dict[str, object]:
        return {"ErrorCategory": self.category, "ErrorType": self.error_type, "Retryable": self.retryable,
                "ErrorMessage": self.reason}


def at(line: int, col: int) -> str:
    return f"line {line}:{col}: "


class RequestError(Exception):
    """An API request Athena rejects synchronously (HTTP 400), e.g. InvalidRequestException."""

    def __init__(self, code: str, message: str, athena_code: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.athena_code = athena_code
        self.status = status


# ---------------------------------------------------------------------------------------------
# DuckDB errors -> Athena errors
# ---------------------------------------------------------------------------------------------
_RAISED_IN_UDF = re.compile(r"AthenaQueryError: ([A-Z_]+): (.*)$", re.S)
_DUCK_PATTERNS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r'Referenced column "([^"]+)" not found', re.S), "COLUMN_NOT_FOUND",
     "Column '{0}' cannot be resolved or requester is not authorized to access requested resources"),
    (re.compile(r'Values list "[^"]+" does not have a column named "([^"]+)"', re.S), "COLUMN_NOT_FOUND",
     "Column '{0}' cannot be resolved or requester is not authorized to access requested resources"),
    (re.compile(r'Referenced table "([^"]+)" not found', re.S), "COLUMN_NOT_FOUND",
     "Column '{0}' cannot be resolved or requester is not authorized to access requested resources"),
    (re.compile(r'Column "([^"]+)" referenced that exists in the SELECT clause', re.S), "COLUMN_NOT_FOUND",
     "Column '{0}' cannot be resolved or requester is not authorized to access requested resources"),
    (re.compile(r'Ambiguous reference to column name "([^"]+)"', re.S), "AMBIGUOUS_NAME",
     "Column '{0}' is ambiguous"),
    (re.compile(r"Scalar Function with name (\w+) does not exist", re.S), "FUNCTION_NOT_FOUND",
     "Function '{0}' not registered"),
    (re.compile(r"Aggregate Function with name (\w+) does not exist", re.S), "FUNCTION_NOT_FOUND",
     "Function '{0}' not registered"),
    (re.compile(r"Table Function with name (\w+) does not exist", re.S), "FUNCTION_NOT_FOUND",
     "Function '{0}' not registered"),
    (re.compile(r'column "([^"]+)" must appear in the GROUP BY clause', re.S), "EXPRESSION_NOT_AGGREGATE",
     "'{0}' must be an aggregate expression or appear in GROUP BY clause"),
    (re.compile(r"No function matches the given name and argument types '([^']+)'", re.S), "FUNCTION_NOT_FOUND",
     "Unexpected parameters ({0}) for function. Check the argument types"),
    (re.compile(r"Cannot compare values of type (\S+) and type (\S+)", re.S), "TYPE_MISMATCH",
     "Cannot apply operator: {0} = {1}"),
    (re.compile(r"Cannot mix values of type (\S+) and (\S+)", re.S), "TYPE_MISMATCH",
     "Cannot mix values of type {0} and {1}"),
    # Trino's texts of a failed cast from varchar (VarcharOperators, DateTimeOperators, DecimalCasts)
    *[(re.compile(rf"Could not convert string '([^']*)' to {duck}\b", re.S), "INVALID_CAST_ARGUMENT",
       f"Cannot cast '{{0}}' to {trino}")
      for duck, trino in (("INT8", "TINYINT"), ("INT16", "SMALLINT"), ("INT32", "INT"), ("INT64", "BIGINT"),
                          ("FLOAT", "REAL"), ("DOUBLE", "DOUBLE"), ("BOOL", "BOOLEAN"))],
    (re.compile(r'Could not convert string "([^"]*)" to (DECIMAL\(\d+),(\d+\))', re.S), "INVALID_CAST_ARGUMENT",
     "Cannot cast VARCHAR '{0}' to {1}, {2}. Value is not a number."),
    (re.compile(r'invalid date field format: "([^"]*)"', re.S), "INVALID_CAST_ARGUMENT",
     "Value cannot be cast to date: {0}"),
    (re.compile(r'invalid timestamp field format: "([^"]*)"', re.S), "INVALID_CAST_ARGUMENT",
     "Value cannot be cast to timestamp: {0}"),
    (re.compile(r"Could not convert string '([^']*)' to (\w+)", re.S), "INVALID_CAST_ARGUMENT",
     "Cannot cast '{0}' to {1}"),
    (re.compile(r"Conversion Error: (.*)", re.S), "INVALID_CAST_ARGUMENT", "{0}"),
    (re.compile(r"Division by zero", re.S), "DIVISION_BY_ZERO", "Division by zero"),
    (re.compile(r"Out of Range Error: (.*)", re.S), "NUMERIC_VALUE_OUT_OF_RANGE", "{0}"),
    (re.compile(r"Out of Memory Error: (.*)", re.S), "EXCEEDED_MEMORY_LIMIT", "Query exceeded local memory limit: {0}"),
    (re.compile(r"Parser Error: (.*)", re.S), "SYNTAX_ERROR", "{0}"),
    (re.compile(r"Binder Error: (.*)", re.S), "SYNTAX_ERROR", "{0}"),
    (re.compile(r"Catalog Error: (.*)", re.S), "SYNTAX_ERROR", "{0}"),
    (re.compile(r"Invalid Input Error: (.*)", re.S), "INVALID_FUNCTION_ARGUMENT", "{0}"),
    (re.compile(r"Not implemented Error: (.*)", re.S), "NOT_SUPPORTED", "{0}"),
    (re.compile(r"Permission Error: (.*)", re.S), "PERMISSION_DENIED", "{0}"),
    (re.compile(r"INTERRUPT Error: (.*)", re.S), "USER_CANCELED", "Query was canceled"),
    (re.compile(r"Interrupted", re.S), "USER_CANCELED", "Query was canceled"),
]


def from_duckdb(error: Exception, locate: object = None) -> AthenaQueryError:
    """Translate a DuckDB exception into Athena's error vocabulary. ``locate(name)`` returns
    ``(line, col)`` of an identifier in the user's SQL, when known."""
    text = str(error).split("\n\nLINE ")[0].strip()
    text = re.sub(r"\n+Candidate bindings:.*", "", text, flags=re.S)
    text = re.sub(r"\n+LINE \d+:.*", "", text, flags=re.S)
    text = text.replace("__wr_", "")
    raised = _RAISED_IN_UDF.search(text)  # one of ours, raised inside a Python function DuckDB called
    if raised:
        return AthenaQueryError(raised.group(1), raised.group(2))
    for pattern, name, template in _DUCK_PATTERNS:
        match = pattern.search(text)
        if match:
            groups = [g.strip().rstrip("!") for g in match.groups()]
            message = template.format(*groups)
            position = ""
            if locate is not None and groups and name in ("COLUMN_NOT_FOUND", "AMBIGUOUS_NAME",
                                                          "FUNCTION_NOT_FOUND"):
                where = locate(groups[0])  # type: ignore[operator]
                if where:
                    position = at(*where)
            return AthenaQueryError(name, position + message)
    return AthenaQueryError("GENERIC_INTERNAL_ERROR", text or type(error).__name__)
