"""The Glue table's Hive column types as Arrow types, for Parquet conversion.

Hive → Arrow: string/varchar(n)/char(n) → string; tinyint/smallint/int/integer/bigint → int8/16/32/64;
float → float32; double → float64; boolean → bool; timestamp → timestamp[us] (no zone, as Hive);
date → date32; decimal(p,s) → decimal128(p,s) (decimal alone is decimal(10,0)); binary → binary;
array<T>, map<K,V>, struct<name:T,…> recursively. Partition keys are not data columns: Firehose
writes only the table's Columns into the object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

SIMPLE: dict[str, pa.DataType] = {
    "string": pa.string(),
    "tinyint": pa.int8(),
    "smallint": pa.int16(),
    "int": pa.int32(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us"),
    "date": pa.date32(),
    "binary": pa.binary(),
}
_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|\d+|[<>(),:])")


class SchemaError(ValueError):
    """A column type this converter cannot map."""


@dataclass(frozen=True)
class HiveType:
    """A parsed Hive type: ``name`` plus its parameters (element types, field names, precision)."""

    name: str
    params: tuple[int, ...] = ()
    children: tuple[HiveType, ...] = ()
    field_names: tuple[str, ...] = ()

    def arrow(self) -> pa.DataType:
        if self.name in SIMPLE:
            return SIMPLE[self.name]
        if self.name in ("varchar", "char"):
            return pa.string()
        if self.name == "decimal":
            precision, scale = (self.params + (10, 0)[len(self.params):])[:2]
            if not 1 <= precision <= 38 or not 0 <= scale <= precision:
                raise SchemaError(f"invalid decimal({precision},{scale})")
            return pa.decimal128(precision, scale)
        if self.name == "array":
            return pa.list_(self.children[0].arrow())
        if self.name == "map":
            return pa.map_(self.children[0].arrow(), self.children[1].arrow())
        if self.name == "struct":
            return pa.struct([pa.field(n, c.arrow()) for n, c in zip(self.field_names, self.children, strict=True)])
        raise SchemaError(f"unsupported Hive type {self.name!r}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[str] = []
        position = 0
        for match in _TOKEN.finditer(text):
            if match.start() != position:
                break
            self.tokens.append(match.group(1))
            position = match.end()
        if text[position:].strip():
            raise SchemaError(f"cannot parse Hive type {text!r}")
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise SchemaError(f"cannot parse Hive type {self.text!r}: expected {expected or 'more'}")
        self.i += 1
        return token

    def parse(self) -> HiveType:
        name = self.take().lower()
        if name in ("array",):
            self.take("<")
            element = self.parse()
            self.take(">")
            return HiveType(name, children=(element,))
        if name == "map":
            self.take("<")
            key = self.parse()
            self.take(",")
            value = self.parse()
            self.take(">")
            return HiveType(name, children=(key, value))
        if name == "struct":
            self.take("<")
            names: list[str] = []
            children: list[HiveType] = []
            while True:
                names.append(self.take())
                self.take(":")
                children.append(self.parse())
                if self.peek() == ",":
                    self.take(",")
                    continue
                self.take(">")
                return HiveType(name, children=tuple(children), field_names=tuple(names))
        params: list[int] = []
        if self.peek() == "(":
            self.take("(")
            while True:
                token = self.take()
                if not token.isdigit():
                    raise SchemaError(f"cannot parse Hive type {self.text!r}")
                params.append(int(token))
                if self.peek() == ",":
                    self.take(",")
                    continue
                self.take(")")
                break
        if name not in SIMPLE and name not in ("varchar", "char", "decimal"):
            raise SchemaError(f"unsupported Hive type {name!r}")
        return HiveType(name, params=tuple(params))


def parse_type(text: str) -> HiveType:
    parser = _Parser(text)
    hive_type = parser.parse()
    if parser.peek() is not None:
        raise SchemaError(f"cannot parse Hive type {text!r}")
    return hive_type


@dataclass(frozen=True)
class Column:
    name: str
    hive: HiveType

    @property
    def arrow(self) -> pa.DataType:
        return self.hive.arrow()


def table_columns(table: dict) -> list[Column]:
    """The data columns of a Glue ``get_table`` Table (without its partition keys)."""
    columns = (table.get("StorageDescriptor") or {}).get("Columns") or []
    if not columns:
        raise SchemaError(f"table {table.get('Name')!r} has no columns")
    return [Column(c["Name"], parse_type(c["Type"])) for c in columns]


def arrow_schema(columns: list[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.arrow, nullable=True) for c in columns])
