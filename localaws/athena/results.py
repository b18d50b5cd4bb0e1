"""Query results as Athena produces them.

- Values as text, the way Athena renders them (doubles as Java does, timestamps with milliseconds,
  arrays ``[a, b]``, maps and rows ``{k=v}``, varbinary as spaced hex, NULL as no value).
- ``<id>.csv`` for queries: a header, every value double-quoted, NULL as an empty field.
- ``<id>.txt`` for DDL and utility statements: no header, tab-separated fields, no quoting.
- ``<id>.csv.metadata`` / ``<id>.txt.metadata``: the column info, in Athena's protobuf layout.
- GetQueryResults pages (NextToken, MaxResults <= 1000; the header row first for SELECT) are served
  from an Arrow IPC copy of the text kept under ``<data dir>/athena/results/``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import decimal
import io
import math
import random
import string
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from localaws.athena import zones
from localaws.athena.errors import RequestError
from localaws.athena.types import parse_or_varchar

# ---------------------------------------------------------------------------------------------
# values as Athena's text
# ---------------------------------------------------------------------------------------------
FLOATING = ("DOUBLE", "FLOAT")


def text_expression(position: int, duck_type: str, zone: str | None = None) -> str | None:
    """SQL turning result column ``#position`` into Athena's text, or None to format it in Python; a
    timestamp with time zone is written in ``zone`` (zones.py), UTC by default."""
    parsed = parse_or_varchar(duck_type)
    if parsed.name == "VARCHAR" and not duck_type.upper().startswith(("VARCHAR", "JSON", "UUID", "ENUM")):
        return None  # a type this engine does not know: rendered in Python
    ref = f"#{position}"
    name = parsed.name
    if parsed.is_nested or name in ("INTERVAL", "INTERVAL YEAR TO MONTH"):
        return None
    if name in ("TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP_S"):
        return f"__wr_timestamp_text({ref})"
    if name == "TIMESTAMP WITH TIME ZONE":
        return zones.text_sql(zone or zones.UTC, ref)
    if name == "TIME":
        return f"strftime(DATE '1970-01-01' + {ref}, '%H:%M:%S.%g')"
    if name == "BLOB":
        return f"__wr_varbinary_text({ref})"
    if name in ("HUGEINT", "UHUGEINT"):
        return f"CAST(CAST({ref} AS BIGINT) AS VARCHAR)"
    if name == "BOOLEAN":
        return f"CASE WHEN {ref} THEN 'true' WHEN NOT {ref} THEN 'false' END"
    if name == "DECIMAL" and len(parsed.args) == 2 and parsed.args[0] == parsed.args[1]:
        # DuckDB writes a DECIMAL(p, p) without its integer digit (".50"); Trino as "0.50"
        return f"regexp_replace(CAST({ref} AS VARCHAR), '^(-?)\\.', '\\10.')"
    return f"CAST({ref} AS VARCHAR)"


def python_text(value: Any, nested: bool = False) -> str | None:
    """Athena's text of a Python value (used for nested types)."""
    if value is None:
        return "null" if nested else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Interval):
        return str(value)
    if isinstance(value, Real):
        return java_text(str(value)) if math.isfinite(value) else java_double(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, datetime.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        return text + (" UTC" if value.tzinfo else "")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return " ".join(f"{b:02x}" for b in bytes(value))
    if isinstance(value, decimal.Decimal):
        return format(value, "f")  # "0.00000000001", not str()'s "1E-11"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_text(k, True)}={python_text(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(python_text(x, True)) for x in value) + "]"
    return str(value)


def java_double(value: float) -> str:
    """Java's Double.toString of ``value`` (how Trino renders a double as text)."""
    return java_text(repr(value))


def java_text(shortest: str) -> str:
    """Java's Double/Float.toString from the shortest round-trip text of the same value (Python's repr,
    DuckDB's CAST to VARCHAR): the same digits, in E notation outside [1e-3, 1e7)."""
    sign, body = ("-", shortest[1:]) if shortest.startswith("-") else ("", shortest)
    if body in ("nan", "inf", "infinity"):
        return "NaN" if body == "nan" else sign + "Infinity"
    mantissa, _, exponent_text = body.lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    whole = whole.lstrip("0")
    if whole:
        digits, exponent = (whole + fraction).rstrip("0"), int(exponent_text or 0) + len(whole) - 1
    else:
        significant = fraction.lstrip("0")
        digits, exponent = significant.rstrip("0"), int(exponent_text or 0) - (len(fraction) - len(significant)) - 1
    if not digits:
        return sign + "0.0"
    if -3 <= exponent < 7:
        point = exponent + 1
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        digits = digits.ljust(point, "0")
        return f"{sign}{digits[:point]}.{digits[point:] or '0'}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


# DuckDB's text of a double or real that Java writes differently: E notation (|x| < 1e-4 or >= 1e16),
# 8 or more integer digits (>= 1e7), three zeros after the point (< 1e-3), NaN, infinities
_NOT_JAVA_TEXT = r"[en]|^-?[0-9]{8}|^-?0\.000"


def _java_floating(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """DuckDB's text of a floating-point column as Java's: most values are already written alike, so only
    the others go through Python."""
    differs = pc.fill_null(pc.match_substring_regex(column, _NOT_JAVA_TEXT), False)
    if not pc.any(differs).as_py():
        return column
    if isinstance(column, pa.ChunkedArray):
        column, differs = column.combine_chunks(), differs.combine_chunks()
    fixed = [java_text(text) for text in pc.filter(column, differs).to_pylist()]
    return pc.replace_with_mask(column, differs, pa.array(fixed, type=pa.string()))


TEXT_BATCH_ROWS = 131072


@dataclass(frozen=True)
class TextProjection:
    """The SELECT list casting each result column to text, and the columns Python finishes: nested ones
    (rendered from their values) and floating-point ones (DuckDB's text made Java's)."""

    expressions: list[str]
    nested: frozenset[int]
    floating: frozenset[int]

    @classmethod
    def of(cls, duck_types: list[str], column_zones: list[str | None] | None = None) -> TextProjection:
        expressions, nested, floating = [], set(), set()
        for index, duck_type in enumerate(duck_types):
            zone = column_zones[index] if column_zones and index < len(column_zones) else None
            expression = text_expression(index + 1, duck_type, zone)
            if expression is None:
                nested.add(index)
                expression = f"#{index + 1}"
            elif parse_or_varchar(duck_type).name in FLOATING:
                # DuckDB's plain CAST to VARCHAR, made Java's text in Arrow by _java_floating (a SQL macro
                # for it cost ~27 ms to plan per column)
                floating.add(index)
            expressions.append(f"{expression} AS c{index}")
        return cls(expressions, frozenset(nested), frozenset(floating))

    def sql(self) -> str:
        return ", ".join(self.expressions)

    def finish(self, columns: list[pa.Array | pa.ChunkedArray]) -> list[Any]:
        out = []
        for index, column in enumerate(columns):
            if index in self.nested:
                column = pa.array([python_text(typed_value(v, column.type)) for v in column.to_pylist()],
                                  type=pa.string())
            elif column.type != pa.string():
                column = column.cast(pa.string())
            elif index in self.floating:
                column = _java_floating(column)
            out.append(column)
        return out


def read_text(projection: TextProjection, projected: duckdb.DuckDBPyRelation) -> Iterator[pa.RecordBatch]:
    """Run ``projected``, a query's columns as text by ``projection`` (bound; it may run again), batch by batch."""
    width = len(projection.expressions)
    for batch in projected.to_arrow_reader(TEXT_BATCH_ROWS):
        columns = projection.finish([batch.column(i) for i in range(width)])
        yield pa.RecordBatch.from_arrays(columns, names=[f"c{i}" for i in range(width)])


def text_schema(names: list[str]) -> pa.Schema:
    return pa.schema([(f"c{i}", pa.string()) for i in range(len(names))])


def to_text_table(con: duckdb.DuckDBPyConnection, sql: str, names: list[str], duck_types: list[str],
                  column_zones: list[str | None] | None = None) -> pa.Table:
    """Run ``sql`` (whose columns have ``duck_types``) and return its values as Athena's text (timestamps
    with time zone in ``column_zones``, UTC by default)."""
    projection = TextProjection.of(duck_types, column_zones)
    wrapped = f"SELECT {projection.sql() or '1'} FROM ({sql}) AS __wr_q" if duck_types else sql
    table = con.sql(wrapped).to_arrow_table()
    if not duck_types:
        return pa.table({})
    columns = projection.finish([table.column(i) for i in range(len(duck_types))])
    return pa.Table.from_arrays(columns, names=[f"c{i}" for i in range(len(names))])


def typed_value(value: Any, arrow_type: pa.DataType) -> Any:
    """A nested value as pyarrow gives it (a MAP as a list of (key, value) tuples), made the Python value its
    Arrow type says: MAPs as dicts (an empty one too, which a list cannot tell from an empty array), REALs
    as Real so they render as Java's Float.toString does."""
    if value is None:
        return None
    if pa.types.is_map(arrow_type):
        return {typed_value(k, arrow_type.key_type): typed_value(v, arrow_type.item_type) for k, v in value}
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type) or pa.types.is_fixed_size_list(arrow_type):
        return [typed_value(v, arrow_type.value_type) for v in value]
    if pa.types.is_struct(arrow_type):
        return {field.name: typed_value(value.get(field.name), field.type) for field in arrow_type}
    if pa.types.is_float32(arrow_type):
        return Real(value)
    if pa.types.is_interval(arrow_type):
        return Interval(value.months, value.days, value.nanoseconds)
    return value


@dataclass(frozen=True)
class Interval:
    """An interval as Trino writes it: year to month as ``Y-M``, day to second as ``D HH:MM:SS.mmm``
    (DuckDB has one interval type; one with months is taken as year to month, as Trino never mixes them)."""

    months: int
    days: int
    nanoseconds: int

    def __str__(self) -> str:
        if self.months and not self.days and not self.nanoseconds:
            sign = "-" if self.months < 0 else ""
            years, months = divmod(abs(self.months), 12)
            return f"{sign}{years}-{months}"
        millis = round((self.days * 86_400_000_000_000 + self.nanoseconds) / 1_000_000) + self.months * 2_592_000_000
        sign = "-" if millis < 0 else ""
        seconds, millis = divmod(abs(millis), 1000)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        days, hours = divmod(hours, 24)
        return f"{sign}{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


class Real(float):
    """A REAL (32-bit) value: Athena writes it with the fewest digits that read back as the same float32."""

    def __str__(self) -> str:
        for digits in range(1, 10):
            text = f"{self:.{digits}g}"
            if struct.unpack("<f", struct.pack("<f", float(text)))[0] == self:
                return text
        return repr(float(self))


def rows_table(names: list[str], rows: list[list[str | None]]) -> pa.Table:
    columns = [pa.array([row[i] for row in rows], type=pa.string()) for i in range(len(names))]
    return pa.Table.from_arrays(columns, names=[f"c{i}" for i in range(len(names))])


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------
def csv_bytes(text: pa.Table, names: list[str]) -> bytes:
    buffer = io.BytesIO()
    table = text.rename_columns(names) if names else text
    if table.num_columns == 0:
        return b""
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=True, quoting_style="all_valid",
                                                      batch_size=65536))
    return buffer.getvalue()


