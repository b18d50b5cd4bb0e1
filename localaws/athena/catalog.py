"""The Glue Data Catalog as the engine uses it (through boto3 and AWS_ENDPOINT_URL), the storage
descriptor of the tables it creates, and Athena's name patterns (SHOW TABLES LIKE, ListTableMetadata).

Names are case-insensitive in Athena: Glue stores them lower-case, and every lookup here lower-cases.
Glue errors become Athena query errors (TABLE_NOT_FOUND, SCHEMA_NOT_FOUND, ALREADY_EXISTS, ...).
"""

from __future__ import annotations

import copy
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from localaws.athena.errors import AthenaQueryError

DEFAULT_CATALOG = "awsdatacatalog"

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
OPENX_JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
HIVE_JSON_SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"
ORC_SERDE = "org.apache.hadoop.hive.ql.io.orc.OrcSerde"
ORC_INPUT = "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat"
ORC_OUTPUT = "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat"
# Marks an Iceberg table this engine emulates with plain Parquet objects (see iceberg.py).
ICEBERG_EMULATION = "wildrydes.iceberg_emulation"


@dataclass
class Column:
    name: str
    type: str
    comment: str | None = None

    def glue(self) -> dict[str, str]:
        out = {"Name": self.name, "Type": self.type}
        if self.comment:
            out["Comment"] = self.comment
        return out


@dataclass
class TableInfo:
    database: str
    name: str
    table_type: str
    columns: list[Column]
    partition_keys: list[Column]
    location: str
    input_format: str
    output_format: str
    serde: str
    serde_params: dict[str, str]
    parameters: dict[str, str]
    view_original_text: str | None = None
    description: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    stamp: str | None = None  # Glue's mutation stamp when this was read (see mutation_stamp)

    @property
    def qualified(self) -> str:
        return f"{DEFAULT_CATALOG}.{self.database}.{self.name}"

    @property
    def is_view(self) -> bool:
        return self.table_type == "VIRTUAL_VIEW"

    @property
    def is_iceberg(self) -> bool:
        return self.parameters.get("table_type", "").upper() == "ICEBERG"

    @property
    def all_columns(self) -> list[Column]:
        return self.columns + self.partition_keys

    @property
    def format(self) -> str:
        """parquet | json | csv | text | orc | avro | unknown: how the table's objects are read."""
        serde = self.serde.lower()
        input_format = self.input_format.lower()
        classification = self.parameters.get("classification", "").lower()
        if self.is_iceberg or "parquet" in serde or "parquet" in input_format:
            return "parquet"
        if "json" in serde:
            return "json"
        if serde == OPEN_CSV_SERDE.lower():
            return "csv"
        if "orc" in serde or "orc" in input_format:
            return "orc"
        if "avro" in serde or "avro" in input_format:
            return "avro"
        if "lazysimpleserde" in serde or "textinputformat" in input_format:
            return "text"
        if classification in ("parquet", "json", "csv", "orc", "avro"):
            return classification
        return "unknown"

    def table_input(self) -> dict[str, Any]:
        """The Glue TableInput that recreates this table (for UpdateTable / CreateTable)."""
        allowed = ("Name", "Description", "Owner", "LastAccessTime", "LastAnalyzedTime", "Retention",
                   "StorageDescriptor", "PartitionKeys", "ViewOriginalText", "ViewExpandedText", "TableType",
                   "Parameters", "TargetTable")
        return {k: copy.deepcopy(v) for k, v in self.raw.items() if k in allowed}


@dataclass
class Partition:
    values: list[str]
    location: str
    raw: dict[str, Any] = field(default_factory=dict)

    def spec(self, keys: list[Column]) -> str:
        return "/".join(f"{k.name}={v}" for k, v in zip(keys, self.values, strict=False))


