"""A Glue table as a DuckDB relation: the SQL that reads a table's objects (from the local cache) and
returns exactly the table's columns, typed as Glue declares them, plus its partition columns.

Parquet columns are matched by name, case-insensitively, as Athena does (a column missing from a file
is NULL); CSV/text columns by position; JSON keys case-insensitively (OpenX and Hive JSON SerDes,
with OpenX's ``mapping.*`` properties). Partition values come from Glue, not from paths.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from localaws.athena.catalog import Column, Partition, TableInfo
from localaws.athena.errors import AthenaQueryError
from localaws.athena.objects import S3Object
from localaws.athena.text_columns import COMPLEX, Delimiters, delimited_column, json_column, text_scalar
from localaws.athena.types import HiveType

PSEUDO_COLUMNS = ("$path", "$file_size", "$file_modified_time")
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class FileGroup:
    """The objects of one partition (or of an unpartitioned table)."""

    partition: Partition | None
    objects: list[S3Object]


@dataclass
class TableScan:
    table: TableInfo
    groups: list[FileGroup]
    pseudo: set[str] = field(default_factory=set)

    @property
    def objects(self) -> list[S3Object]:
        return [o for g in self.groups for o in g.objects]

    @property
    def scanned_bytes(self) -> int:
        return sum(o.size for o in self.objects)


@functools.lru_cache(maxsize=65536)
def _parquet_names(path: str) -> tuple[str, ...]:
    try:
        return tuple(pq.read_schema(path).names)
    except Exception as error:  # not a Parquet file, truncated, ...
        raise AthenaQueryError("HIVE_BAD_DATA", f"Not a valid Parquet file: {error}") from None


def _duck_type(column: Column) -> str:
    return HiveType.parse(column.type).duck()


FILE_COLUMN = "__wr_file"


def _by_file(files: list[tuple[str, str | None]], duck: str, name: str) -> str:
    """A column whose value depends on the file a row comes from: a constant when every file has the
    same value, else a lookup of the file name in a map (evaluated once per chunk of rows)."""
    values = {value for _, value in files}
    if len(values) == 1:
        value = next(iter(values))
        literal = "NULL" if value is None else sql_str(value)
        return f"TRY_CAST({literal} AS {duck}) AS {ident(name)}"
    unique = dict(files)  # an object listed by two partitions reads with the first one's values
    entries = ", ".join(f"{sql_str(path)}: {'NULL' if value is None else sql_str(value)}"
                        for path, value in unique.items())
    return f"TRY_CAST(MAP {{{entries}}}[{FILE_COLUMN}] AS {duck}) AS {ident(name)}"


def empty_scan_sql(table: TableInfo, pseudo: set[str]) -> str:
    columns = [f"CAST(NULL AS {_duck_type(c)}) AS {ident(c.name)}" for c in table.all_columns]
    columns += [f"CAST(NULL AS VARCHAR) AS {ident(p)}" for p in PSEUDO_COLUMNS if p in pseudo]
    return f"SELECT {', '.join(columns)} LIMIT 0"


class ScanSql:
    """Builds the SQL of TableScans over local copies of their objects: one reader over all of a
    table's files (DuckDB parallelises one scan better than a union of many), with the partition
    columns (and pseudo-columns) derived from the file each row comes from."""

    def __init__(self, local: Callable[[S3Object], Path]) -> None:
        self.local = local

    def sql(self, scan: TableScan) -> str:
        fmt = scan.table.format
        builder = {"parquet": self._parquet, "json": self._json, "csv": self._csv, "text": self._text}.get(fmt)
        if builder is None:
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                f"Table {scan.table.qualified} is stored as {fmt} (SerDe {scan.table.serde or 'none'}); the local "
                "engine reads Parquet, JSON (OpenX / Hive JSON SerDe) and CSV/text (OpenCSVSerde, LazySimpleSerDe)")
        files = [(obj, group) for group in scan.groups for obj in group.objects]
        if not files:
            return empty_scan_sql(scan.table, scan.pseudo)
        return builder(scan, files)

    def _paths(self, files: list[tuple[S3Object, FileGroup]]) -> str:
        return "[" + ", ".join(sql_str(str(self.local(o))) for o, _ in files) + "]"

    def _derived(self, scan: TableScan, files: list[tuple[S3Object, FileGroup]]) -> list[str]:
        """Partition columns (from Glue's partition values) and the pseudo-columns, per file."""
        out = []
        for index, key in enumerate(scan.table.partition_keys):
            values: list[tuple[str, str | None]] = []
            for obj, group in files:
                value = group.partition.values[index] if group.partition and index < len(group.partition.values) \
                    else None
                values.append((str(self.local(obj)), None if value == HIVE_DEFAULT_PARTITION else value))
            out.append(_by_file(values, _duck_type(key), key.name))
        for name in PSEUDO_COLUMNS:
            if name not in scan.pseudo:
                continue
            if name == "$path":
                out.append(_by_file([(str(self.local(o)), o.url) for o, _ in files], "VARCHAR", name))
            elif name == "$file_size":
                out.append(_by_file([(str(self.local(o)), str(o.size)) for o, _ in files], "BIGINT", name))
            else:
                out.append(f"CAST(NULL AS TIMESTAMP) AS {ident(name)}")
        return out

    # ---- Parquet -------------------------------------------------------------------------
    def _parquet(self, scan: TableScan, files: list[tuple[S3Object, FileGroup]]) -> str:
        schemas = [_parquet_names(str(self.local(o))) for o, _ in files]
        physical: dict[str, str] = {}
        for names in schemas:
            for name in names:
                physical.setdefault(name.lower(), name)
        union_by_name = len(set(schemas)) > 1
        columns = []
        for column in scan.table.columns:
            duck = _duck_type(column)
            source = physical.get(column.name)
            if source is None:
                columns.append(f"CAST(NULL AS {duck}) AS {ident(column.name)}")
            else:
                columns.append(f"CAST({ident(source)} AS {duck}) AS {ident(column.name)}")
        columns += self._derived(scan, files)
        options = ", union_by_name = true" if union_by_name else ""
        return (f"SELECT {', '.join(columns)} FROM read_parquet({self._paths(files)}, "
                f"filename = '{FILE_COLUMN}'{options})")

    # ---- JSON ----------------------------------------------------------------------------
    def _json(self, scan: TableScan, files: list[tuple[S3Object, FileGroup]]) -> str:
        params = {k.lower(): v for k, v in scan.table.serde_params.items()}
        ignore_malformed = params.get("ignore.malformed.json", "false").lower() == "true"
        openx = "openx" in scan.table.serde.lower()
        case_insensitive = params.get("case.insensitive", "true").lower() != "false"
        columns = []
        for column in scan.table.columns:
            key = params.get(f"mapping.{column.name}", column.name).lower()
            expression = json_column(f"__wr_m[{sql_str(key)}]", column.type, openx, case_insensitive)
            columns.append(f"{expression} AS {ident(column.name)}")
        columns += self._derived(scan, files)
        keys = ("list_transform(json_keys(json), lambda k: {'k': lower(k), "
                "'v': json_extract(json, '$.\"' || replace(k, '\"', '\\\"') || '\"')})")
        source = (f"SELECT map_from_entries({keys}) AS __wr_m, {FILE_COLUMN} FROM read_json_objects("
                  f"{self._paths(files)}, format = 'newline_delimited', ignore_errors = "
                  f"{str(ignore_malformed).lower()}, filename = '{FILE_COLUMN}')")
        return f"SELECT {', '.join(columns)} FROM ({source})"

    # ---- delimited text ------------------------------------------------------------------
    def _delimited(self, scan: TableScan, files: list[tuple[S3Object, FileGroup]], options: str,
                   delimiters: Delimiters | None) -> str:
        """OpenCSVSerde (``delimiters`` None) or LazySimpleSerDe columns, by position."""
        data_columns = scan.table.columns
        raw_columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(data_columns))) + "}"
        skip = int(scan.table.parameters.get("skip.header.line.count", "0") or 0)
        columns = []
        for index, column in enumerate(data_columns):
            hive = HiveType.parse(column.type)
            raw = f"c{index}"
            if delimiters is not None:
                raw = f"NULLIF({raw}, {sql_str(delimiters.null_sequence)})"
            if hive.name in ("string", "varchar", "char"):
                expression = raw
            elif hive.name in COMPLEX:
                if delimiters is None:
                    raise AthenaQueryError(
                        "NOT_SUPPORTED", f"Column {column.name} of {scan.table.qualified} is {hive.trino()}: the "
                        "OpenCSVSerde reads primitive types only (use LazySimpleSerDe, ROW FORMAT DELIMITED, for "
                        "arrays, maps and structs)")
                expression = delimited_column(raw, column.type, delimiters)
            elif hive.name == "timestamp":
                expression = (f"COALESCE(TRY_CAST({raw} AS TIMESTAMP), epoch_ms(TRY_CAST({raw} AS BIGINT)))")
            elif delimiters is not None:  # as Trino's text encodings parse a field (" 1" is NULL, "1.9" is 1)
                expression = text_scalar(raw, hive)
            else:
                expression = f"TRY_CAST(NULLIF(trim({raw}), '') AS {hive.duck()})"
            columns.append(f"{expression} AS {ident(column.name)}")
        columns += self._derived(scan, files)
        reader = (f"read_csv({self._paths(files)}, header = false, skip = {skip}, columns = {raw_columns}, "
                  f"null_padding = true, strict_mode = false, auto_detect = false, filename = '{FILE_COLUMN}', "
                  f"{options})")
        return f"SELECT {', '.join(columns)} FROM {reader}"

    def _csv(self, scan: TableScan, files: list[tuple[S3Object, FileGroup]]) -> str:
        params = scan.table.serde_params
        separator = params.get("separatorChar", ",")
        quote = params.get("quoteChar", '"')
        escape = params.get("escapeChar", "\\")
        not_null = "[" + ", ".join(f"'c{i}'" for i in range(len(scan.table.columns))) + "]"
        options = (f"delim = {sql_str(separator)}, quote = {sql_str(quote)}, escape = {sql_str(escape)}, "
                   f"force_not_null = {not_null}")
        return self._delimited(scan, files, options, None)

    def _text(self, scan: TableScan, files: list[tuple[S3Object, FileGroup]]) -> str:
        params = scan.table.serde_params
        delimiters = Delimiters.of(params, scan.table.parameters)
        escape = params.get("escape.delim", "")
        # the NULL sequence as the reader's NULL string: "" stays "", a missing trailing field is NULL
        options = (f"delim = {sql_str(delimiters.separators[0])}, quote = '', escape = {sql_str(escape)}, "
                   f"nullstr = {sql_str(delimiters.null_sequence)}")
        return self._delimited(scan, files, options, delimiters)