class CsvUpload:
    """A query's CSV result written to S3 while the query still produces it: rows are encoded batch by
    batch (exactly as csv_bytes encodes the whole table) and every ``part_bytes`` go up as a part of a
    multipart upload in the background; ``finish`` uploads the rest and completes the upload, so the
    object appears only whole, and only then. A result smaller than one part is one PutObject."""

    def __init__(self, objects: Any, url: str, names: list[str], submit: Any, part_bytes: int) -> None:
        self.objects = objects
        self.url = url
        self.names = names
        self.submit = submit  # runs a function in the background, returning a Future
        self.part_bytes = part_bytes
        self._buffer = io.BytesIO()
        self._header = True
        self._upload_id: str | None = None
        self._parts: list[Any] = []  # Futures of (number, ETag)

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self._encode(pa.Table.from_batches([batch]))
        if self._buffer.tell() >= self.part_bytes:
            self._send_part()

    def _encode(self, table: pa.Table) -> None:
        pacsv.write_csv(table.rename_columns(self.names), self._buffer,
                        pacsv.WriteOptions(include_header=self._header, quoting_style="all_valid",
                                           batch_size=65536))
        self._header = False

    def _send_part(self) -> None:
        body = self._buffer.getvalue()
        self._buffer = io.BytesIO()
        if self._upload_id is None:
            self._upload_id = self.objects.start_multipart(self.url, "text/csv")
        number = len(self._parts) + 1
        self._parts.append(self.submit(self.objects.put_part, self.url, self._upload_id, number, body))

    def finish(self) -> None:
        if self._header:  # no rows: the header alone
            self._encode(pa.Table.from_arrays([pa.array([], pa.string()) for _ in self.names],
                                              names=[f"c{i}" for i in range(len(self.names))]))
        if self._upload_id is None:
            self.objects.put(self.url, self._buffer.getvalue(), "text/csv")
            return
        if self._buffer.tell():
            self._send_part()
        parts = [future.result() for future in self._parts]
        self.objects.complete_multipart(self.url, self._upload_id, parts)
        self._upload_id = None

    def abort(self) -> None:
        """Drop what was uploaded (the query failed or was cancelled): no object appears."""
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is None:
            return
        for future in self._parts:
            with contextlib.suppress(Exception):
                future.result()
        with contextlib.suppress(Exception):
            self.objects.abort_multipart(self.url, upload_id)


