"""Athena: workgroup, data catalog and capacity reservation ARNs; a query execution's workgroup when it can be
resolved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localaws.iam.actions.model import Access, QueryResolver, RequestInfo, make_arn, one
from localaws.iam.actions.parsing import member_str

_ATHENA_QUERY_OPS = frozenset({"GetQueryExecution", "GetQueryResults", "StopQueryExecution",
                               "GetQueryRuntimeStatistics"})
_ATHENA_PRIMARY_DEFAULT = frozenset({"StartQueryExecution", "ListQueryExecutions", "ListNamedQueries",
                                     "CreateNamedQuery"})
_ATHENA_STAR = frozenset({"ListWorkGroups", "ListDataCatalogs", "ListEngineVersions", "ListCapacityReservations",
                          "ListApplicationDPUSizes"})
_ATHENA_CATALOG_OPS = frozenset({"CreateDataCatalog", "GetDataCatalog", "UpdateDataCatalog", "DeleteDataCatalog"})


def athena_accesses(
    request: RequestInfo, operation: str, params: Mapping[str, Any], workgroup_of_query: QueryResolver | None
) -> list[Access]:
    action = f"athena:{operation}"

    def workgroup(name: str) -> str:
        return make_arn("athena", request.region, request.account, f"workgroup/{name}")

    def catalog(name: str) -> str:
        return make_arn("athena", request.region, request.account, f"datacatalog/{name}")

    def of_query(query_id: Any) -> str:
        name = workgroup_of_query(query_id) if workgroup_of_query and isinstance(query_id, str) else None
        return workgroup(name or "*")  # unknown: workgroup/* (a policy on one named workgroup does not match)

    if operation in _ATHENA_STAR:
        return one(action)
    if operation in _ATHENA_QUERY_OPS:
        return one(action, of_query(params.get("QueryExecutionId")))
    if operation == "BatchGetQueryExecution":
        ids = params.get("QueryExecutionIds")
        resources = dict.fromkeys(of_query(i) for i in ids) if isinstance(ids, list) and ids else {workgroup("*"): 1}
        return [Access(action, (resource,), {}) for resource in resources]
    if operation in _ATHENA_CATALOG_OPS:
        name = member_str(params, "Name")
        return one(action, catalog(name)) if name else one(action)
    catalog_name = member_str(params, "CatalogName")
    if catalog_name:
        return one(action, catalog(catalog_name))
    if "CapacityReservation" in operation:
        name = member_str(params, "CapacityReservationName") or member_str(params, "Name")
        if name:
            return one(action, make_arn("athena", request.region, request.account, f"capacity-reservation/{name}"))
    resource_arn = member_str(params, "ResourceARN")
    if resource_arn:
        return one(action, resource_arn)
    name = member_str(params, "Name") if operation == "CreateWorkGroup" else member_str(params, "WorkGroup")
    if not name and operation in _ATHENA_PRIMARY_DEFAULT:
        name = "primary"
    return one(action, workgroup(name)) if name else one(action)
