"""DynamoDB: table and index ARNs, per table for batches and per item for transactions, PartiQL statements by their
verb, and the dynamodb: condition keys."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from localaws.iam.actions.model import STAR, Access, ContextValue, RequestInfo, UnmappedRequest, make_arn, one
from localaws.iam.actions.parsing import member_str

_DYNAMODB_INDEX_OPS = frozenset({"Query", "Scan", "SearchVectors", "DescribeContributorInsights",
                                 "UpdateContributorInsights"})
_DYNAMODB_STAR = frozenset({"DescribeLimits", "DescribeEndpoints"})
_TRANSACT_WRITE = (("Put", "PutItem"), ("Update", "UpdateItem"), ("Delete", "DeleteItem"),
                   ("ConditionCheck", "ConditionCheckItem"))
_PARTIQL_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)'
_PARTIQL = {
    "SELECT": re.compile(rf"\bFROM\s+(?P<t>{_PARTIQL_NAME})(?:\s*\.\s*(?P<i>{_PARTIQL_NAME}))?", re.I),
    "INSERT": re.compile(rf"^\s*INSERT\s+INTO\s+(?P<t>{_PARTIQL_NAME})", re.I),
    "UPDATE": re.compile(rf"^\s*UPDATE\s+(?P<t>{_PARTIQL_NAME})", re.I),
    "DELETE": re.compile(rf"^\s*DELETE\s+FROM\s+(?P<t>{_PARTIQL_NAME})", re.I),
}


def _dynamodb_table(request: RequestInfo, name: str) -> str:
    return name if name.startswith("arn:") else make_arn("dynamodb", request.region, request.account, f"table/{name}")


def _dynamodb_context(params: Mapping[str, Any]) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {}
    for member, key in (("Select", "dynamodb:Select"), ("ReturnValues", "dynamodb:ReturnValues"),
                        ("ReturnConsumedCapacity", "dynamodb:ReturnConsumedCapacity")):
        value = member_str(params, member)
        if value:
            context[key] = value
    item_key = params.get("Key")
    if isinstance(item_key, dict) and len(item_key) == 1:  # only a hash-key-only table's Key names its partition key
        (value,) = item_key.values()
        if isinstance(value, dict) and len(value) == 1:
            (leading,) = value.values()
            if isinstance(leading, str):
                context["dynamodb:LeadingKeys"] = (leading,)
    return context


def _partiql(request: RequestInfo, statement: Any) -> Access:
    if not isinstance(statement, str) or not statement.strip():
        raise UnmappedRequest("a PartiQL request without a statement")
    verb = statement.split(None, 1)[0].upper()
    if verb == "EXISTS":
        verb = "SELECT"
    if verb not in _PARTIQL:
        raise UnmappedRequest(f"an unknown PartiQL statement: {statement[:40]!r}")
    action = f"dynamodb:PartiQL{verb.title()}"
    match = _PARTIQL[verb].search(statement)
    if not match:
        return Access(action, (STAR,), {})

    def name(token: str) -> str:
        return token[1:-1].replace('""', '"') if token.startswith('"') else token

    table = _dynamodb_table(request, name(match.group("t")))
    index = match.groupdict().get("i")
    return Access(action, (f"{table}/index/{name(index)}" if index else table,), {})


def dynamodb_accesses(request: RequestInfo, operation: str, params: Mapping[str, Any]) -> list[Access]:
    action = f"dynamodb:{operation}"
    if operation in ("BatchGetItem", "BatchWriteItem"):
        items = params.get("RequestItems")
        if not isinstance(items, dict) or not items:
            raise UnmappedRequest(f"{operation} without RequestItems")
        return [Access(action, (_dynamodb_table(request, table),), {}) for table in items]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return _dynamodb_transact(request, operation, params)
    if operation == "ExecuteStatement":
        return [_partiql(request, params.get("Statement"))]
    if operation in ("BatchExecuteStatement", "ExecuteTransaction"):
        statements = params.get("Statements" if operation == "BatchExecuteStatement" else "TransactStatements")
        if not isinstance(statements, list) or not statements:
            raise UnmappedRequest(f"{operation} without statements")
        return [_partiql(request, s.get("Statement") if isinstance(s, dict) else None) for s in statements]
    if operation in _DYNAMODB_STAR or (operation.startswith("List") and operation != "ListTagsOfResource"):
        return one(action)
    context = _dynamodb_context(params)
    table = member_str(params, "TableName")
    if operation == "ImportTable":
        creation = params.get("TableCreationParameters")
        table = member_str(creation, "TableName") if isinstance(creation, dict) else None
    if operation == "RestoreTableToPointInTime":
        table = member_str(params, "SourceTableArn") or member_str(params, "SourceTableName")
    if table:
        arn = _dynamodb_table(request, table)
        index = member_str(params, "IndexName")
        if index and operation in _DYNAMODB_INDEX_OPS:
            arn = f"{arn}/index/{index}"
        return one(action, arn, context=context)
    for member in ("TableArn", "ResourceArn", "BackupArn", "ExportArn", "ImportArn", "BulkOperationArn"):
        arn = member_str(params, member)
        if arn:
            return one(action, arn, context=context)
    global_table = member_str(params, "GlobalTableName")
    if global_table:
        return one(action, f"arn:aws:dynamodb::{request.account}:global-table/{global_table}")
    return one(action, context=context)


def _dynamodb_transact(request: RequestInfo, operation: str, params: Mapping[str, Any]) -> list[Access]:
    items = params.get("TransactItems")
    if not isinstance(items, list) or not items:
        raise UnmappedRequest(f"{operation} without TransactItems")
    kinds = _TRANSACT_WRITE if operation == "TransactWriteItems" else (("Get", "GetItem"),)
    result = []
    for item in items:
        for kind, item_action in kinds:
            entry = item.get(kind) if isinstance(item, dict) else None
            if isinstance(entry, dict):
                table = member_str(entry, "TableName")
                if not table:
                    raise UnmappedRequest(f"a {operation} {kind} without TableName")
                result.append(Access(f"dynamodb:{item_action}", (_dynamodb_table(request, table),),
                                     _dynamodb_context(entry)))
                break
        else:
            raise UnmappedRequest(f"a {operation} item of no known kind")
    return result