class MetadataUpload:
    """A query's ``.metadata`` object (its columns), put as soon as the result's columns are known, while
    DuckDB still runs the query, rather than after it: the state says SUCCEEDED only once the object is
    there, and then no longer waits for this PUT as well. A failed query's is deleted again."""

    def __init__(self, objects: Any, url: str, submit: Any) -> None:
        self.objects = objects
        self.url = url
        self.submit = submit  # runs a function in the background, returning a Future
        self._sent: tuple[list[dict[str, Any]], Any] | None = None  # the columns put, and the PUT's Future

    def send(self, column_info: list[dict[str, Any]]) -> None:
        if self._sent is not None:
            if self._sent[0] == column_info:
                return
            self._sent[1].result()  # other columns (a prepared query planned again): the earlier PUT lands first
        self._sent = (column_info, self.submit(self.objects.put, self.url, metadata_bytes(column_info)))

    def finish(self, column_info: list[dict[str, Any]]) -> None:
        """The object holds ``column_info`` once this returns (or it raises the PUT's error)."""
        self.send(column_info)
        assert self._sent is not None
        self._sent[1].result()

    def abort(self) -> None:
        sent, self._sent = self._sent, None
        if sent is None:
            return
        with contextlib.suppress(Exception):
            sent[1].result()
        with contextlib.suppress(Exception):
            self.objects.remove(self.url)


