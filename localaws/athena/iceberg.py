"""Emulated Iceberg tables: their Glue registration, and MERGE / UPDATE / DELETE, OPTIMIZE and VACUUM.

The Glue table says ``table_type=ICEBERG`` (so clients such as dbt-athena treat it as Iceberg), its
rows live as plain Parquet objects under ``<location>data/`` with the partition columns inside the
files (Iceberg's hidden partitioning; ``partitioning`` is recorded as a table property), and MERGE /
UPDATE / DELETE rewrite the whole table copy-on-write: the statement runs against a copy of the table
in DuckDB, the new objects are written first (writer.py), then the old ones deleted. There are no
snapshots, time travel or concurrent-writer isolation.
"""

from __future__ import annotations

from typing import Any

import duckdb
from sqlglot import exp

from localaws.athena.catalog import (
    ICEBERG_EMULATION,
    PARQUET_INPUT,
    PARQUET_OUTPUT,
    PARQUET_SERDE,
    Catalog,
    Column,
    TableInfo,
    storage_descriptor,
)
from localaws.athena.context import Handler, Outcome, QueryContext
from localaws.athena.errors import AthenaQueryError, from_duckdb
from localaws.athena.objects import folder
from localaws.athena.statements import Statement, parse_sql
from localaws.athena.syntax import table_name
from localaws.athena.transpile import ScanRequest, to_duckdb
from localaws.athena.types import HiveType
from localaws.athena.writer import TARGET, WriteFormat, Writer, Written


def register_iceberg(catalog: Catalog, database: str, name: str, columns: list[Column], location: str,
                     partitioning: list[str], props: dict[str, Any]) -> None:
    """An emulated Iceberg table in Glue (CTAS, or CREATE TABLE ... TBLPROPERTIES ('table_type'='ICEBERG'))."""
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
    catalog.create_table(database, table_input)


class IcebergWrites(Writer):
    def handlers(self) -> dict[str, Handler]:
        return {"merge": self.rewrite, "update": self.rewrite, "delete": self.rewrite, "optimize": self.optimize,
                "vacuum": self.vacuum}

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
        resolved = self.connections.resolver.resolve(ast, ctx.database)
        target_scan = self._scan_of(resolved.scans, table, ast)
        old_objects = self.objects.list(folder(table.location) + "data/")
        with self.connections.connection(ctx, resolved) as con:
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
        return self.outcome(statement, affected, written, kind="csv")

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
        resolved = self.connections.resolver.resolve(select, ctx.database)
        old_objects = self.objects.list(folder(table.location) + "data/")
        with self.connections.connection(ctx, resolved) as con:
            con.execute(f"CREATE TEMP TABLE {TARGET} AS SELECT * FROM {resolved.scans[0].name}")
            written = self._rewrite_table(ctx, con, table)
        self.objects.delete(old_objects)
        return self.outcome(statement, 0, written, counted=False)

    def vacuum(self, ctx: QueryContext, statement: Statement) -> Outcome:
        """VACUUM t: the emulation keeps no snapshots, so there is nothing to expire."""
        database, relation = statement.details["table"].resolve(ctx.database)
        self._iceberg_target(ctx, exp.to_table(f"{database}.{relation}"), "VACUUM")
        return self.outcome(statement, 0, Written(), counted=False)
