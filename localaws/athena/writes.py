"""Statements that write data: CTAS, INSERT INTO, UNLOAD, and for Iceberg tables MERGE, UPDATE, DELETE,
OPTIMIZE, VACUUM.

The query runs in DuckDB into a temporary table; its rows are written as objects to S3 with pyarrow
(Parquet by default, or text/JSON/CSV for tables of those formats), one set of objects per partition,
named ``<query id>_<n>`` like Athena's; then the table and its partitions are registered in Glue. A
query writes at most 100 partitions (Athena's HIVE_TOO_MANY_OPEN_PARTITIONS limit, which dbt-athena
relies on to batch). Nothing is registered if writing fails, and what was written is removed.

Iceberg tables are emulated: the Glue table says ``table_type=ICEBERG`` (so clients such as
dbt-athena treat it as Iceberg), its rows live as plain Parquet objects under ``<location>data/`` with
the partition columns inside the files (Iceberg's hidden partitioning; ``partitioning`` is recorded
as a table property), and MERGE / UPDATE / DELETE rewrite the whole table copy-on-write: the new
objects are written first, then the old ones deleted. There are no snapshots, time travel or
concurrent-writer isolation.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow.parquet as pq
from sqlglot import exp

from localaws.athena import results
from localaws.athena.catalog import (
    DEFAULT_CATALOG,
    HIVE_JSON_SERDE,
    ICEBERG_EMULATION,
    LAZY_SIMPLE_SERDE,
    OPEN_CSV_SERDE,
    PARQUET_INPUT,
    PARQUET_OUTPUT,
    PARQUET_SERDE,
    TEXT_INPUT,
    TEXT_OUTPUT,
    Column,
    TableInfo,
)
from localaws.athena.ddl import no_rows, storage_descriptor
from localaws.athena.errors import AthenaQueryError, from_duckdb
from localaws.athena.objects import S3Object, folder, hive_escape, parse_s3_url
from localaws.athena.scans import ident, sql_str
from localaws.athena.statements import Statement, parse_sql, table_name
from localaws.athena.transpile import UNNAMED, ScanRequest, to_duckdb
from localaws.athena.types import DuckType, HiveType

if TYPE_CHECKING:
    from localaws.athena.runner import Outcome, QueryContext, Runner

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
                               null_string=params.get("serialization.null.format", "\\N"))
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


def _properties(create: exp.Create) -> dict[str, Any]:
    """CTAS WITH (...) properties, keys lower-case, values as Python values."""
    out: dict[str, Any] = {}
    properties = create.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.PartitionedByProperty):
            value: Any = prop.this
            key = "partitioned_by"
        elif isinstance(prop, exp.FileFormatProperty):
            key, value = "format", prop.this
        elif isinstance(prop, exp.LocationProperty):
            key, value = "location", prop.this
        elif isinstance(prop, exp.WithDataProperty):
            out["with_no_data"] = bool(prop.args.get("no"))
            continue
        elif isinstance(prop, exp.Property):
            key, value = (prop.this.name if isinstance(prop.this, exp.Expression) else str(prop.this)).lower(), \
                prop.args.get("value")
        else:
            continue
        out[key] = _value(value)
    return out


def _value(node: Any) -> Any:
    if isinstance(node, exp.Array):
        return [_value(e) for e in node.expressions]
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


class Writes:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.catalog = runner.services.catalog
        self.objects = runner.services.objects

    def handler(self, kind: str) -> Callable[[QueryContext, Statement], Outcome] | None:
        return {"ctas": self.ctas, "insert": self.insert, "unload": self.unload, "merge": self.rewrite,
                "update": self.rewrite, "delete": self.rewrite, "optimize": self.optimize,
                "vacuum": self.vacuum}.get(kind)

    def _outcome(self, statement: Statement, rows: int, written: Written, kind: str = "txt") -> Outcome:
        from localaws.athena.runner import Outcome

        return Outcome(statement.statement_type, statement.substatement_type, kind=kind, update_count=rows,
                       manifest=written.files)

    # ---- writing rows --------------------------------------------------------------------
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

    def _materialize(self, ctx: QueryContext, con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[str]]:
        """The query's rows into the temporary table __wr_result; its column names and types."""
        try:
            con.execute(f"CREATE TEMP TABLE {RESULT} AS {sql}")
            relation = con.sql(f"SELECT * FROM {RESULT}")
            return list(relation.columns), [str(t) for t in relation.types]
        except duckdb.Error as error:
            ctx.check()
            raise from_duckdb(error, ctx.locate) from None

    # ---- CTAS ----------------------------------------------------------------------------
    def ctas(self, ctx: QueryContext, statement: Statement) -> Outcome:
        create = statement.ast
        assert isinstance(create, exp.Create) and create.expression is not None
        target = table_name(create.this)
        database, name = target.resolve(ctx.database)
        self.catalog.require_database(database)
        props = _properties(create)
        if self.catalog.get_table(database, name) is not None:
            if create.args.get("exists"):
                return self._outcome(statement, 0, Written())
            raise AthenaQueryError("ALREADY_EXISTS", f"Table '{DEFAULT_CATALOG}.{database}.{name}' already exists")
        table_type = str(props.get("table_type", "hive")).lower()
        if table_type not in ("hive", "iceberg"):
            raise AthenaQueryError("INVALID_TABLE_PROPERTY", f"table_type '{table_type}' is not hive or iceberg")
        iceberg = table_type == "iceberg"
        location = props.get("location") if iceberg else props.get("external_location")
        if location is None and iceberg:
            location = props.get("external_location")
        if location is None:
            location = f"{ctx.output_location}tables/{ctx.query_id}/"
        location = folder(str(location))
        parse_s3_url(location)
        if self.objects.has_objects(location):
            raise AthenaQueryError("HIVE_PATH_ALREADY_EXISTS",
                                   f"Target directory for table '{database}.{name}' already exists: {location}")
        fmt = WriteFormat.named(str(props.get("format", "parquet")), props.get("write_compression")
                                or props.get("parquet_compression"), props.get("field_delimiter"))
        partitioned_by = [str(p).lower() for p in props.get("partitioned_by") or []]
        partitioning = [str(p) for p in props.get("partitioning") or []]
        if iceberg and partitioned_by and not partitioning:
            partitioning, partitioned_by = partitioned_by, []
        query = create.expression
        resolved = self.runner.resolver.resolve(query, ctx.database)
        with self.runner.connection(ctx, resolved, read_data=not props.get("with_no_data")) as con:
            sql = to_duckdb(resolved, ctx.database)
            if props.get("with_no_data"):
                sql = f"SELECT * FROM ({sql}) AS __wr_q LIMIT 0"
            raw_names, duck_types = self._materialize(ctx, con, sql)
            names = self._ctas_names(create, raw_names)
            if names != raw_names:
                renames = ", ".join(f"{ident(o)} AS {ident(n)}" for o, n in zip(raw_names, names, strict=True))
                con.execute(f"CREATE TEMP TABLE __wr_renamed AS SELECT {renames} FROM {RESULT}")
                source = "__wr_renamed"
            else:
                source = RESULT
            columns = [Column(n, DuckType.parse(t).hive()) for n, t in zip(names, duck_types, strict=True)]
            self._check_partition_order(names, partitioned_by)
            data_location = location + "data/" if iceberg else location
            written = self.write_rows(ctx, con, source, names, duck_types, partitioned_by, data_location, fmt)
        try:
            if iceberg:
                self._register_iceberg(database, name, columns, location, partitioning, props)
            else:
                data_columns = [c for c in columns if c.name not in partitioned_by]
                keys = [next(c for c in columns if c.name == p) for p in partitioned_by]
                serde, input_format, output_format, serde_params, params = fmt.glue()
                table_input = {
                    "Name": name,
                    "TableType": "EXTERNAL_TABLE",
                    "Parameters": {"EXTERNAL": "TRUE", "has_encrypted_data": "false", **params},
                    "PartitionKeys": [k.glue() for k in keys],
                    "StorageDescriptor": storage_descriptor(data_columns, location, serde, input_format,
                                                            output_format, serde_params),
                }
                self.catalog.create_table(database, table_input)
                if written.partitions:
                    table = self.catalog.require_table(database, name)
                    self.catalog.create_partitions(table, [(list(v), loc) for v, loc in written.partitions.items()])
        except BaseException:
            self.objects.delete([S3Object(*parse_s3_url(f), 0, "") for f in written.files])
            raise
        return self._outcome(statement, written.rows, written)

    @staticmethod
    def _ctas_names(create: exp.Create, raw: list[str]) -> list[str]:
        names = [n.lower() for n in raw]
        if isinstance(create.this, exp.Schema) and create.this.expressions:
            aliases = [e.name.lower() for e in create.this.expressions]
            if len(aliases) != len(names):
                raise AthenaQueryError("MISMATCHED_COLUMN_ALIASES",
                                       f"Column alias list has {len(aliases)} entries but the query has {len(names)} "
                                       "columns")
            names = aliases
        for index, name in enumerate(names):
            if name.startswith(UNNAMED):
                raise AthenaQueryError("MISSING_COLUMN_NAME", f"Column name not specified at position {index + 1}")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise AthenaQueryError("DUPLICATE_COLUMN_NAME", f"Column name '{duplicates[0]}' specified more than once")
        return names

    @staticmethod
    def _check_partition_order(names: list[str], partitioned_by: list[str]) -> None:
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

    # ---- Iceberg (emulated) ----------------------------------------------------------------
    def _register_iceberg(self, database: str, name: str, columns: list[Column], location: str,
                          partitioning: list[str], props: dict[str, Any]) -> None:
        parameters = {
            "table_type": "ICEBERG",
            "format": "parquet",
            "write_compression": str(props.get("write_compression", "snappy")).lower(),
            ICEBERG_EMULATION: "parquet objects under <location>data/, rewritten copy-on-write",
        }
        if partitioning:
            parameters["partitioning"] = ", ".join(partitioning)
        for key in ("vacuum_max_snapshot_age_seconds", "optimize_rewrite_delete_file_threshold"):
            if key in props:
                parameters[key] = str(props[key])
        table_input = {
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters,
            "PartitionKeys": [],
            "StorageDescriptor": storage_descriptor(columns, location, PARQUET_SERDE, PARQUET_INPUT, PARQUET_OUTPUT,
                                                    {}),
        }
        self.catalog.create_table(database, table_input)

    def create_empty_iceberg(self, ctx: QueryContext, statement: Statement, database: str, name: str,
                             columns: list[Column], location: str, properties: dict[str, str],
                             partition_keys: list[Column]) -> Outcome:
        if self.objects.has_objects(folder(location) + "data/"):
            raise AthenaQueryError("HIVE_PATH_ALREADY_EXISTS", f"Location {location} is not empty")
        partitioning = [k.name for k in partition_keys]
        self._register_iceberg(database, name, columns + partition_keys, folder(location), partitioning,
                               {k.lower(): v for k, v in properties.items()})
        return no_rows(statement)

    # ---- INSERT INTO ---------------------------------------------------------------------
    def insert(self, ctx: QueryContext, statement: Statement) -> Outcome:
        insert = statement.ast
        assert isinstance(insert, exp.Insert)
        target_node = insert.this
        listed: list[str] | None = None
        if isinstance(target_node, exp.Schema):
            listed = [e.name.lower() for e in target_node.expressions]
            target_node = target_node.this
        target = table_name(target_node)
        database, name = target.resolve(ctx.database)
        table = self.catalog.require_table(database, name, target.position)
        if table.is_view:
            raise AthenaQueryError("NOT_SUPPORTED", f"Inserting into view {table.qualified} is not supported")
        fmt = WriteFormat.of_table(table)
        all_columns = table.all_columns
        if listed is not None:
            unknown = [c for c in listed if c not in {col.name for col in all_columns}]
            if unknown:
                raise AthenaQueryError("COLUMN_NOT_FOUND", f"Insert column name does not exist in target table: "
                                                           f"{unknown[0]}")
        query = insert.expression
        if query is None:
            raise AthenaQueryError("SYNTAX_ERROR", "INSERT INTO needs a query or VALUES")
        resolved = self.runner.resolver.resolve(query, ctx.database)
        with self.runner.connection(ctx, resolved) as con:
            sql = to_duckdb(resolved, ctx.database, name_unnamed=False)
            _, source_types = self._materialize(ctx, con, sql)
            targets = listed if listed is not None else [c.name for c in all_columns]
            if len(source_types) != len(targets):
                raise AthenaQueryError(
                    "TYPE_MISMATCH", f"Insert query has mismatched column types: Table: [{len(targets)} columns], "
                                     f"Query: [{len(source_types)} columns]")
            by_name = {c.name: c for c in all_columns}
            casts = []
            positions = {t: i for i, t in enumerate(targets)}
            for column in all_columns:
                duck = HiveType.parse(column.type).duck()
                if column.name in positions:
                    index = positions[column.name]
                    source_type = DuckType.parse(source_types[index])
                    self._check_insert_type(column, source_type)
                    casts.append(f"CAST(#{index + 1} AS {duck}) AS {ident(column.name)}")
                else:
                    casts.append(f"CAST(NULL AS {duck}) AS {ident(column.name)}")
            try:
                con.execute(f"CREATE TEMP TABLE __wr_insert AS SELECT {', '.join(casts)} FROM {RESULT}")
            except duckdb.Error as error:
                raise from_duckdb(error, ctx.locate) from None
            names = [c.name for c in all_columns]
            types = [HiveType.parse(by_name[n].type).duck() for n in names]
            if table.is_iceberg:
                written = self.write_rows(ctx, con, "__wr_insert", names, types, [], folder(table.location) + "data/",
                                          fmt)
            else:
                partition_names = [k.name for k in table.partition_keys]
                existing = {tuple(p.values): p.location for p in self.catalog.partitions(table)} \
                    if partition_names else {}

                def location_of(values: list[str]) -> str:
                    found = existing.get(tuple(values))
                    if found:
                        return folder(found)
                    return folder(table.location) + "/".join(
                        f"{k}={hive_escape(v)}" for k, v in zip(partition_names, values, strict=True)) + "/"

                written = self.write_rows(ctx, con, "__wr_insert", names, types, partition_names, table.location,
                                          fmt, location_of if partition_names else None)
                new = [(list(v), loc) for v, loc in written.partitions.items() if v not in existing]
                if new:
                    self.catalog.create_partitions(table, new)
        return self._outcome(statement, written.rows, written, kind="csv")

    @staticmethod
    def _check_insert_type(column: Column, source: DuckType) -> None:
        target = HiveType.parse(column.type)
        numeric = {"int", "integer", "bigint", "smallint", "tinyint", "double", "float", "real", "decimal"}
        if target.name in numeric and source.name in ("VARCHAR", "BLOB"):
            raise AthenaQueryError("TYPE_MISMATCH", f"Insert query has mismatched column types: Table: "
                                                    f"[{column.type}], Query: [{source.athena()}]")
        if target.name in ("string", "varchar", "char") and source.is_nested:
            raise AthenaQueryError("TYPE_MISMATCH", f"Insert query has mismatched column types: Table: "
                                                    f"[{column.type}], Query: [{source.athena()}]")

    # ---- UNLOAD --------------------------------------------------------------------------
    def unload(self, ctx: QueryContext, statement: Statement) -> Outcome:
        inner: Statement = statement.details["query"]
        if inner.kind != "query" or inner.ast is None:
            raise AthenaQueryError("SYNTAX_ERROR", "UNLOAD takes a query")
        location = folder(statement.details["location"])
        parse_s3_url(location)
        if self.objects.has_objects(location):
            raise AthenaQueryError("HIVE_PATH_ALREADY_EXISTS", f"Target directory for UNLOAD is not empty: {location}")
        props = {k.lower(): v for k, v in statement.details["properties"].items()}
        partitioned_by: list[str] = []
        if props.get("partitioned_by"):
            array = parse_sql(f"SELECT {props['partitioned_by']}").expressions[0]
            partitioned_by = [str(_value(e)).lower() for e in getattr(array, "expressions", [])]
        fmt = WriteFormat.named(str(props.get("format", "PARQUET")).strip("'"), props.get("compression"),
                                props.get("field_delimiter"))
        resolved = self.runner.resolver.resolve(inner.ast, ctx.database)
        with self.runner.connection(ctx, resolved) as con:
            names, duck_types = self._materialize(ctx, con, to_duckdb(resolved, ctx.database))
            names = [n.lower() if not n.startswith(UNNAMED) else f"_col{i}" for i, n in enumerate(names)]
            renames = ", ".join(f"#{i + 1} AS {ident(n)}" for i, n in enumerate(names))
            con.execute(f"CREATE TEMP TABLE __wr_unload AS SELECT {renames} FROM {RESULT}")
            self._check_partition_order(names, partitioned_by)
            written = self.write_rows(ctx, con, "__wr_unload", names, duck_types, partitioned_by, location, fmt)
        return self._outcome(statement, written.rows, written, kind="csv")

    # ---- MERGE / UPDATE / DELETE on (emulated) Iceberg tables -----------------------------
    def _iceberg_target(self, ctx: QueryContext, node: exp.Expression, verb: str) -> TableInfo:
        target = table_name(node)
        database, name = target.resolve(ctx.database)
        table = self.catalog.require_table(database, name, target.position)
        if not table.is_iceberg:
            raise AthenaQueryError("NOT_SUPPORTED", f"{verb} is only supported for Iceberg tables "
                                                    f"({table.qualified} is a Hive table)")
        return table

    def rewrite(self, ctx: QueryContext, statement: Statement) -> Outcome:
        ast = statement.ast
        assert isinstance(ast, (exp.Merge, exp.Update, exp.Delete))
        target_node = ast.this
        table = self._iceberg_target(ctx, target_node, statement.substatement_type)
        alias_node = target_node.args.get("alias")
        alias = alias_node.name if alias_node is not None and alias_node.name else table.name
        resolved = self.runner.resolver.resolve(ast, ctx.database)
        target_scan = self._scan_of(resolved.scans, table, ast)
        old_objects = self.objects.list(folder(table.location) + "data/")
        with self.runner.connection(ctx, resolved) as con:
            try:
                con.execute(f"CREATE TEMP TABLE {TARGET} AS SELECT * FROM {target_scan.name}")
            except duckdb.Error as error:
                raise from_duckdb(error, ctx.locate) from None
            ast.set("this", exp.Table(this=exp.to_identifier(TARGET),
                                      alias=exp.TableAlias(this=exp.to_identifier(alias))))
            sql = to_duckdb(resolved, ctx.database, name_unnamed=False)
            try:
                row = con.execute(sql).fetchone()
            except duckdb.Error as error:
                ctx.check()
                raise from_duckdb(error, ctx.locate) from None
            affected = int(row[0]) if row else 0
            written = self._rewrite_table(ctx, con, table)
        self.objects.delete(old_objects)
        return self._outcome(statement, affected, written, kind="csv")

    def _rewrite_table(self, ctx: QueryContext, con: duckdb.DuckDBPyConnection, table: TableInfo) -> Written:
        names = [c.name for c in table.all_columns]
        types = [HiveType.parse(c.type).duck() for c in table.all_columns]
        return self.write_rows(ctx, con, TARGET, names, types, [], folder(table.location) + "data/",
                               WriteFormat("parquet"))

    @staticmethod
    def _scan_of(scans: list[ScanRequest], table: TableInfo, ast: exp.Expression) -> ScanRequest:
        node = ast.this
        name = node.name if isinstance(node, exp.Table) else ""
        for scan in scans:
            if scan.name == name:
                return scan
        for scan in scans:
            if scan.table.qualified == table.qualified:
                return scan
        raise AthenaQueryError("GENERIC_INTERNAL_ERROR", "the target table of the statement was not resolved")

    def optimize(self, ctx: QueryContext, statement: Statement) -> Outcome:
        """OPTIMIZE t REWRITE DATA USING BIN_PACK: compact the emulated Iceberg table into few objects."""
        name = statement.details["table"]
        database, relation = name.resolve(ctx.database)
        table = self._iceberg_target(ctx, exp.to_table(f"{database}.{relation}"), "OPTIMIZE")
        select = parse_sql(f'SELECT * FROM "{database}"."{relation}"')
        resolved = self.runner.resolver.resolve(select, ctx.database)
        old_objects = self.objects.list(folder(table.location) + "data/")
        with self.runner.connection(ctx, resolved) as con:
            con.execute(f"CREATE TEMP TABLE {TARGET} AS SELECT * FROM {resolved.scans[0].name}")
            written = self._rewrite_table(ctx, con, table)
        self.objects.delete(old_objects)
        return self._outcome(statement, 0, written)

    def vacuum(self, ctx: QueryContext, statement: Statement) -> Outcome:
        """VACUUM t: the emulation keeps no snapshots, so there is nothing to expire."""
        database, relation = statement.details["table"].resolve(ctx.database)
        self._iceberg_target(ctx, exp.to_table(f"{database}.{relation}"), "VACUUM")
        return self._outcome(statement, 0, Written())
