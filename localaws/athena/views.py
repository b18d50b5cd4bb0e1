"""Athena views in Glue: TableType VIRTUAL_VIEW, the view as ``/* Presto View: <base64 json> */`` in
ViewOriginalText (json: originalSql, catalog, schema, columns [{name, type}] with Trino types), and
the same columns with Hive types in the storage descriptor, so Glue readers (dbt docs) see them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from localaws.athena.catalog import DEFAULT_CATALOG, TableInfo
from localaws.athena.errors import AthenaQueryError

_PRESTO_VIEW = re.compile(r"/\*\s*Presto View:\s*([A-Za-z0-9+/=\s]+?)\s*\*/", re.S)


@dataclass
class ViewDefinition:
    original_sql: str
    catalog: str
    schema: str
    columns: list[dict[str, str]]  # [{"name": ..., "type": trino type}]


def decode(table: TableInfo) -> ViewDefinition:
    text = table.view_original_text or ""
    match = _PRESTO_VIEW.search(text)
    if not match:
        if text.strip() and not text.strip().startswith("/*"):  # a Hive view: plain SQL text
            return ViewDefinition(text.strip(), DEFAULT_CATALOG, table.database, [])
        raise AthenaQueryError("HIVE_METASTORE_ERROR",
                               f"View {table.qualified} has no Presto view definition in ViewOriginalText")
    try:
        payload: dict[str, Any] = json.loads(base64.b64decode("".join(match.group(1).split())))
    except (binascii.Error, ValueError):
        raise AthenaQueryError("HIVE_METASTORE_ERROR", f"View {table.qualified} has a corrupt definition") from None
    return ViewDefinition(
        original_sql=str(payload.get("originalSql", "")),
        catalog=str(payload.get("catalog") or DEFAULT_CATALOG),
        schema=str(payload.get("schema") or table.database),
        columns=[{"name": str(c["name"]), "type": str(c["type"])} for c in payload.get("columns", [])],
    )


def encode(definition: ViewDefinition) -> str:
    payload = {
        "originalSql": definition.original_sql,
        "catalog": definition.catalog,
        "schema": definition.schema,
        "columns": definition.columns,
        "owner": "wildrydes-local",
        "runAsInvoker": False,
        "properties": {},
    }
    encoded = base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return f"/* Presto View: {encoded} */"


def table_input(name: str, definition: ViewDefinition, hive_columns: list[dict[str, str]],
                comment: str | None = None) -> dict[str, Any]:
    parameters = {"presto_view": "true", "comment": "Presto View"}
    table: dict[str, Any] = {
        "Name": name,
        "TableType": "VIRTUAL_VIEW",
        "Parameters": parameters,
        "ViewOriginalText": encode(definition),
        "ViewExpandedText": "/* Presto View */",
        "PartitionKeys": [],
        "StorageDescriptor": {
            "Columns": hive_columns,
            "Location": "",
            "InputFormat": "",
            "OutputFormat": "",
            "Compressed": False,
            "NumberOfBuckets": 0,
            "SerdeInfo": {},
            "SortColumns": [],
            "StoredAsSubDirectories": False,
        },
    }
    if comment:
        table["Description"] = comment
    return table
