"""Type names in the three worlds the engine spans: Hive DDL / Glue, Athena (Trino) results, DuckDB.

- Glue columns carry Hive type strings (``string``, ``int``, ``array<struct<a:int>>``).
- Athena results carry Trino type names (``varchar``, ``integer``, ``array``), with precision and scale.
- DuckDB executes with its own types (``VARCHAR``, ``INTEGER``, ``STRUCT(a INTEGER)[]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from localaws.athena.errors import AthenaQueryError

# ---------------------------------------------------------------------------------------------
# Hive type strings (Glue) <-> DuckDB
# ---------------------------------------------------------------------------------------------
_HIVE_SCALARS_TO_DUCK = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
    "varbinary": "BLOB",
    "json": "VARCHAR",
}


class _TypeParser:
    """A tiny recursive-descent parser for Hive / Trino type strings."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, what: str) -> AthenaQueryError:
        return AthenaQueryError("TYPE_NOT_FOUND", f"Unknown type '{self.text}': {what}")

    def peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error(f"expected '{char}' at position {self.pos}")
        self.pos += 1

    def word(self) -> str:
        self.peek()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|`[^`]+`|\"[^\"]+\"").match(self.text, self.pos)
        if not match:
            raise self.error(f"expected a name at position {self.pos}")
        self.pos = match.end()
        return match.group(0).strip('`"')

    def number(self) -> int:
        self.peek()
        match = re.compile(r"\d+").match(self.text, self.pos)
        if not match:
            raise self.error(f"expected a number at position {self.pos}")
        self.pos = match.end()
        return int(match.group(0))

    def parse(self) -> HiveType:
        result = self.parse_type()
        if self.peek():
            raise self.error(f"unexpected '{self.text[self.pos:]}'")
        return result

    def parse_type(self) -> HiveType:
        name = self.word().lower()
        if name in ("array",):
            open_char = self.peek()
            close = ">" if open_char == "<" else ")"
            self.expect(open_char)
            element = self.parse_type()
            self.expect(close)
            return HiveType("array", children=(("", element),))
        if name == "map":
            open_char = self.peek()
            close = ">" if open_char == "<" else ")"
            self.expect(open_char)
            key = self.parse_type()
            self.expect(",")
            value = self.parse_type()
            self.expect(close)
            return HiveType("map", children=(("key", key), ("value", value)))
        if name in ("struct", "row"):
            open_char = self.peek()
            close = ">" if open_char == "<" else ")"
            self.expect(open_char)
            fields: list[tuple[str, HiveType]] = []
            while True:
                field_name = self.word()
                if self.peek() == ":":
                    self.pos += 1
                fields.append((field_name.lower(), self.parse_type()))
                if self.peek() == ",":
                    self.pos += 1
                    continue
                break
            self.expect(close)
            return HiveType("struct", children=tuple(fields))
        if name in ("decimal", "numeric"):
            precision, scale = 10, 0
            if self.peek() == "(":
                self.pos += 1
                precision = self.number()
                if self.peek() == ",":
                    self.pos += 1
                    scale = self.number()
                self.expect(")")
            return HiveType("decimal", precision=precision, scale=scale)
        if name in ("varchar", "char") and self.peek() == "(":
            self.pos += 1
            length = self.number()
            self.expect(")")
            return HiveType(name, precision=length)
        if name == "timestamp" and self.peek() == "(":
            self.pos += 1
            self.number()
            self.expect(")")
            return HiveType("timestamp")
        if name == "double" and self.text[self.pos:].lstrip().lower().startswith("precision"):
            self.word()
            return HiveType("double")
        if name not in _HIVE_SCALARS_TO_DUCK:
            raise self.error(f"'{name}' is not a supported type")
        return HiveType(name)


