"""DDL and utility statements, executed against the Glue catalog (and S3 where Athena touches data):
CREATE/DROP DATABASE, CREATE EXTERNAL TABLE (Hive DDL -> Glue table), DROP TABLE, CREATE [OR REPLACE]
VIEW, DROP VIEW, ALTER TABLE (ADD/DROP PARTITION, partition SET LOCATION, RENAME TO, SET TBLPROPERTIES,
ADD/REPLACE/CHANGE COLUMNS, SET LOCATION), MSCK REPAIR TABLE, SHOW ..., DESCRIBE.

Results are Athena's: headerless ``.txt`` rows (one field per column, tab-separated in the file).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from localaws.athena import results, statements, views
from localaws.athena.catalog import (
    DEFAULT_CATALOG,
    LAZY_SIMPLE_SERDE,
    OPENX_JSON_SERDE,
    ORC_INPUT,
    ORC_OUTPUT,
    ORC_SERDE,
    PARQUET_INPUT,
    PARQUET_OUTPUT,
    PARQUET_SERDE,
    TEXT_INPUT,
    TEXT_OUTPUT,
    Column,
    Partition,
    TableInfo,
)
from localaws.athena.errors import AthenaQueryError
from localaws.athena.objects import folder, hive_escape, parse_s3_url
from localaws.athena.statements import Statement, TableName, table_name
from localaws.athena.types import DuckType, HiveType

if TYPE_CHECKING:
    from localaws.athena.runner import Outcome, QueryContext, Runner

FORMATS: dict[str, tuple[str, str, str]] = {
    "PARQUET": (PARQUET_SERDE, PARQUET_INPUT, PARQUET_OUTPUT),
    "ORC": (ORC_SERDE, ORC_INPUT, ORC_OUTPUT),
    "TEXTFILE": (LAZY_SIMPLE_SERDE, TEXT_INPUT, TEXT_OUTPUT),
    "JSON": (OPENX_JSON_SERDE, TEXT_INPUT, TEXT_OUTPUT),
    "AVRO": ("org.apache.hadoop.hive.serde2.avro.AvroSerDe",
             "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
             "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat"),
}


def _string(node: exp.Expression | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, exp.Literal):
        return str(node.this)
    return node.name or node.sql()


def hive_type(data_type: exp.Expression) -> str:
    """A column type of Hive DDL, as Glue stores it (lower case, canonical)."""
    text = data_type.sql(dialect="hive")
    try:
        return HiveType.parse(text).hive()
    except AthenaQueryError:
        raise AthenaQueryError("TYPE_NOT_FOUND", f"Unknown type '{text.lower()}'") from None


def column_defs(schema: exp.Expression | None) -> list[Column]:
    columns: list[Column] = []
    if schema is None:
        return columns
    for definition in schema.expressions:
        if not isinstance(definition, exp.ColumnDef):
            continue
        kind = definition.args.get("kind")
        if kind is None:
            raise AthenaQueryError("SYNTAX_ERROR", f"Column {definition.name} has no type")
        comment = None
        for constraint in definition.args.get("constraints") or []:
            if isinstance(constraint.kind, exp.CommentColumnConstraint):
                comment = _string(constraint.kind.this)
        columns.append(Column(definition.name.lower(), hive_type(kind), comment))
    names = [c.name for c in columns]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise AthenaQueryError("DUPLICATE_COLUMN_NAME",
                               f"Column name '{sorted(duplicates)[0]}' specified more than once")
    return columns


def storage_descriptor(columns: list[Column], location: str, serde: str, input_format: str, output_format: str,
                       serde_params: dict[str, str]) -> dict[str, Any]:
    return {
        "Columns": [c.glue() for c in columns],
        "Location": location,
        "InputFormat": input_format,
        "OutputFormat": output_format,
        "Compressed": False,
        "NumberOfBuckets": -1,
        "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_params},
        "BucketColumns": [],
        "SortColumns": [],
        "StoredAsSubDirectories": False,
    }


def text_rows(names: list[str], rows: list[list[str | None]], statement: Statement) -> Outcome:
    from localaws.athena.runner import Outcome

    return Outcome(statement.statement_type, statement.substatement_type, names, ["VARCHAR"] * len(names),
                   results.rows_table(names, rows) if rows else None, header_row=False, kind="txt")


def no_rows(statement: Statement) -> Outcome:
    from localaws.athena.runner import Outcome

    return Outcome(statement.statement_type, statement.substatement_type, kind="txt")


def view_query_text(text: str) -> str:
    """The query of a CREATE VIEW statement, as the user wrote it (what Athena stores as originalSql)."""
    depth = 0
    seen_view = False
    for token in statements.tokens(text):
        word = token.text.upper()
        if token.token_type.name in ("L_PAREN",):
            depth += 1
        elif token.token_type.name in ("R_PAREN",):
            depth -= 1
        elif word == "VIEW":
            seen_view = True
        elif seen_view and depth == 0 and word == "AS":
            return text[token.end + 1:].strip()
    raise AthenaQueryError("SYNTAX_ERROR", "CREATE VIEW without AS <query>")


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


class Ddl:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.catalog = runner.services.catalog
        self.objects = runner.services.objects

    def handler(self, kind: str) -> Callable[[QueryContext, Statement], Outcome] | None:
        handler: Callable[[QueryContext, Statement], Outcome] | None = getattr(self, f"_{kind}", None)
        return handler

    def _table(self, ctx: QueryContext, name: TableName) -> TableInfo:
        database, relation = name.resolve(ctx.database)
        return self.catalog.require_table(database, relation, name.position)

    # ---- SHOW / DESCRIBE -----------------------------------------------------------------
    def _show_tables(self, ctx: QueryContext, statement: Statement) -> Outcome:
        database = (statement.details["database"] or ctx.database).lower()
        self.catalog.require_database(database)
        tables = self.catalog.list_tables(database)
        if statement.kind == "show_views":
            tables = [t for t in tables if t.is_view]
        pattern = statement.details["pattern"]
        names = sorted(t.name for t in tables)
        if pattern:
            regex = statements.athena_like_to_regex(pattern)
            names = [n for n in names if regex.match(n)]
        column = "views" if statement.kind == "show_views" else "tab_name"
        return text_rows([column], [[n] for n in names], statement)

    _show_views = _show_tables

    def _show_databases(self, ctx: QueryContext, statement: Statement) -> Outcome:
        names = sorted(d["Name"] for d in self.catalog.list_databases())
        pattern = statement.details["pattern"]
        if pattern:
            regex = statements.athena_like_to_regex(pattern)
            names = [n for n in names if regex.match(n)]
        return text_rows(["database_name"], [[n] for n in names], statement)

    def _show_partitions(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self._table(ctx, statement.details["table"])
        if not table.partition_keys:
            raise AthenaQueryError("NOT_SUPPORTED", f"Table {table.qualified} is not partitioned")
        specs = sorted(p.spec(table.partition_keys) for p in self.catalog.partitions(table))
        return text_rows(["partition"], [[s] for s in specs], statement)

    def _show_columns(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self._table(ctx, statement.details["table"])
        return text_rows(["field"], [[c.name] for c in table.all_columns], statement)

    def _show_create_table(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self._table(ctx, statement.details["table"])
        if statement.kind == "show_create_table" and table.is_view:
            raise AthenaQueryError("NOT_SUPPORTED", f"{table.qualified} is a view: use SHOW CREATE VIEW")
        if statement.kind == "show_create_view" and not table.is_view:
            raise AthenaQueryError("NOT_SUPPORTED", f"{table.qualified} is not a view: use SHOW CREATE TABLE")
        return text_rows(["createtab_stmt"], [[line] for line in show_create_lines(table)], statement)

    _show_create_view = _show_create_table

    def _show_tblproperties(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self._table(ctx, statement.details["table"])
        items = sorted(table.parameters.items())
        wanted = statement.details["property"]
        if wanted is not None:
            items = [(k, v) for k, v in items if k == wanted]
        return text_rows(["prpt_name", "prpt_value"], [[k, v] for k, v in items], statement)

    def _describe(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self._table(ctx, statement.details["table"])
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

    # ---- databases -----------------------------------------------------------------------
    def _create_database(self, ctx: QueryContext, statement: Statement) -> Outcome:
        details = statement.details
        database_input: dict[str, Any] = {"Name": details["name"]}
        if details["comment"]:
            database_input["Description"] = details["comment"]
        if details["location"]:
            parse_s3_url(details["location"])
            database_input["LocationUri"] = details["location"]
        if details["properties"]:
            database_input["Parameters"] = details["properties"]
        if details["if_not_exists"] and self.catalog.get_database(details["name"]) is not None:
            return no_rows(statement)
        self.catalog.create_database(database_input)
        return no_rows(statement)

    def _drop_database(self, ctx: QueryContext, statement: Statement) -> Outcome:
        drop = statement.ast
        assert isinstance(drop, exp.Drop)
        target = _dropped(drop)
        name = (target.name or target.db).lower()
        if self.catalog.get_database(name) is None:
            if drop.args.get("exists"):
                return no_rows(statement)
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{name}' does not exist")
        tables = self.catalog.list_tables(name)
        if tables and not drop.args.get("cascade"):
            raise AthenaQueryError("SCHEMA_NOT_EMPTY", f"Cannot drop non-empty schema '{name}'")
        for table in tables:
            self._drop_data_if_managed(table)
            self.catalog.delete_table(name, table.name)
        self.catalog.delete_database(name)
        return no_rows(statement)

    # ---- tables --------------------------------------------------------------------------
    def _create_table(self, ctx: QueryContext, statement: Statement) -> Outcome:
        create = statement.ast
        assert isinstance(create, exp.Create)
        target = table_name(create.this)
        database, name = target.resolve(ctx.database)
        self.catalog.require_database(database)
        properties = create.args.get("properties")
        props = properties.expressions if properties is not None else []
        external = any(isinstance(p, exp.ExternalProperty) for p in props) or "EXTERNAL" in \
            statement.text.upper().split("TABLE")[0]
        columns = column_defs(create.this if isinstance(create.this, exp.Schema) else None)
        partition_keys: list[Column] = []
        location = None
        comment = None
        serde = None
        serde_params: dict[str, str] = {}
        input_format = output_format = None
        table_properties: dict[str, str] = {}
        stored_as = None
        for prop in props:
            if isinstance(prop, exp.ExternalProperty):
                continue
            if isinstance(prop, exp.PartitionedByProperty):
                partition_keys = column_defs(prop.this)
            elif isinstance(prop, exp.LocationProperty):
                location = _string(prop.this)
            elif isinstance(prop, exp.SchemaCommentProperty):
                comment = _string(prop.this)
            elif isinstance(prop, exp.RowFormatSerdeProperty):
                serde = _string(prop.this)
                serde_props = prop.args.get("serde_properties")
                if serde_props is not None:
                    serde_params.update({_string(p.this) or "": _string(p.args.get("value")) or ""
                                         for p in serde_props.expressions})
            elif isinstance(prop, exp.RowFormatDelimitedProperty):
                serde = LAZY_SIMPLE_SERDE
                for key, param in (("fields", "field.delim"), ("escaped", "escape.delim"),
                                   ("collection_items", "collection.delim"), ("map_keys", "mapkey.delim"),
                                   ("lines", "line.delim"), ("null", "serialization.null.format")):
                    value = _string(prop.args.get(key))
                    if value is not None:
                        serde_params[param] = value.encode().decode("unicode_escape")
                if "field.delim" in serde_params:
                    serde_params["serialization.format"] = serde_params["field.delim"]
            elif isinstance(prop, exp.FileFormatProperty):
                value = prop.this
                if isinstance(value, exp.InputOutputFormat):
                    input_format = _string(value.args.get("input_format"))
                    output_format = _string(value.args.get("output_format"))
                else:
                    stored_as = (_string(value) or "").upper()
            elif type(prop) is exp.Property:
                key = _string(prop.this) or ""
                table_properties[key] = _string(prop.args.get("value")) or ""
        for column in partition_keys:
            if column.name in {c.name for c in columns}:
                raise AthenaQueryError("DUPLICATE_COLUMN_NAME",
                                       f"Column '{column.name}' is both a column and a partition key")
        iceberg = table_properties.get("table_type", "").upper() == "ICEBERG"
        if not external and not iceberg:
            raise AthenaQueryError("NOT_SUPPORTED", "Only external table creation is supported for Hive tables: "
                                                    "use CREATE EXTERNAL TABLE, or TBLPROPERTIES ('table_type'="
                                                    "'ICEBERG')")
        if not location:
            raise AthenaQueryError("SYNTAX_ERROR", f"{target.position}CREATE EXTERNAL TABLE needs a LOCATION "
                                                   "'s3://bucket/prefix/'")
        parse_s3_url(location)
        if self.catalog.get_table(database, name) is not None:
            if create.args.get("exists"):
                return no_rows(statement)
            raise AthenaQueryError("ALREADY_EXISTS", f"Table '{DEFAULT_CATALOG}.{database}.{name}' already exists")
        if iceberg:
            return self.runner.writes.create_empty_iceberg(ctx, statement, database, name, columns, location,
                                                           table_properties, partition_keys)
        if stored_as:
            if stored_as not in FORMATS:
                raise AthenaQueryError("NOT_SUPPORTED", f"STORED AS {stored_as} is not supported")
            default_serde, input_format, output_format = FORMATS[stored_as]
            serde = serde or default_serde
        serde = serde or LAZY_SIMPLE_SERDE
        input_format = input_format or (PARQUET_INPUT if serde == PARQUET_SERDE else TEXT_INPUT)
        output_format = output_format or (PARQUET_OUTPUT if serde == PARQUET_SERDE else TEXT_OUTPUT)
        if serde == LAZY_SIMPLE_SERDE and not serde_params:
            serde_params = {"serialization.format": "1"}
        parameters = {"EXTERNAL": "TRUE", **table_properties, "transient_lastDdlTime": str(int(time.time()))}
        table_input: dict[str, Any] = {
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters,
            "PartitionKeys": [c.glue() for c in partition_keys],
            "StorageDescriptor": storage_descriptor(columns, location, serde, input_format, output_format,
                                                    serde_params),
        }
        if comment:
            table_input["Description"] = comment
        self.catalog.create_table(database, table_input)
        return no_rows(statement)

    def _drop_data_if_managed(self, table: TableInfo) -> None:
        """Athena deletes an Iceberg table's data with the table; Hive tables keep theirs."""
        if table.is_iceberg and table.location:
            self.objects.delete_prefix(table.location)

    def _drop_table(self, ctx: QueryContext, statement: Statement) -> Outcome:
        drop = statement.ast
        assert isinstance(drop, exp.Drop)
        target = table_name(_dropped(drop))
        database, name = target.resolve(ctx.database)
        table = self.catalog.get_table(database, name)
        if table is None:
            if drop.args.get("exists"):
                return no_rows(statement)
            if self.catalog.get_database(database) is None:
                raise AthenaQueryError("SCHEMA_NOT_FOUND", f"{target.position}Schema '{database}' does not exist")
            raise AthenaQueryError("TABLE_NOT_FOUND",
                                   f"{target.position}Table '{DEFAULT_CATALOG}.{database}.{name}' does not exist")
        if statement.kind == "drop_table" and table.is_view:
            raise AthenaQueryError("NOT_SUPPORTED", f"{table.qualified} is a view: use DROP VIEW")
        if statement.kind == "drop_view" and not table.is_view:
            raise AthenaQueryError("NOT_SUPPORTED", f"{table.qualified} is not a view: use DROP TABLE")
        self._drop_data_if_managed(table)
        self.catalog.delete_table(database, name)
        return no_rows(statement)

    _drop_view = _drop_table

    # ---- views ---------------------------------------------------------------------------
    def _create_view(self, ctx: QueryContext, statement: Statement) -> Outcome:
        create = statement.ast
        assert isinstance(create, exp.Create) and create.expression is not None
        target = table_name(create.this)
        database, name = target.resolve(ctx.database)
        self.catalog.require_database(database)
        query_text = view_query_text(statement.text)
        names, duck_types = self.runner.bind(ctx, create.expression.copy())
        if isinstance(create.this, exp.Schema) and create.this.expressions:
            aliases = [e.name.lower() for e in create.this.expressions]
            if len(aliases) != len(names):
                raise AthenaQueryError("MISMATCHED_COLUMN_ALIASES",
                                       f"Column alias list has {len(aliases)} entries but the view has {len(names)} "
                                       "columns")
            names = aliases
        for index, column in enumerate(names):
            if column.startswith("_col") and column[4:].isdigit():
                raise AthenaQueryError("MISSING_COLUMN_NAME", f"Column name not specified at position {index + 1}")
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise AthenaQueryError("DUPLICATE_COLUMN_NAME", f"Column name '{sorted(duplicates)[0]}' specified more "
                                                            "than once")
        parsed = [DuckType.parse(t) for t in duck_types]
        definition = views.ViewDefinition(
            # unqualified names in the view resolve in the session's schema, as when it was created
            original_sql=query_text, catalog=DEFAULT_CATALOG, schema=ctx.database,
            columns=[{"name": n, "type": t.athena_signature()} for n, t in zip(names, parsed, strict=True)])
        hive_columns = []
        for column, parsed_type in zip(names, parsed, strict=True):
            try:
                hive = parsed_type.hive()
            except AthenaQueryError:
                hive = "string"
            hive_columns.append({"Name": column, "Type": hive})
        table_input = views.table_input(name, definition, hive_columns)
        existing = self.catalog.get_table(database, name)
        if existing is not None:
            if not existing.is_view:
                raise AthenaQueryError("TABLE_ALREADY_EXISTS", f"{existing.qualified} is a table, not a view")
            if not create.args.get("replace"):
                raise AthenaQueryError("ALREADY_EXISTS", f"View '{existing.qualified}' already exists")
            self.catalog.update_table(database, table_input)
        else:
            self.catalog.create_table(database, table_input)
        return no_rows(statement)

    # ---- ALTER TABLE ---------------------------------------------------------------------
    def _spec_values(self, table: TableInfo, spec: list[tuple[str, str]], partial: bool = False) -> list[str | None]:
        keys = [k.name for k in table.partition_keys]
        if not keys:
            raise AthenaQueryError("NOT_SUPPORTED", f"Table {table.qualified} is not partitioned")
        given = dict(spec)
        unknown = [k for k in given if k not in keys]
        if unknown:
            raise AthenaQueryError("HIVE_INVALID_PARTITION_VALUE",
                                   f"Partition column '{unknown[0]}' is not a partition key of {table.qualified}")
        if not partial and len(given) != len(keys):
            raise AthenaQueryError("HIVE_INVALID_PARTITION_VALUE",
                                   f"Partition spec {dict(spec)} must give every partition key: {', '.join(keys)}")
        return [given.get(k) for k in keys]

    def _default_location(self, table: TableInfo, values: list[str]) -> str:
        return folder(table.location) + "/".join(
            f"{k.name}={hive_escape(v)}" for k, v in zip(table.partition_keys, values, strict=True)) + "/"

    def _alter_add_partition(self, ctx: QueryContext, statement: Statement) -> Outcome:
        details = statement.details
        table = self._table(ctx, details["table"])
        partitions = []
        for item in details["partitions"]:
            values = [str(v) for v in self._spec_values(table, item["spec"])]
            location = item["location"] or self._default_location(table, values)
            parse_s3_url(location)
            partitions.append((values, folder(location)))
        self.catalog.create_partitions(table, partitions, if_not_exists=details["if_not_exists"])
        return no_rows(statement)

    def _matching(self, table: TableInfo, values: list[str | None]) -> list[Partition]:
        conditions = " AND ".join(f"{k.name} = '{v}'" for k, v in zip(table.partition_keys, values, strict=True)
                                  if v is not None)
        found = self.catalog.partitions(table, conditions or None)
        return [p for p in found if all(v is None or p.values[i] == v for i, v in enumerate(values))]

    def _alter_drop_partition(self, ctx: QueryContext, statement: Statement) -> Outcome:
        details = statement.details
        table = self._table(ctx, details["table"])
        doomed: list[list[str]] = []
        for spec in details["specs"]:
            values = self._spec_values(table, spec, partial=True)
            matching = self._matching(table, values)
            if not matching and not details["if_exists"]:
                raise AthenaQueryError("PARTITION_NOT_FOUND",
                                       f"Partition not found: {', '.join(f'{k}={v}' for k, v in spec)}")
            doomed += [p.values for p in matching]
        if doomed:
            self.catalog.delete_partitions(table, doomed)
        return no_rows(statement)

    def _alter_partition_location(self, ctx: QueryContext, statement: Statement) -> Outcome:
        details = statement.details
        table = self._table(ctx, details["table"])
        values = [str(v) for v in self._spec_values(table, details["spec"])]
        partition = self.catalog.get_partition(table, values)
        if partition is None:
            raise AthenaQueryError("PARTITION_NOT_FOUND", f"Partition not found: {details['spec']}")
        parse_s3_url(details["location"])
        raw = dict(partition.raw)
        descriptor = dict(raw.get("StorageDescriptor") or {}, Location=folder(details["location"]))
        self.catalog.glue.update_partition(
            DatabaseName=table.database, TableName=table.name, PartitionValueList=values,
            PartitionInput={"Values": values, "StorageDescriptor": descriptor,
                            "Parameters": raw.get("Parameters") or {}})
        return no_rows(statement)

    def _alter(self, statement: Statement) -> tuple[exp.Alter, TableName]:
        alter = statement.ast
        assert isinstance(alter, exp.Alter)
        return alter, table_name(alter.this)

    def _alter_rename(self, ctx: QueryContext, statement: Statement) -> Outcome:
        alter, name = self._alter(statement)
        table = self._table(ctx, name)
        rename = next((a for a in alter.args.get("actions") or [] if isinstance(a, exp.AlterRename)), None)
        if rename is None:
            raise AthenaQueryError("SYNTAX_ERROR", "ALTER TABLE ... RENAME TO needs a new name")
        new_name = table_name(rename.this if isinstance(rename.this, exp.Table) else exp.to_table(rename.this.name))
        new_database, new_relation = new_name.resolve(table.database)
        if self.catalog.get_table(new_database, new_relation) is not None:
            raise AthenaQueryError("ALREADY_EXISTS", f"Table '{DEFAULT_CATALOG}.{new_database}.{new_relation}' "
                                                     "already exists")
        table_input = table.table_input()
        table_input["Name"] = new_relation
        self.catalog.create_table(new_database, table_input)
        if table.partition_keys:
            moved = self.catalog.partitions(table)
            renamed = self.catalog.get_table(new_database, new_relation)
            assert renamed is not None
            self.catalog.create_partitions(renamed, [(p.values, p.location) for p in moved])
        self.catalog.delete_table(table.database, table.name)
        return no_rows(statement)

    def _alter_set_properties(self, ctx: QueryContext, statement: Statement) -> Outcome:
        alter, name = self._alter(statement)
        table = self._table(ctx, name)
        properties: dict[str, str] = {}
        for action in alter.args.get("actions") or []:
            for prop in action.find_all(exp.Property):
                properties[_string(prop.this) or ""] = _string(prop.args.get("value")) or ""
        table_input = table.table_input()
        table_input["Parameters"] = {**table.parameters, **properties}
        self.catalog.update_table(table.database, table_input)
        return no_rows(statement)

    def _columns_update(self, table: TableInfo, columns: list[Column]) -> None:
        partition_names = {k.name for k in table.partition_keys}
        clash = [c.name for c in columns if c.name in partition_names]
        if clash:
            raise AthenaQueryError("DUPLICATE_COLUMN_NAME", f"Column '{clash[0]}' is a partition key")
        table_input = table.table_input()
        descriptor = dict(table_input.get("StorageDescriptor") or {})
        descriptor["Columns"] = [c.glue() for c in columns]
        table_input["StorageDescriptor"] = descriptor
        self.catalog.update_table(table.database, table_input)

    def _alter_add_columns(self, ctx: QueryContext, statement: Statement) -> Outcome:
        alter, name = self._alter(statement)
        table = self._table(ctx, name)
        added: list[Column] = []
        for action in alter.args.get("actions") or []:
            added += column_defs(exp.Schema(expressions=[d.copy() for d in action.find_all(exp.ColumnDef)]))
        existing = {c.name for c in table.columns}
        duplicate = [c.name for c in added if c.name in existing]
        if duplicate:
            raise AthenaQueryError("DUPLICATE_COLUMN_NAME", f"Column '{duplicate[0]}' already exists")
        self._columns_update(table, table.columns + added)
        return no_rows(statement)

    def _alter_replace_columns(self, ctx: QueryContext, statement: Statement) -> Outcome:
        alter, name = self._alter(statement)
        table = self._table(ctx, name)
        replaced: list[Column] = []
        for action in alter.args.get("actions") or []:
            replaced += column_defs(exp.Schema(expressions=[d.copy() for d in action.find_all(exp.ColumnDef)]))
        self._columns_update(table, replaced)
        return no_rows(statement)

    def _alter_change_column(self, ctx: QueryContext, statement: Statement) -> Outcome:
        _, name = self._alter(statement)
        table = self._table(ctx, name)
        pattern = (r"\bCHANGE\s+(?:COLUMN\s+)?([`\"]?)(\w+)\1\s+([`\"]?)(\w+)\3\s+(.+?)"
                   r"(?:\s+COMMENT\s+'(.*)')?\s*$")
        match = re.search(pattern, statement.text, re.I | re.S)
        if not match:
            raise AthenaQueryError("SYNTAX_ERROR", "ALTER TABLE ... CHANGE [COLUMN] old new type [COMMENT '...']")
        old, new, type_text, comment = match.group(2).lower(), match.group(4).lower(), match.group(5), match.group(6)
        columns = list(table.columns)
        index = next((i for i, c in enumerate(columns) if c.name == old), None)
        if index is None:
            raise AthenaQueryError("COLUMN_NOT_FOUND", f"Column '{old}' does not exist in {table.qualified}")
        columns[index] = Column(new, HiveType.parse(type_text).hive(), comment or columns[index].comment)
        self._columns_update(table, columns)
        return no_rows(statement)

    def _alter_set_location(self, ctx: QueryContext, statement: Statement) -> Outcome:
        _, name = self._alter(statement)
        table = self._table(ctx, name)
        match = re.search(r"\bSET\s+LOCATION\s+'([^']+)'", statement.text, re.I)
        if not match:
            raise AthenaQueryError("SYNTAX_ERROR", "ALTER TABLE ... SET LOCATION 's3://...'")
        parse_s3_url(match.group(1))
        table_input = table.table_input()
        table_input["StorageDescriptor"] = dict(table_input.get("StorageDescriptor") or {},
                                                Location=match.group(1))
        self.catalog.update_table(table.database, table_input)
        return no_rows(statement)

    # ---- MSCK REPAIR TABLE ---------------------------------------------------------------
    def _msck(self, ctx: QueryContext, statement: Statement) -> Outcome:
        table = self._table(ctx, statement.details["table"])
        if not table.partition_keys:
            return no_rows(statement)
        keys = [k.name for k in table.partition_keys]
        root = folder(table.location)
        bucket, prefix = parse_s3_url(root)
        found: dict[tuple[str, ...], str] = {}
        for obj in self.objects.list(root):
            relative = obj.key[len(prefix):].split("/")[:-1]
            if len(relative) < len(keys):
                continue
            values = []
            for key, part in zip(keys, relative, strict=False):
                name, _, value = part.partition("=")
                if name.lower() != key or not _:
                    break
                values.append(_unescape(value))
            else:
                found[tuple(values)] = f"s3://{bucket}/{prefix}" + "/".join(relative[:len(keys)]) + "/"
        existing = {tuple(p.values) for p in self.catalog.partitions(table)}
        missing = sorted(set(found) - existing)
        self.catalog.create_partitions(table, [(list(v), found[v]) for v in missing])
        specs = ["/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True)) for values in missing]
        lines: list[list[str | None]] = []
        if specs:
            lines.append(["Partitions not in metastore:\t" + "\t".join(f"{table.name}:{s}" for s in specs)])
            lines += [[f"Repair: Added partition to metastore {table.name}:{s}"] for s in specs]
        return text_rows(["msck"], lines, statement) if lines else no_rows(statement)


def _dropped(drop: exp.Drop) -> exp.Table:
    tables = drop.args.get("tables") or ([drop.this] if drop.this is not None else [])
    if len(tables) != 1 or not isinstance(tables[0], exp.Table):
        raise AthenaQueryError("SYNTAX_ERROR", "DROP takes exactly one name")
    return tables[0]


def _unescape(value: str) -> str:
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), value)
