"""Rows of a DuckDB relation written to S3 as a table's objects, the base of the statements that write
(ctas.py, insert.py, unload.py, iceberg.py; writes.py tells how they fit together).

Objects are Parquet (pyarrow) or text / JSON / CSV as the table's SerDe says, one set per partition
(``key=value/`` folders), named ``<query id>_<n>`` like Athena's, at most ``ROWS_PER_FILE`` rows each.
A statement writes at most ``MAX_OPEN_PARTITIONS`` partitions; what was written is removed again if
writing fails.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow.parquet as pq
from sqlglot import exp

from localaws.athena import results
from localaws.athena.catalog import (
    HIVE_JSON_SERDE,
    LAZY_SIMPLE_SERDE,
    OPEN_CSV_SERDE,
    PARQUET_INPUT,
    PARQUET_OUTPUT,
    PARQUET_SERDE,
    TEXT_INPUT,
    TEXT_OUTPUT,
    TableInfo,
)
from localaws.athena.context import Outcome, QueryContext, StatementFamily
from localaws.athena.errors import AthenaQueryError, from_duckdb
from localaws.athena.objects import S3Object, folder, hive_escape, parse_s3_url
from localaws.athena.scans import ident, sql_str
from localaws.athena.statements import Statement
from localaws.athena.text_columns import Delimiters, delimited_text
from localaws.athena.types import DuckType, parse_or_varchar

MAX_OPEN_PARTITIONS = 100
ROWS_PER_FILE = 2_000_000
RESULT = "__wr_result"
TARGET = "__wr_target"
_CODECS = {"snappy": "snappy", "gzip": "gzip", "zstd": "zstd", "lz4": "lz4", "none": "none",
           "uncompressed": "none", "brotli": "brotli"}


@dataclass
class WriteFormat:
    """How a table's objects are encoded."""

    kind: str  # parquet | text | json | csv
    compression: str = "snappy"
    delimiter: str = "\x01"
    null_string: str = "\\N"
    serde_params: dict[str, str] = field(default_factory=dict)  # a text table's (collection, map key ...)

    def delimiters(self) -> Delimiters:
        return Delimiters.of({"field.delim": self.delimiter, "serialization.null.format": self.null_string,
                              **self.serde_params})

    @staticmethod
    def of_table(table: TableInfo) -> WriteFormat:
        fmt = table.format
        if fmt == "parquet":
            codec = table.parameters.get("parquet.compression") or table.parameters.get("write_compression") or \
                "snappy"
            return WriteFormat("parquet", _CODECS.get(codec.lower(), "snappy"))
        if fmt == "text":
            params = table.serde_params
            delimiter = params.get("field.delim") or params.get("serialization.format") or "\x01"
            return WriteFormat("text", delimiter="\x01" if delimiter == "1" else delimiter,
                               null_string=params.get("serialization.null.format", "\\N"), serde_params=dict(params))
        if fmt == "json":
            return WriteFormat("json")
        if fmt == "csv":
            return WriteFormat("csv", delimiter=table.serde_params.get("separatorChar", ","))
        raise AthenaQueryError("NOT_SUPPORTED", f"Writing {fmt} tables is not supported by the local engine "
                                                f"({table.qualified})")

    @staticmethod
    def named(name: str, compression: str | None, delimiter: str | None) -> WriteFormat:
        upper = name.upper()
        if upper == "PARQUET":
            return WriteFormat("parquet", _CODECS.get((compression or "snappy").lower(), "snappy"))
        if upper == "TEXTFILE":
            return WriteFormat("text", delimiter=delimiter or "\x01")
        if upper == "JSON":
            return WriteFormat("json")
        raise AthenaQueryError("NOT_SUPPORTED", f"format '{name}' is not supported by the local engine: PARQUET, "
                                                "TEXTFILE or JSON")

    def glue(self) -> tuple[str, str, str, dict[str, str], dict[str, str]]:
        """(serde, input format, output format, serde parameters, table parameters)."""
        if self.kind == "parquet":
            return (PARQUET_SERDE, PARQUET_INPUT, PARQUET_OUTPUT, {"serialization.format": "1"},
                    {"parquet.compression": self.compression.upper(), "classification": "parquet"})
        if self.kind == "text":
            return (LAZY_SIMPLE_SERDE, TEXT_INPUT, TEXT_OUTPUT,
                    {"field.delim": self.delimiter, "serialization.format": self.delimiter}, {"classification": "csv"})
        if self.kind == "json":
            return HIVE_JSON_SERDE, TEXT_INPUT, TEXT_OUTPUT, {}, {"classification": "json"}
        return OPEN_CSV_SERDE, TEXT_INPUT, TEXT_OUTPUT, {"separatorChar": self.delimiter}, {"classification": "csv"}