def table_from_glue(raw: dict[str, Any]) -> TableInfo:
    sd = raw.get("StorageDescriptor") or {}
    serde = sd.get("SerdeInfo") or {}
    return TableInfo(
        database=raw.get("DatabaseName", "").lower(),
        name=raw["Name"].lower(),
        table_type=raw.get("TableType") or "EXTERNAL_TABLE",
        columns=[Column(c["Name"].lower(), c.get("Type", "string"), c.get("Comment"))
                 for c in sd.get("Columns") or []],
        partition_keys=[Column(c["Name"].lower(), c.get("Type", "string"), c.get("Comment"))
                        for c in raw.get("PartitionKeys") or []],
        location=sd.get("Location") or "",
        input_format=sd.get("InputFormat") or "",
        output_format=sd.get("OutputFormat") or "",
        serde=serde.get("SerializationLibrary") or "",
        serde_params=dict(serde.get("Parameters") or {}),
        parameters=dict(raw.get("Parameters") or {}),
        view_original_text=raw.get("ViewOriginalText"),
        description=raw.get("Description"),
        raw=raw,
    )


def storage_descriptor(columns: list[Column], location: str, serde: str, input_format: str, output_format: str,
                       serde_params: dict[str, str]) -> dict[str, Any]:
    """The Glue StorageDescriptor of a table written or declared here."""
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


def athena_like_to_regex(pattern: str) -> re.Pattern[str]:
    """SHOW TABLES/DATABASES patterns: '*' matches anything, '|' separates alternatives."""
    parts = [re.escape(p.strip()).replace(r"\*", ".*") for p in pattern.split("|")]
    return re.compile("^(" + "|".join(parts) + ")$", re.I)


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


MUTATIONS_HEADER = "x-wildrydes-mutations"


def mutation_stamp(response: dict[str, Any]) -> str | None:
    """The local endpoint's count of mutations of what a response was read from (Glue; an S3 bucket),
    taken before the read was served: two responses with the same stamp saw the same state. None when
    the endpoint does not say (then nothing is cached)."""
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    return headers.get(MUTATIONS_HEADER) or None


PARTITION_CACHE_ENTRIES = 256