@dataclass(frozen=True)
class HiveType:
    name: str
    precision: int | None = None
    scale: int | None = None
    children: tuple[tuple[str, HiveType], ...] = ()

    @staticmethod
    def parse(text: str) -> HiveType:
        return _TypeParser(text.strip()).parse()

    def hive(self) -> str:
        """The Glue / Hive spelling."""
        if self.name == "array":
            return f"array<{self.children[0][1].hive()}>"
        if self.name == "map":
            return f"map<{self.children[0][1].hive()},{self.children[1][1].hive()}>"
        if self.name == "struct":
            return "struct<" + ",".join(f"{n}:{t.hive()}" for n, t in self.children) + ">"
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        if self.name in ("varchar", "char") and self.precision is not None:
            return f"{self.name}({self.precision})"
        return {"integer": "int", "real": "float", "varbinary": "binary"}.get(self.name, self.name)

    def duck(self) -> str:
        if self.name == "array":
            return f"{self.children[0][1].duck()}[]"
        if self.name == "map":
            return f"MAP({self.children[0][1].duck()}, {self.children[1][1].duck()})"
        if self.name == "struct":
            return "STRUCT(" + ", ".join(f'"{n}" {t.duck()}' for n, t in self.children) + ")"
        if self.name == "decimal":
            return f"DECIMAL({self.precision},{self.scale})"
        return _HIVE_SCALARS_TO_DUCK[self.name]

    def trino(self) -> str:
        """The Trino spelling (used in Presto view definitions)."""
        if self.name == "array":
            return f"array({self.children[0][1].trino()})"
        if self.name == "map":
            return f"map({self.children[0][1].trino()}, {self.children[1][1].trino()})"
        if self.name == "struct":
            return "row(" + ", ".join(f"{n} {t.trino()}" for n, t in self.children) + ")"
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return {"string": "varchar", "int": "integer", "float": "real", "binary": "varbinary",
                "timestamp": "timestamp(3)"}.get(self.name, self.name)


def hive_to_duck(text: str) -> str:
    return HiveType.parse(text).duck()


# ---------------------------------------------------------------------------------------------
# DuckDB types (as DuckDB prints them) -> Athena result types and Hive types
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DuckType:
    """A DuckDB type parsed from its string form, e.g. ``STRUCT(a INTEGER, "b c" VARCHAR[])``."""

    name: str
    args: tuple[int, ...] = ()
    children: tuple[tuple[str, DuckType], ...] = ()

    @staticmethod
    def parse(text: str) -> DuckType:
        parsed, rest = _parse_duck(text.strip())
        if rest.strip():
            raise ValueError(f"cannot parse DuckDB type {text!r}")
        return parsed

    @property
    def is_nested(self) -> bool:
        return self.name in ("LIST", "ARRAY", "STRUCT", "MAP", "UNION")

    def athena(self) -> str:
        """The result type name Athena reports in ColumnInfo.Type."""
        return _DUCK_TO_ATHENA.get(self.name, "varchar") if not self.is_nested else {
            "LIST": "array", "ARRAY": "array", "STRUCT": "row", "MAP": "map", "UNION": "varchar"}[self.name]

    def athena_signature(self) -> str:
        """The full Trino type, e.g. ``array(row(a integer))`` (for view definitions)."""
        if self.name in ("LIST", "ARRAY"):
            return f"array({self.children[0][1].athena_signature()})"
        if self.name == "MAP":
            return f"map({self.children[0][1].athena_signature()}, {self.children[1][1].athena_signature()})"
        if self.name == "STRUCT":
            return "row(" + ", ".join(f"{n} {t.athena_signature()}" for n, t in self.children) + ")"
        if self.name == "DECIMAL":
            return f"decimal({self.args[0]},{self.args[1]})"
        if self.name == "TIMESTAMP":
            return "timestamp(3)"
        if self.name == "TIMESTAMP WITH TIME ZONE":
            return "timestamp(3) with time zone"
        if self.name == "CHAR" and self.args:
            return f"char({self.args[0]})"
        return self.athena()

    def hive(self) -> str:
        """The Glue column type for data of this type (CTAS, views)."""
        if self.name in ("LIST", "ARRAY"):
            return f"array<{self.children[0][1].hive()}>"
        if self.name == "MAP":
            return f"map<{self.children[0][1].hive()},{self.children[1][1].hive()}>"
        if self.name == "STRUCT":
            return "struct<" + ",".join(f"{n}:{t.hive()}" for n, t in self.children) + ">"
        if self.name == "DECIMAL":
            return f"decimal({self.args[0]},{self.args[1]})"
        hive = _DUCK_TO_HIVE.get(self.name)
        if hive is None:
            raise AthenaQueryError("NOT_SUPPORTED", f"Unsupported Hive type: {self.athena_signature()}")
        return hive

    def storage(self) -> str:
        """The DuckDB type to store data of this type as (unsigned and huge integers fitted to Hive's)."""
        if self.name in ("LIST", "ARRAY"):
            return f"{self.children[0][1].storage()}[]"
        if self.name == "MAP":
            return f"MAP({self.children[0][1].storage()}, {self.children[1][1].storage()})"
        if self.name == "STRUCT":
            return "STRUCT(" + ", ".join(f'"{n}" {t.storage()}' for n, t in self.children) + ")"
        if self.name == "DECIMAL":
            return f"DECIMAL({self.args[0]},{self.args[1]})"
        return _DUCK_STORAGE.get(self.name, self.name)

    def precision_scale(self) -> tuple[int, int]:
        if self.name == "DECIMAL":
            return self.args[0], self.args[1]
        if self.name == "CHAR" and self.args:
            return self.args[0], 0
        return _PRECISION.get(self.athena(), 0), 0