@dataclass
class Written:
    rows: int = 0
    files: list[str] = field(default_factory=list)
    partitions: dict[tuple[str, ...], str] = field(default_factory=dict)  # values -> location


def property_value(node: Any) -> Any:
    """A WITH (...) property's value (sqlglot node) as a Python value."""
    if isinstance(node, exp.Array):
        return [property_value(e) for e in node.expressions]
    if isinstance(node, exp.Schema):
        return [e.name for e in node.expressions]
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal):
        return str(node.this) if node.is_string else node.this
    if isinstance(node, exp.Expression):
        return node.name or node.sql()
    return node


def _partition_text(value: Any) -> str:
    if value is None:
        return "__HIVE_DEFAULT_PARTITION__"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = results.python_text(value)
    return text if text is not None else "__HIVE_DEFAULT_PARTITION__"


def _delimited(sql: str, duck_types: list[str], delimiters: Delimiters) -> tuple[str, list[str]]:
    """``sql`` with its array, map and struct columns as LazySimpleSerDe text (the separators of each
    nesting level, the NULL sequence per item), so a TEXTFILE table reads back what was written."""
    parsed = [parse_or_varchar(t) for t in duck_types]
    if not any(p.is_nested for p in parsed):
        return sql, duck_types
    columns = [f"{delimited_text(f'__wr_d.c{i}', p.hive(), delimiters) if p.is_nested else f'__wr_d.c{i}'} AS c{i}"
               for i, p in enumerate(parsed)]
    renamed = ", ".join(f"#{i + 1} AS c{i}" for i in range(len(parsed)))
    return (f"SELECT {', '.join(columns)} FROM (SELECT {renamed} FROM ({sql}) AS __wr_s) AS __wr_d",
            ["VARCHAR" if p.is_nested else t for p, t in zip(parsed, duck_types, strict=True)])


def check_partition_order(names: list[str], partitioned_by: list[str]) -> None:
    if not partitioned_by:
        return
    missing = [p for p in partitioned_by if p not in names]
    if missing:
        raise AthenaQueryError("INVALID_TABLE_PROPERTY", f"Partition column '{missing[0]}' is not a column of the "
                                                         "query")
    if names[-len(partitioned_by):] != partitioned_by:
        raise AthenaQueryError("HIVE_COLUMN_ORDER_MISMATCH",
                               "Partition keys must be the last columns in the table and in the same order as the "
                               f"table properties: {partitioned_by}")
    if len(partitioned_by) == len(names):
        raise AthenaQueryError("INVALID_TABLE_PROPERTY", "A table needs at least one column that is not a "
                                                         "partition key")


