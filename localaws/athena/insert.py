"""INSERT INTO a Hive or emulated Iceberg table: the query's (or VALUES') rows cast to the table's
column types (columns not listed are NULL), written as new objects (writer.py) into the partitions'
locations; partitions Glue does not know yet are registered.
"""

from __future__ import annotations

import duckdb
from sqlglot import exp

from localaws.athena.catalog import Column
from localaws.athena.context import Handler, Outcome, QueryContext
from localaws.athena.errors import AthenaQueryError, from_duckdb
from localaws.athena.objects import folder, hive_escape
from localaws.athena.scans import ident
from localaws.athena.statements import Statement
from localaws.athena.syntax import table_name
from localaws.athena.transpile import to_duckdb
from localaws.athena.types import DuckType, HiveType
from localaws.athena.writer import RESULT, WriteFormat, Writer


class Insert(Writer):
    def handlers(self) -> dict[str, Handler]:
        return {"insert": self.insert}

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
        resolved = self.connections.resolver.resolve(query, ctx.database)
        with self.connections.connection(ctx, resolved) as con:
            sql = to_duckdb(resolved, ctx.database, name_unnamed=False)
            _, source_types = self.materialize(ctx, con, sql)
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
        return self.outcome(statement, written.rows, written, kind="csv")

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