def txt_bytes(text: pa.Table) -> bytes:
    lines = []
    for row in text.to_pylist():
        lines.append("\t".join("" if v is None else v for v in row.values()))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _field_int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""


def engine_query_id() -> str:
    """A Trino-style query id (20261125_183412_00042_abcde), as Athena's metadata files carry."""
    now = datetime.datetime.now(datetime.UTC)
    suffix = "".join(random.choices(string.ascii_lowercase, k=5))
    return f"{now:%Y%m%d_%H%M%S}_{random.randint(0, 99999):05d}_{suffix}"


def metadata_bytes(column_info: list[dict[str, Any]]) -> bytes:
    """Athena's ``.metadata`` file: a protobuf with the engine's query id and one ColumnInfo message
    per column (catalog, name, label, type, precision, scale, nullable, case sensitive)."""
    out = _field(1, engine_query_id().encode())
    for info in column_info:
        column = (_field(1, str(info.get("CatalogName", "hive")).encode())
                  + _field(4, str(info["Name"]).encode())
                  + _field(5, str(info["Label"]).encode())
                  + _field(6, str(info["Type"]).encode())
                  + _field_int(7, int(info.get("Precision", 0)))
                  + _field_int(8, int(info.get("Scale", 0)))
                  + _field_int(9, 3)
                  + _field_int(10, 1 if info.get("CaseSensitive") else 0))
        out += _field(4, column)
    return out


# ---------------------------------------------------------------------------------------------
# paging
# ---------------------------------------------------------------------------------------------
@dataclass
class ResultFile:
    path: Path

    def write(self, text: pa.Table) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, text.schema) as writer:
            writer.write_table(text, max_chunksize=65536)
        tmp.replace(self.path)

    def read(self) -> pa.Table:
        with pa.memory_map(str(self.path), "r") as source:
            return pa.ipc.open_file(source).read_all()


def encode_token(query_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{query_id}:{offset}".encode()).decode()


def decode_token(query_id: str, token: str) -> int:
    try:
        owner, offset = base64.urlsafe_b64decode(token.encode()).decode().rsplit(":", 1)
        if owner != query_id:
            raise ValueError
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise RequestError("InvalidRequestException", "The NextToken is not valid for this query") from None


def page(text: pa.Table | None, names: list[str], header_row: bool, offset: int,
         max_results: int) -> tuple[list[dict[str, Any]], int | None]:
    """Rows ``offset .. offset+max_results`` of the virtual row list [header?] + data, and the next
    offset (None at the end)."""
    total_data = text.num_rows if text is not None else 0
    total = total_data + (1 if header_row else 0)
    end = min(total, offset + max_results)
    rows: list[dict[str, Any]] = []
    index = offset
    if header_row and index == 0 and end > 0:
        rows.append({"Data": [{"VarCharValue": name} for name in names]})
        index = 1
    if text is not None and index < end:
        start = index - (1 if header_row else 0)
        chunk = text.slice(start, end - index)
        columns = [chunk.column(i).to_pylist() for i in range(chunk.num_columns)]
        for r in range(chunk.num_rows):
            rows.append({"Data": [{"VarCharValue": col[r]} if col[r] is not None else {} for col in columns]})
    return rows, (end if end < total else None)