class Writer(StatementFamily):
    """A family of statements that write rows as objects."""

    def outcome(self, statement: Statement, rows: int, written: Written, kind: str = "txt",
                counted: bool = True) -> Outcome:
        """What a writing statement reports: Athena's UpdateCount and, for the statements that count rows
        (CTAS, INSERT, UNLOAD, UPDATE, DELETE, MERGE), Trino's one result column ``rows`` (bigint) with no
        data rows, as GetQueryResults (and so pyathena's ``description`` / ``rowcount``) shows it."""
        names, types = (["rows"], ["BIGINT"]) if counted else ([], [])
        return Outcome(statement.statement_type, statement.substatement_type, names, types, kind=kind,
                       update_count=rows, manifest=written.files)

    def _encode(self, con: duckdb.DuckDBPyConnection, sql: str, names: list[str], duck_types: list[str],
                fmt: WriteFormat) -> bytes:
        if fmt.kind == "parquet":
            casts = ", ".join(f"CAST(#{i + 1} AS {DuckType.parse(t).storage()}) AS {ident(n)}"
                              for i, (n, t) in enumerate(zip(names, duck_types, strict=True)))
            table = con.sql(f"SELECT {casts} FROM ({sql}) AS __wr_q").to_arrow_table()
            buffer = io.BytesIO()
            pq.write_table(table, buffer, compression=fmt.compression, coerce_timestamps="ms",
                           allow_truncated_timestamps=True)
            return buffer.getvalue()
        if fmt.kind == "json":
            fields = ", ".join(f"{sql_str(n)}: #{i + 1}" for i, n in enumerate(names))
            rows = con.sql(f"SELECT CAST(to_json({{{fields}}}) AS VARCHAR) FROM ({sql}) AS __wr_q").fetchall()
            return "".join(r[0] + "\n" for r in rows).encode()
        if fmt.kind == "text":
            sql, duck_types = _delimited(sql, duck_types, fmt.delimiters())
        text = results.to_text_table(con, sql, names, duck_types)
        lines = []
        for row in zip(*[text.column(i).to_pylist() for i in range(text.num_columns)], strict=True):
            if fmt.kind == "csv":
                lines.append(fmt.delimiter.join('"' + v.replace('"', '\\"') + '"' if v is not None else ""
                                                for v in row))
            else:
                lines.append(fmt.delimiter.join(v if v is not None else fmt.null_string for v in row))
        return "".join(line + "\n" for line in lines).encode()

    def write_rows(self, ctx: QueryContext, con: duckdb.DuckDBPyConnection, source: str, names: list[str],
                   duck_types: list[str], partition_names: list[str], location: str, fmt: WriteFormat,
                   partition_location: Callable[[list[str]], str] | None = None) -> Written:
        """Write the rows of relation ``source`` (columns ``names``; the partition columns among them
        are not stored in the objects) under ``location`` (or each partition's location)."""
        for duck_type in duck_types:  # Hive's writers refuse what Hive has no type for, as Athena's do
            parse_or_varchar(duck_type).hive()  # (timestamp with time zone, time, interval ...)
        written = Written()
        data = [(n, t) for n, t in zip(names, duck_types, strict=True) if n not in partition_names]
        select = ", ".join(ident(n) for n, _ in data)
        try:
            if not partition_names:
                written.rows = self._write_group(ctx, con, f"SELECT {select} FROM {source}", data, location, fmt,
                                                 written)
                return written
            keys = ", ".join(ident(p) for p in partition_names)
            con.execute(f"CREATE TEMP TABLE __wr_parts AS SELECT *, dense_rank() OVER (ORDER BY {keys}) AS __wr_pid "
                        f"FROM {source}")
            groups = con.sql(f"SELECT DISTINCT __wr_pid, {keys} FROM __wr_parts ORDER BY 1").fetchall()
            if len(groups) > MAX_OPEN_PARTITIONS:
                raise AthenaQueryError("HIVE_TOO_MANY_OPEN_PARTITIONS",
                                       f"Exceeded limit of {MAX_OPEN_PARTITIONS} open writers for partitions/buckets")
            for pid, *values in groups:
                ctx.check()
                texts = [_partition_text(v) for v in values]
                if partition_location is not None:
                    target = partition_location(texts)
                else:
                    target = folder(location) + "/".join(
                        f"{p}={hive_escape(t)}" for p, t in zip(partition_names, texts, strict=True)) + "/"
                sql = f"SELECT {select} FROM __wr_parts WHERE __wr_pid = {int(pid)}"
                written.rows += self._write_group(ctx, con, sql, data, target, fmt, written)
                written.partitions[tuple(texts)] = target
        except duckdb.Error as error:
            self.objects.delete([S3Object(*parse_s3_url(f), 0, "") for f in written.files])
            raise from_duckdb(error, ctx.locate) from None
        except BaseException:
            self.objects.delete([S3Object(*parse_s3_url(f), 0, "") for f in written.files])
            raise
        return written

    def _write_group(self, ctx: QueryContext, con: duckdb.DuckDBPyConnection, sql: str,
                     data: list[tuple[str, str]], location: str, fmt: WriteFormat, written: Written) -> int:
        total = int(con.sql(f"SELECT count(*) FROM ({sql}) AS __wr_c").fetchall()[0][0])
        if total == 0:
            return 0
        names, types = [n for n, _ in data], [t for _, t in data]
        for offset in range(0, total, ROWS_PER_FILE):
            ctx.check()
            chunk = sql if total <= ROWS_PER_FILE else \
                f"SELECT * FROM ({sql}) AS __wr_c LIMIT {ROWS_PER_FILE} OFFSET {offset}"
            body = self._encode(con, chunk, names, types, fmt)
            url = f"{folder(location)}{ctx.query_id}_{len(written.files):05d}"
            self.objects.put(url, body)
            written.files.append(url)
        return total

    def materialize(self, ctx: QueryContext, con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[str]]:
        """The query's rows into the temporary table __wr_result; its column names and types."""
        try:
            con.execute(f"CREATE TEMP TABLE {RESULT} AS {sql}")
            relation = con.sql(f"SELECT * FROM {RESULT}")
            return list(relation.columns), [str(t) for t in relation.types]
        except duckdb.Error as error:
            ctx.check()
            raise from_duckdb(error, ctx.locate) from None
