"""SHOW TABLES / VIEWS / DATABASES / PARTITIONS / COLUMNS / CREATE TABLE / CREATE VIEW / TBLPROPERTIES and
DESCRIBE, answered from the Glue catalog.

Results are Athena's: headerless ``.txt`` rows (one field per column, tab-separated in the file).
"""

from __future__ import annotations

from localaws.athena import views
from localaws.athena.catalog import Column, TableInfo, athena_like_to_regex
from localaws.athena.context import Handler, Outcome, QueryContext, StatementFamily, text_rows
from localaws.athena.errors import AthenaQueryError
from localaws.athena.statements import Statement

HIVE_ALIGNMENT = 20  # Hive's MetaDataFormatUtils pads names to this width


def show_create_lines(table: TableInfo) -> list[str]:
    if table.is_view:
        definition = views.decode(table)
        return [f'CREATE VIEW "{table.database}"."{table.name}" AS'] + definition.original_sql.splitlines()
    def column(c: Column) -> str:
        comment = f" COMMENT '{c.comment}'" if c.comment else ""
        return f"  `{c.name}` {c.type}{comment}"
    if table.is_iceberg:
        lines = [f"CREATE TABLE {table.database}.{table.name} ("]
        lines += [column(c) + ("," if i < len(table.columns) - 1 else ")") for i, c in enumerate(table.columns)]
        partitioning = table.parameters.get("partitioning")
        if partitioning:
            lines.append(f"PARTITIONED BY ({partitioning})")
        lines += ["LOCATION", f"  '{table.location}'", "TBLPROPERTIES ("]
        props = {"table_type": "iceberg", "format": "parquet", "write_compression": "snappy"}
        lines += [f"  '{k}'='{v}'" + ("," if i < len(props) - 1 else ")") for i, (k, v) in enumerate(props.items())]
        return lines
    lines = [f"CREATE EXTERNAL TABLE `{table.database}`.`{table.name}`("]
    lines += [column(c) + (", " if i < len(table.columns) - 1 else ")") for i, c in enumerate(table.columns)]
    if table.description:
        lines.append(f"COMMENT '{table.description}'")
    if table.partition_keys:
        lines.append("PARTITIONED BY ( ")
        lines += [column(c) + (", " if i < len(table.partition_keys) - 1 else ")")
                  for i, c in enumerate(table.partition_keys)]
    lines += ["ROW FORMAT SERDE ", f"  '{table.serde}' "]
    if table.serde_params:
        lines.append("WITH SERDEPROPERTIES ( ")
        items = list(table.serde_params.items())
        lines += [f"  '{k}'='{v}'" + (", " if i < len(items) - 1 else ") ") for i, (k, v) in enumerate(items)]
    lines += ["STORED AS INPUTFORMAT ", f"  '{table.input_format}' ", "OUTPUTFORMAT ", f"  '{table.output_format}'",
              "LOCATION", f"  '{table.location}'"]
    props = {k: v for k, v in table.parameters.items() if k not in ("EXTERNAL", "transient_lastDdlTime")}
    if props:
        lines.append("TBLPROPERTIES (")
        items = list(props.items())
        lines += [f"  '{k}'='{v}'" + (", " if i < len(items) - 1 else ")") for i, (k, v) in enumerate(items)]
    return lines


