"""Tables in Glue: CREATE EXTERNAL TABLE (Hive DDL -> Glue table; with TBLPROPERTIES ('table_type'=
'ICEBERG') an empty emulated Iceberg table, iceberg.py), DROP TABLE / DROP VIEW, and ALTER TABLE RENAME TO,
SET TBLPROPERTIES, ADD / REPLACE / CHANGE COLUMNS and SET LOCATION. A table's partitions are
ddl_partitions'.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlglot import exp

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
    TableInfo,
    storage_descriptor,
)
from localaws.athena.context import Handler, Outcome, QueryContext, StatementFamily, no_rows
from localaws.athena.errors import AthenaQueryError
from localaws.athena.iceberg import register_iceberg
from localaws.athena.objects import ObjectStore, folder, parse_s3_url
from localaws.athena.statements import Statement
from localaws.athena.syntax import TableName, table_name
from localaws.athena.types import HiveType

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


def dropped(drop: exp.Drop) -> exp.Table:
    tables = drop.args.get("tables") or ([drop.this] if drop.this is not None else [])
    if len(tables) != 1 or not isinstance(tables[0], exp.Table):
        raise AthenaQueryError("SYNTAX_ERROR", "DROP takes exactly one name")
    return tables[0]


def drop_data_if_managed(objects: ObjectStore, table: TableInfo) -> None:
    """Athena deletes an Iceberg table's data with the table; Hive tables keep theirs."""
    if table.is_iceberg and table.location:
        objects.delete_prefix(table.location)


class Tables(StatementFamily):
    def handlers(self) -> dict[str, Handler]:
        return {"create_table": self.create_table, "drop_table": self.drop_table, "drop_view": self.drop_table,
                "alter_rename": self.alter_rename, "alter_set_properties": self.alter_set_properties,
                "alter_add_columns": self.alter_add_columns, "alter_replace_columns": self.alter_replace_columns,
                "alter_change_column": self.alter_change_column, "alter_set_location": self.alter_set_location}

    def create_table(self, ctx: QueryContext, statement: Statement) -> Outcome:
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
            return self._create_iceberg(statement, database, name, columns, location, table_properties,
                                        partition_keys)
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

    def _create_iceberg(self, statement: Statement, database: str, name: str, columns: list[Column], location: str,
                        properties: dict[str, str], partition_keys: list[Column]) -> Outcome:
        if self.objects.has_objects(folder(location) + "data/"):
            raise AthenaQueryError("HIVE_PATH_ALREADY_EXISTS", f"Location {location} is not empty")
        partitioning = [k.name for k in partition_keys]
        register_iceberg(self.catalog, database, name, columns + partition_keys, folder(location), partitioning,
                         {k.lower(): v for k, v in properties.items()})
        return no_rows(statement)

    def drop_table(self, ctx: QueryContext, statement: Statement) -> Outcome:
        drop = statement.ast
        assert isinstance(drop, exp.Drop)
        target = table_name(dropped(drop))
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
        drop_data_if_managed(self.objects, table)
        self.catalog.delete_table(database, name)
        return no_rows(statement)

    def _alter(self, statement: Statement) -> tuple[exp.Alter, TableName]:
        alter = statement.ast
        assert isinstance(alter, exp.Alter)
        return alter, table_name(alter.this)

    def alter_rename(self, ctx: QueryContext, statement: Statement) -> Outcome:
        alter, name = self._alter(statement)
        table = self.table(ctx, name)
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

    def alter_set_properties(self, ctx: QueryContext, statement: Statement) -> Outcome:
        alter, name = self._alter(statement)
        table = self.table(ctx, name)
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

    def alter_add_columns(self, ctx: QueryContext, statement: Statement) -> Outcome:
        alter, name = self._alter(statement)
        table = self.table(ctx, name)
        added: list[Column] = []
        for action in alter.args.get("actions") or []:
            added += column_defs(exp.Schema(expressions=[d.copy() for d in action.find_all(exp.ColumnDef)]))
        existing = {c.name for c in table.columns}
        duplicate = [c.name for c in added if c.name in existing]
        if duplicate:
            raise AthenaQueryError("DUPLICATE_COLUMN_NAME", f"Column '{duplicate[0]}' already exists")
        self._columns_update(table, table.columns + added)
        return no_rows(statement)

    def alter_replace_columns(self, ctx: QueryContext, statement: Statement) -> Outcome:
        alter, name = self._alter(statement)
        table = self.table(ctx, name)
        replaced: list[Column] = []
        for action in alter.args.get("actions") or []:
            replaced += column_defs(exp.Schema(expressions=[d.copy() for d in action.find_all(exp.ColumnDef)]))
        self._columns_update(table, replaced)
        return no_rows(statement)

    def alter_change_column(self, ctx: QueryContext, statement: Statement) -> Outcome:
        _, name = self._alter(statement)
        table = self.table(ctx, name)
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

    def alter_set_location(self, ctx: QueryContext, statement: Statement) -> Outcome:
        _, name = self._alter(statement)
        table = self.table(ctx, name)
        match = re.search(r"\bSET\s+LOCATION\s+'([^']+)'", statement.text, re.I)
        if not match:
            raise AthenaQueryError("SYNTAX_ERROR", "ALTER TABLE ... SET LOCATION 's3://...'")
        parse_s3_url(match.group(1))
        table_input = table.table_input()
        table_input["StorageDescriptor"] = dict(table_input.get("StorageDescriptor") or {},
                                                Location=match.group(1))
        self.catalog.update_table(table.database, table_input)
        return no_rows(statement)
