"""Glue partitions of the raw table, registered idempotently (create, or update if it differs)."""

from __future__ import annotations

import copy
from typing import Any

from botocore.exceptions import ClientError


def partition_input(table: dict[str, Any], values: list[str]) -> dict[str, Any]:
    """The table's storage descriptor, located at ``<table location>dt=…/hour=…/``."""
    descriptor = copy.deepcopy(table["StorageDescriptor"])
    location = descriptor["Location"].rstrip("/") + "/"
    keys = [k["Name"] for k in table.get("PartitionKeys", [])]
    if len(keys) != len(values):
        raise ValueError(f"table {table['Name']} is partitioned by {keys}, got values {values}")
    descriptor["Location"] = location + "".join(f"{k}={v}/" for k, v in zip(keys, values, strict=True))
    return {"Values": values, "StorageDescriptor": descriptor}


def _same(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    have = existing.get("StorageDescriptor", {})
    want = wanted["StorageDescriptor"]
    fields = ("Location", "InputFormat", "OutputFormat", "Columns", "SerdeInfo")
    return all(have.get(f) == want.get(f) for f in fields)


def register_partition(glue: Any, database: str, table_name: str, values: list[str]) -> str:
    """Make the partition exist as the table says; returns ``created``, ``updated`` or ``unchanged``."""
    table = glue.get_table(DatabaseName=database, Name=table_name)["Table"]
    wanted = partition_input(table, values)
    try:
        existing = glue.get_partition(DatabaseName=database, TableName=table_name, PartitionValues=values)["Partition"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "EntityNotFoundException":
            raise
        try:
            glue.create_partition(DatabaseName=database, TableName=table_name, PartitionInput=wanted)
            return "created"
        except ClientError as race:
            if race.response["Error"]["Code"] != "AlreadyExistsException":
                raise
            existing = glue.get_partition(DatabaseName=database, TableName=table_name,
                                          PartitionValues=values)["Partition"]
    if _same(existing, wanted):
        return "unchanged"
    glue.update_partition(DatabaseName=database, TableName=table_name, PartitionValueList=values,
                          PartitionInput=wanted)
    return "updated"