_DUCK_TO_ATHENA = {
    "BOOLEAN": "boolean",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "bigint",
    "UHUGEINT": "bigint",
    "FLOAT": "float",
    "DOUBLE": "double",
    "DECIMAL": "decimal",
    "VARCHAR": "varchar",
    "BLOB": "varbinary",
    "DATE": "date",
    "TIME": "time",
    "TIME WITH TIME ZONE": "time with time zone",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone",
    "INTERVAL": "interval day to second",
    "INTERVAL YEAR TO MONTH": "interval year to month",  # output_types.py's names
    "CHAR": "char",
    "UUID": "uuid",
    "JSON": "json",
    "STRING": "string",  # not a DuckDB type: the Hive type of some DDL results (SHOW COLUMNS' field)
    "BIT": "varchar",
    "ENUM": "varchar",
    '"NULL"': "unknown",
    "NULL": "unknown",
}
_DUCK_TO_HIVE = {
    "BOOLEAN": "boolean",
    "TINYINT": "tinyint",
    "SMALLINT": "smallint",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "UTINYINT": "smallint",
    "USMALLINT": "int",
    "UINTEGER": "bigint",
    "UBIGINT": "bigint",
    "FLOAT": "float",
    "DOUBLE": "double",
    "VARCHAR": "string",
    "JSON": "string",
    "UUID": "string",
    "ENUM": "string",
    "BLOB": "binary",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    '"NULL"': "string",
    "NULL": "string",
}
_DUCK_STORAGE = {
    "HUGEINT": "BIGINT",
    "UHUGEINT": "BIGINT",
    "UBIGINT": "BIGINT",
    "UINTEGER": "BIGINT",
    "USMALLINT": "INTEGER",
    "UTINYINT": "SMALLINT",
    "TIMESTAMP_NS": "TIMESTAMP",
    "TIMESTAMP_S": "TIMESTAMP",
    "TIMESTAMP_MS": "TIMESTAMP",
    "JSON": "VARCHAR",
    "UUID": "VARCHAR",
    "ENUM": "VARCHAR",
    '"NULL"': "VARCHAR",
    "NULL": "VARCHAR",
}
# What Athena reports as ColumnInfo.Precision for each result type.
_PRECISION = {
    "boolean": 0,
    "tinyint": 3,
    "smallint": 5,
    "integer": 10,
    "bigint": 19,
    "float": 7,
    "double": 17,
    "varchar": 2147483647,
    "varbinary": 1073741824,
    "date": 0,
    "time": 3,
    "timestamp": 3,
    "timestamp with time zone": 3,
    "json": 0,
    "unknown": 0,
}