class Catalog:
    def __init__(self, glue: Any) -> None:
        self.glue = glue
        # (database, table, expression) -> (Glue's stamp, partitions): reused by queries while Glue's
        # stamp is unchanged, i.e. while nothing in Glue has changed (see planned_partitions)
        self._partitions: OrderedDict[tuple[str, str, str], tuple[str, list[Partition]]] = OrderedDict()
        self._partitions_lock = threading.Lock()

    def _fail(self, error: ClientError, what: str) -> AthenaQueryError:
        code = _code(error)
        message = error.response.get("Error", {}).get("Message", str(error))
        if code == "EntityNotFoundException":
            return AthenaQueryError("ENTITY_NOT_FOUND", f"{what}: {message}")
        if code == "AlreadyExistsException":
            return AthenaQueryError("ALREADY_EXISTS", f"{what}: {message}")
        if code in ("InvalidInputException", "ValidationException"):
            return AthenaQueryError("INVALID_TABLE_PROPERTY", f"{what}: {message}")
        return AthenaQueryError("HIVE_METASTORE_ERROR", f"{what}: {message}")

    # ---- databases -----------------------------------------------------------------------
    def get_database(self, name: str) -> dict[str, Any] | None:
        try:
            return self.glue.get_database(Name=name.lower())["Database"]
        except ClientError as error:
            if _code(error) == "EntityNotFoundException":
                return None
            raise self._fail(error, f"Reading database {name}") from None

    def stamp(self, database: str) -> str | None:
        """Glue's mutation stamp (one scope for all of Glue) by its cheapest read, GetDatabase; None when the
        database is gone or the endpoint does not say."""
        try:
            return mutation_stamp(self.glue.get_database(Name=database.lower()))
        except ClientError:
            return None

    def require_database(self, name: str) -> dict[str, Any]:
        database = self.get_database(name)
        if database is None:
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{name.lower()}' does not exist")
        return database

    def list_databases(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = self.glue.get_databases(**kwargs)
            out += page.get("DatabaseList", [])
            if not page.get("NextToken"):
                return out
            kwargs["NextToken"] = page["NextToken"]

    def create_database(self, database_input: dict[str, Any]) -> None:
        try:
            self.glue.create_database(DatabaseInput=database_input)
        except ClientError as error:
            if _code(error) == "AlreadyExistsException":
                raise AthenaQueryError("SCHEMA_ALREADY_EXISTS",
                                       f"Schema '{database_input['Name']}' already exists") from None
            raise self._fail(error, f"Creating database {database_input['Name']}") from None

    def delete_database(self, name: str) -> None:
        try:
            self.glue.delete_database(Name=name.lower())
        except ClientError as error:
            raise self._fail(error, f"Dropping database {name}") from None

    # ---- tables --------------------------------------------------------------------------
    def get_table(self, database: str, name: str) -> TableInfo | None:
        try:
            response = self.glue.get_table(DatabaseName=database.lower(), Name=name.lower())
        except ClientError as error:
            if _code(error) == "EntityNotFoundException":
                return None
            raise self._fail(error, f"Reading table {database}.{name}") from None
        raw = response["Table"]
        raw.setdefault("DatabaseName", database.lower())
        table = table_from_glue(raw)
        table.stamp = mutation_stamp(response)
        return table

    def require_table(self, database: str, name: str, position: str = "") -> TableInfo:
        table = self.get_table(database, name)
        if table is None:
            if self.get_database(database) is None:
                raise AthenaQueryError("SCHEMA_NOT_FOUND", f"{position}Schema '{database.lower()}' does not exist")
            qualified = f"{DEFAULT_CATALOG}.{database.lower()}.{name.lower()}"
            raise AthenaQueryError("TABLE_NOT_FOUND", f"{position}Table '{qualified}' does not exist")
        return table

    def list_tables(self, database: str) -> list[TableInfo]:
        out: list[TableInfo] = []
        kwargs: dict[str, Any] = {"DatabaseName": database.lower()}
        try:
            while True:
                page = self.glue.get_tables(**kwargs)
                for raw in page.get("TableList", []):
                    raw.setdefault("DatabaseName", database.lower())
                    out.append(table_from_glue(raw))
                if not page.get("NextToken"):
                    return out
                kwargs["NextToken"] = page["NextToken"]
        except ClientError as error:
            if _code(error) == "EntityNotFoundException":
                raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{database.lower()}' does not exist") from None
            raise self._fail(error, f"Listing tables of {database}") from None

    def create_table(self, database: str, table_input: dict[str, Any]) -> None:
        try:
            self.glue.create_table(DatabaseName=database.lower(), TableInput=table_input)
        except ClientError as error:
            if _code(error) == "AlreadyExistsException":
                raise AthenaQueryError(
                    "TABLE_ALREADY_EXISTS",
                    f"Table '{DEFAULT_CATALOG}.{database.lower()}.{table_input['Name']}' already exists") from None
            if _code(error) == "EntityNotFoundException":
                raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{database.lower()}' does not exist") from None
            raise self._fail(error, f"Creating table {database}.{table_input['Name']}") from None

    def update_table(self, database: str, table_input: dict[str, Any]) -> None:
        try:
            self.glue.update_table(DatabaseName=database.lower(), TableInput=table_input)
        except ClientError as error:
            raise self._fail(error, f"Updating table {database}.{table_input['Name']}") from None

    def delete_table(self, database: str, name: str) -> None:
        try:
            self.glue.delete_table(DatabaseName=database.lower(), Name=name.lower())
        except ClientError as error:
            raise self._fail(error, f"Dropping table {database}.{name}") from None

    # ---- partitions ----------------------------------------------------------------------
    def partitions(self, table: TableInfo, expression: str | None = None) -> list[Partition]:
        return list(self.iter_partitions(table, expression))

    def kept_partitions(self, table: TableInfo, expression: str | None = None) -> list[Partition] | None:
        """The partitions last read with the stamp ``table`` was read with, if any (no request)."""
        if table.stamp is None:
            return None
        key = (table.database, table.name, expression or "")
        with self._partitions_lock:
            cached = self._partitions.get(key)
            if cached is None or cached[0] != table.stamp:
                return None
            self._partitions.move_to_end(key)
            return list(cached[1])

    def planned_partitions(self, table: TableInfo, expression: str | None = None) -> list[Partition]:
        """The partitions a query reads. When Glue's stamp is the one ``table`` was read with (in this
        query) and the partitions were last read with that same stamp, Glue has not changed since they
        were read, and they are reused instead of read again (GetPartitions is a slow call)."""
        kept = self.kept_partitions(table, expression)
        if kept is not None:
            return kept
        key = (table.database, table.name, expression or "")
        stamps: list[str | None] = []
        found = list(self.iter_partitions(table, expression, stamps))
        if stamps and stamps[0] is not None and all(s == stamps[0] for s in stamps):
            with self._partitions_lock:
                self._partitions[key] = (stamps[0], found)
                self._partitions.move_to_end(key)
                while len(self._partitions) > PARTITION_CACHE_ENTRIES:
                    self._partitions.popitem(last=False)
        return list(found)

    def iter_partitions(self, table: TableInfo, expression: str | None = None,
                        stamps: list[str | None] | None = None) -> Iterator[Partition]:
        kwargs: dict[str, Any] = {"DatabaseName": table.database, "TableName": table.name}
        if expression:
            kwargs["Expression"] = expression
        try:
            while True:
                page = self.glue.get_partitions(**kwargs)
                if stamps is not None:
                    stamps.append(mutation_stamp(page))
                for raw in page.get("Partitions", []):
                    location = (raw.get("StorageDescriptor") or {}).get("Location") or ""
                    yield Partition([str(v) for v in raw.get("Values", [])], location, raw)
                if not page.get("NextToken"):
                    return
                kwargs["NextToken"] = page["NextToken"]
        except ClientError as error:
            raise self._fail(error, f"Reading partitions of {table.qualified}") from None

    def get_partition(self, table: TableInfo, values: list[str]) -> Partition | None:
        try:
            raw = self.glue.get_partition(DatabaseName=table.database, TableName=table.name,
                                          PartitionValues=values)["Partition"]
        except ClientError as error:
            if _code(error) == "EntityNotFoundException":
                return None
            raise self._fail(error, f"Reading a partition of {table.qualified}") from None
        return Partition([str(v) for v in raw.get("Values", [])],
                         (raw.get("StorageDescriptor") or {}).get("Location") or "", raw)

    def create_partitions(self, table: TableInfo, partitions: list[tuple[list[str], str]],
                          if_not_exists: bool = True) -> int:
        """Register partitions (values, location), with the table's storage descriptor."""
        inputs = []
        sd = (table.raw.get("StorageDescriptor") or {})
        for values, location in partitions:
            descriptor = copy.deepcopy(sd)
            descriptor["Location"] = location
            descriptor.pop("Columns", None)
            descriptor["Columns"] = [c.glue() for c in table.columns]
            inputs.append({"Values": values, "StorageDescriptor": descriptor})
        created = 0
        for start in range(0, len(inputs), 100):
            chunk = inputs[start:start + 100]
            try:
                response = self.glue.batch_create_partition(DatabaseName=table.database, TableName=table.name,
                                                            PartitionInputList=chunk)
            except ClientError as error:
                raise self._fail(error, f"Adding partitions to {table.qualified}") from None
            errors = response.get("Errors", [])
            for error in errors:
                code = error.get("ErrorDetail", {}).get("ErrorCode", "")
                if code == "AlreadyExistsException" and if_not_exists:
                    continue
                values = error.get("PartitionValues", [])
                spec = "/".join(f"{k.name}={v}" for k, v in zip(table.partition_keys, values, strict=False))
                if code == "AlreadyExistsException":
                    raise AthenaQueryError("ALREADY_EXISTS", f"Partition already exists: {spec}")
                raise AthenaQueryError("HIVE_METASTORE_ERROR",
                                       f"Adding partition {spec}: {error.get('ErrorDetail', {})}")
            created += len(chunk) - len(errors)
        return created

    def delete_partitions(self, table: TableInfo, values_list: list[list[str]]) -> None:
        for start in range(0, len(values_list), 25):
            chunk = values_list[start:start + 25]
            try:
                self.glue.batch_delete_partition(
                    DatabaseName=table.database, TableName=table.name,
                    PartitionsToDelete=[{"Values": values} for values in chunk])
            except ClientError as error:
                raise self._fail(error, f"Dropping partitions of {table.qualified}") from None
