"""Glue: the catalog, database and table (or function) ARNs each Data Catalog operation needs, all of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localaws.iam.actions.model import Access, RequestInfo, UnmappedRequest, make_arn, one
from localaws.iam.actions.parsing import member_str

_GLUE_TABLE_OPS = frozenset({
    "GetTable", "GetTableVersion", "GetTableVersions", "GetPartition", "GetPartitions", "BatchCreatePartition",
    "CreatePartition", "BatchGetPartition", "UpdateTable", "DeleteTable", "BatchDeletePartition", "DeletePartition",
    "UpdatePartition", "CreateTable",
})
_GLUE_DATABASE_OPS = frozenset({"GetDatabase", "CreateDatabase", "UpdateDatabase", "DeleteDatabase"})
_GLUE_FUNCTION_OPS = frozenset({"GetUserDefinedFunction", "CreateUserDefinedFunction", "UpdateUserDefinedFunction",
                                "DeleteUserDefinedFunction"})


def _nested(params: Mapping[str, Any], outer: str, inner: str) -> str | None:
    value = params.get(outer)
    return member_str(value, inner) if isinstance(value, dict) else None


def glue_accesses(request: RequestInfo, operation: str, params: Mapping[str, Any]) -> list[Access]:
    action = f"glue:{operation}"
    catalog_id = member_str(params, "CatalogId") or member_str(params, "CatalogID") or request.account
    account = catalog_id.split(":", 1)[0]  # federated catalog ids ("acct:s3tablescatalog/...") keep the account

    def arn(resource: str) -> str:
        return make_arn("glue", request.region, account, resource)

    catalog = arn("catalog")
    database = member_str(params, "DatabaseName")
    if operation in _GLUE_DATABASE_OPS:
        name = _nested(params, "DatabaseInput", "Name") if operation == "CreateDatabase" else member_str(params, "Name")
        return one(action, catalog, arn(f"database/{name}")) if name else one(action)
    if operation == "GetDatabases":
        return one(action, catalog, arn("database/*"))
    if operation == "SearchTables":
        return one(action, catalog, arn("database/*"), arn("table/*/*"))
    if operation == "GetTables":
        return one(action, catalog, arn(f"database/{database}"), arn(f"table/{database}/*")) if database \
            else one(action)
    if operation == "BatchDeleteTable":
        tables = params.get("TablesToDelete")
        if not database or not isinstance(tables, list) or not all(isinstance(t, str) for t in tables):
            raise UnmappedRequest("BatchDeleteTable without DatabaseName and TablesToDelete")
        return one(action, catalog, arn(f"database/{database}"), *(arn(f"table/{database}/{t}") for t in tables))
    if operation in _GLUE_FUNCTION_OPS:
        function = member_str(params, "FunctionName") or _nested(params, "FunctionInput", "FunctionName")
        if database and function:
            return one(action, catalog, arn(f"database/{database}"),
                        arn(f"userDefinedFunction/{database}/{function}"))
        return one(action)
    table = member_str(params, "TableName")
    if operation in _GLUE_TABLE_OPS and not table:
        table = member_str(params, "Name") or _nested(params, "TableInput", "Name")
    if database and table and (operation in _GLUE_TABLE_OPS or "ResourceArn" not in params):
        return one(action, catalog, arn(f"database/{database}"), arn(f"table/{database}/{table}"))
    return one(action)
