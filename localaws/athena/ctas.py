"""CREATE TABLE AS SELECT: the query's rows written under the new table's location (writer.py), then the
table (Hive, or emulated Iceberg: iceberg.py) and its partitions registered in Glue. Nothing is registered
if writing fails, and what was written is removed if registering fails.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from localaws.athena.catalog import DEFAULT_CATALOG, Column, storage_descriptor
from localaws.athena.context import Handler, Outcome, QueryContext
from localaws.athena.errors import AthenaQueryError
from localaws.athena.iceberg import register_iceberg
from localaws.athena.objects import S3Object, folder, parse_s3_url
from localaws.athena.scans import ident
from localaws.athena.statements import Statement
from localaws.athena.syntax import table_name
from localaws.athena.transpile import UNNAMED, to_duckdb
from localaws.athena.types import DuckType
from localaws.athena.writer import RESULT, WriteFormat, Writer, Written, check_partition_order, property_value


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
        out[key] = property_value(value)
    return out


class Ctas(Writer):
    def handlers(self) -> dict[str, Handler]:
        return {"ctas": self.ctas}

    def ctas(self, ctx: QueryContext, statement: Statement) -> Outcome:
        create = statement.ast
        assert isinstance(create, exp.Create) and create.expression is not None
        target = table_name(create.this)
        database, name = target.resolve(ctx.database)
        self.catalog.require_database(database)
        props = _properties(create)
        if self.catalog.get_table(database, name) is not None:
            if create.args.get("exists"):
                return self.outcome(statement, 0, Written())
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
        resolved = self.connections.resolver.resolve(query, ctx.database)
        with self.connections.connection(ctx, resolved, read_data=not props.get("with_no_data")) as con:
            sql = to_duckdb(resolved, ctx.database)
            if props.get("with_no_data"):
                sql = f"SELECT * FROM ({sql}) AS __wr_q LIMIT 0"
            raw_names, duck_types = self.materialize(ctx, con, sql)
            names = self._ctas_names(create, raw_names)
            if names != raw_names:
                renames = ", ".join(f"{ident(o)} AS {ident(n)}" for o, n in zip(raw_names, names, strict=True))
                con.execute(f"CREATE TEMP TABLE __wr_renamed AS SELECT {renames} FROM {RESULT}")
                source = "__wr_renamed"
            else:
                source = RESULT
            columns = [Column(n, DuckType.parse(t).hive()) for n, t in zip(names, duck_types, strict=True)]
            check_partition_order(names, partitioned_by)
            data_location = location + "data/" if iceberg else location
            written = self.write_rows(ctx, con, source, names, duck_types, partitioned_by, data_location, fmt)
        try:
            if iceberg:
                register_iceberg(self.catalog, database, name, columns, location, partitioning, props)
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
        return self.outcome(statement, written.rows, written)

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