class Show(StatementFamily):
    def handlers(self) -> dict[str, Handler]:
        return {"show_tables": self.show_tables, "show_views": self.show_tables,
                "show_databases": self.show_databases, "show_partitions": self.show_partitions,
                "show_columns": self.show_columns, "show_create_table": self.show_create_table,
                "show_create_view": self.show_create_table, "show_tblproperties": self.show_tblproperties,
                "describe": self.describe}

    def show_tables(self, ctx: QueryContext, statement: Statement) -> Outcome:
        database = (statement.details["database"] or ctx.database).lower()
        self.catalog.require_database(database)
        tables = self.catalog.list_tables(database)
        if statement.kind == "show_views":
            tables = [t for t in tables if t.is_view]
        pattern = statement.details["pattern"]
        names = sorted(t.name for t in tables)
        if pattern:
            regex = athena_like_to_regex(pattern)
            names = [n for n in names if regex.match(n)]
        column = "views" if statement.kind == "show_views" else "tab_name"
        return text_rows([column], [[n] for n in names], statement)

    def show_databases(self, ctx: QueryContext, statement: Statement) -> Outcome:
        names = sorted(d["Name"] for d in self.catalog.list_databases())
        pattern = statement.details["pattern"]
        if pattern:
            regex = athena_like_to_regex(pattern)
            names = [n for n in names if regex.match(n)]
        return text_rows(["database_name"], [[n] for n in names], statement)

    def show_partitions(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self.table(ctx, statement.details["table"])
        if not table.partition_keys:
            raise AthenaQueryError("NOT_SUPPORTED", f"Table {table.qualified} is not partitioned")
        specs = sorted(p.spec(table.partition_keys) for p in self.catalog.partitions(table))
        return text_rows(["partition"], [[s] for s in specs], statement)

    def show_columns(self, ctx: QueryContext, statement: Statement) -> Outcome:
        """Hive's answer, as Athena gives it: one ``field`` column of type string, each name left-aligned in
        a field of at least HIVE_ALIGNMENT characters (``number_of_rows      ``)."""
        table = self.table(ctx, statement.details["table"])
        outcome = text_rows(["field"], [[c.name.ljust(HIVE_ALIGNMENT)] for c in table.all_columns], statement)
        outcome.duck_types = ["STRING"]
        return outcome

    def show_create_table(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self.table(ctx, statement.details["table"])
        if statement.kind == "show_create_table" and table.is_view:
            raise AthenaQueryError("NOT_SUPPORTED", f"{table.qualified} is a view: use SHOW CREATE VIEW")
        if statement.kind == "show_create_view" and not table.is_view:
            raise AthenaQueryError("NOT_SUPPORTED", f"{table.qualified} is not a view: use SHOW CREATE TABLE")
        return text_rows(["createtab_stmt"], [[line] for line in show_create_lines(table)], statement)

    def show_tblproperties(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self.table(ctx, statement.details["table"])
        items = sorted(table.parameters.items())
        wanted = statement.details["property"]
        if wanted is not None:
            items = [(k, v) for k, v in items if k == wanted]
        return text_rows(["prpt_name", "prpt_value"], [[k, v] for k, v in items], statement)

    def describe(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self.table(ctx, statement.details["table"])
        column = statement.details["column"]
        rows: list[list[str | None]] = []
        if column:
            match = [c for c in table.all_columns if c.name == column]
            if not match:
                raise AthenaQueryError("COLUMN_NOT_FOUND", f"Column '{column}' does not exist in {table.qualified}")
            rows.append([match[0].name, match[0].type, match[0].comment or ""])
            return text_rows(["col_name", "data_type", "comment"], rows, statement)
        rows += [[c.name, c.type, c.comment or ""] for c in table.all_columns]
        if table.partition_keys:
            rows += [["", None, None], ["# Partition Information", None, None],
                     ["# col_name", "data_type", "comment"], ["", None, None]]
            rows += [[c.name, c.type, c.comment or ""] for c in table.partition_keys]
        if statement.details["mode"] in ("formatted", "extended"):
            rows += [["", None, None], ["# Detailed Table Information", None, None],
                     ["Database:", table.database, None], ["Table:", table.name, None],
                     ["Table Type:", table.table_type, None], ["Location:", table.location, None],
                     ["Table Parameters:", None, None]]
            rows += [["", k, v] for k, v in sorted(table.parameters.items())]
            rows += [["", None, None], ["# Storage Information", None, None],
                     ["SerDe Library:", table.serde, None], ["InputFormat:", table.input_format, None],
                     ["OutputFormat:", table.output_format, None]]
        return text_rows(["col_name", "data_type", "comment"], rows, statement)