_NAME = re.compile(r'\s*("(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_]*)')
_MULTIWORD = ("TIMESTAMP WITH TIME ZONE", "TIME WITH TIME ZONE", "INTERVAL YEAR TO MONTH")


def _parse_duck(text: str) -> tuple[DuckType, str]:
    text = text.lstrip()
    upper = text.upper()
    name = next((m for m in _MULTIWORD if upper.startswith(m)), None)
    if name:
        rest = text[len(name):]
        base = DuckType(name)
    else:
        match = _NAME.match(text)
        if not match:
            raise ValueError(f"cannot parse DuckDB type {text!r}")
        name = match.group(1).upper() if not match.group(1).startswith('"') else match.group(1)
        rest = text[match.end():]
        if name in ("STRUCT", "MAP", "UNION", "TUPLE"):
            rest = rest.lstrip()
            assert rest.startswith("(")
            rest = rest[1:]
            children: list[tuple[str, DuckType]] = []
            while True:
                if name == "TUPLE":  # an unnamed struct (DuckDB 2): Trino's anonymous row fields
                    child, rest = _parse_duck(rest)
                    children.append((f"field{len(children)}", child))
                elif name == "MAP":
                    child, rest = _parse_duck(rest)
                    children.append(("key" if not children else "value", child))
                else:
                    field = _NAME.match(rest)
                    if not field:
                        raise ValueError(f"cannot parse DuckDB type {text!r}")
                    field_name = field.group(1)
                    if field_name.startswith('"'):
                        field_name = field_name[1:-1].replace('""', '"')
                    child, rest = _parse_duck(rest[field.end():])
                    children.append((field_name, child))
                rest = rest.lstrip()
                if rest.startswith(","):
                    rest = rest[1:]
                    continue
                assert rest.startswith(")")
                rest = rest[1:]
                break
            base = DuckType("STRUCT" if name == "TUPLE" else name, children=tuple(children))
        elif name == "DECIMAL" and rest.lstrip().startswith("("):
            inner, rest = rest.lstrip()[1:].split(")", 1)
            precision, scale = (int(x) for x in inner.split(","))
            base = DuckType("DECIMAL", args=(precision, scale))
        elif name == "CHAR" and rest.lstrip().startswith("("):  # output_types.py's name of Trino's char(n)
            inner, rest = rest.lstrip()[1:].split(")", 1)
            base = DuckType("CHAR", args=(int(inner),))
        elif name == "ENUM" and rest.lstrip().startswith("("):
            depth, end = 0, 0
            body = rest.lstrip()
            for end, char in enumerate(body):  # noqa: B007 - the index is used after the loop
                depth += char == "("
                depth -= char == ")"
                if depth == 0:
                    break
            rest = body[end + 1:]
            base = DuckType("ENUM")
        else:
            base = DuckType(name)
    while True:
        stripped = rest.lstrip()
        if stripped.startswith("[]"):
            base = DuckType("LIST", children=(("element", base),))
            rest = stripped[2:]
        elif re.match(r"\[\d+\]", stripped):
            end = stripped.index("]")
            base = DuckType("LIST", children=(("element", base),))
            rest = stripped[end + 1:]
        else:
            return base, rest


def parse_or_varchar(duck_type: str) -> DuckType:
    """A DuckDB type this module does not know is reported (and rendered) as varchar."""
    try:
        return DuckType.parse(duck_type)
    except (ValueError, AssertionError, IndexError):
        return DuckType("VARCHAR")


def athena_column_info(name: str, duck_type: str) -> dict[str, object]:
    """One ColumnInfo entry as GetQueryResults reports it."""
    parsed = parse_or_varchar(duck_type)
    athena_type = parsed.athena()
    precision, scale = parsed.precision_scale()
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": athena_type,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": athena_type in ("varchar", "char"),
    }


def varchar_column_info(name: str) -> dict[str, object]:
    return athena_column_info(name, "VARCHAR")
