"""IAM authorizations of Glue, Firehose, Athena and CloudWatch Logs requests (localaws.iam.actions)."""

from __future__ import annotations

from typing import Any

import pytest

from localaws.iam.actions import Access, accesses
from tests.support.iam_requests import ACCOUNT, REGION, json_request, one, pairs

# ------------------------------------------------------------------------------------------------ Glue


def glue(resource: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:glue:{REGION}:{account}:{resource}"


@pytest.mark.parametrize(("operation", "body", "resources"), [
    ("GetTable", {"DatabaseName": "db", "Name": "t"}, ("catalog", "database/db", "table/db/t")),
    ("CreateTable", {"DatabaseName": "db", "TableInput": {"Name": "t"}}, ("catalog", "database/db", "table/db/t")),
    ("UpdateTable", {"DatabaseName": "db", "TableInput": {"Name": "t"}}, ("catalog", "database/db", "table/db/t")),
    ("DeleteTable", {"DatabaseName": "db", "Name": "t"}, ("catalog", "database/db", "table/db/t")),
    ("GetPartitions", {"DatabaseName": "db", "TableName": "t"}, ("catalog", "database/db", "table/db/t")),
    ("BatchCreatePartition", {"DatabaseName": "db", "TableName": "t", "PartitionInputList": []},
     ("catalog", "database/db", "table/db/t")),
    ("GetTableVersions", {"DatabaseName": "db", "TableName": "t"}, ("catalog", "database/db", "table/db/t")),
    ("GetTables", {"DatabaseName": "db"}, ("catalog", "database/db", "table/db/*")),
    ("SearchTables", {}, ("catalog", "database/*", "table/*/*")),
    ("GetDatabase", {"Name": "db"}, ("catalog", "database/db")),
    ("CreateDatabase", {"DatabaseInput": {"Name": "db"}}, ("catalog", "database/db")),
    ("DeleteDatabase", {"Name": "db"}, ("catalog", "database/db")),
    ("GetDatabases", {}, ("catalog", "database/*")),
    ("BatchDeleteTable", {"DatabaseName": "db", "TablesToDelete": ["a", "b"]},
     ("catalog", "database/db", "table/db/a", "table/db/b")),
])
def test_glue_hierarchy(operation: str, body: dict[str, Any], resources: tuple[str, ...]) -> None:
    assert one(json_request("glue", operation, body)) == Access(f"glue:{operation}", tuple(map(glue, resources)))


def test_glue_catalog_id_and_others() -> None:
    access = one(json_request("glue", "GetTable", {"CatalogId": "111122223333", "DatabaseName": "d", "Name": "t"}))
    assert access.resources == (glue("catalog", "111122223333"), glue("database/d", "111122223333"),
                                glue("table/d/t", "111122223333"))
    assert one(json_request("glue", "GetJobs", {})) == Access("glue:GetJobs", ("*",))


# ------------------------------------------------------------------------------------------------ Firehose, Athena


def test_firehose() -> None:
    assert one(json_request("firehose", "PutRecordBatch", {"DeliveryStreamName": "d", "Records": []})).resources == (
        f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/d",)
    assert one(json_request("firehose", "ListDeliveryStreams")).resources == ("*",)


def workgroup(name: str) -> str:
    return f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{name}"


@pytest.mark.parametrize(("operation", "body", "resource"), [
    ("StartQueryExecution", {"QueryString": "SELECT 1"}, workgroup("primary")),
    ("StartQueryExecution", {"QueryString": "SELECT 1", "WorkGroup": "analysts"}, workgroup("analysts")),
    ("GetWorkGroup", {"WorkGroup": "w"}, workgroup("w")),
    ("CreateWorkGroup", {"Name": "w"}, workgroup("w")),
    ("UpdateWorkGroup", {"WorkGroup": "w"}, workgroup("w")),
    ("DeleteWorkGroup", {"WorkGroup": "w"}, workgroup("w")),
    ("ListQueryExecutions", {}, workgroup("primary")),
    ("ListNamedQueries", {"WorkGroup": "w"}, workgroup("w")),
    ("ListWorkGroups", {}, "*"),
    ("ListDataCatalogs", {}, "*"),
    ("ListDatabases", {"CatalogName": "AwsDataCatalog"},
     f"arn:aws:athena:{REGION}:{ACCOUNT}:datacatalog/AwsDataCatalog"),
    ("GetTableMetadata", {"CatalogName": "c", "DatabaseName": "d", "TableName": "t", "WorkGroup": "w"},
     f"arn:aws:athena:{REGION}:{ACCOUNT}:datacatalog/c"),
    ("GetDataCatalog", {"Name": "c", "WorkGroup": "w"}, f"arn:aws:athena:{REGION}:{ACCOUNT}:datacatalog/c"),
])
def test_athena(operation: str, body: dict[str, Any], resource: str) -> None:
    assert one(json_request("athena", operation, body)) == Access(f"athena:{operation}", (resource,))


def test_athena_query_execution_workgroups() -> None:
    request = json_request("athena", "GetQueryResults", {"QueryExecutionId": "q1"})
    assert one(request).resources == (workgroup("*"),)
    assert one(request, workgroup_of_query={"q1": "etl"}.get).resources == (workgroup("etl"),)
    batch = json_request("athena", "BatchGetQueryExecution", {"QueryExecutionIds": ["q1", "q2", "q3"]})
    resolved = accesses(batch, workgroup_of_query={"q1": "etl", "q2": "etl", "q3": "bi"}.get)
    assert pairs(resolved) == [("athena:BatchGetQueryExecution", (workgroup("etl"),)),
                               ("athena:BatchGetQueryExecution", (workgroup("bi"),))]


# ------------------------------------------------------------------------------------------------ Logs


def test_logs() -> None:
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/f"
    assert one(json_request("logs", "CreateLogGroup", {"logGroupName": "/aws/lambda/f"})).resources == (group,)
    for operation in ("CreateLogStream", "PutLogEvents", "GetLogEvents"):
        request = json_request("logs", operation, {"logGroupName": "/aws/lambda/f", "logStreamName": "s/1"})
        assert one(request).resources == (group + ":log-stream:s/1",)
    assert one(json_request("logs", "DescribeLogStreams", {"logGroupIdentifier": group + ":*"})).resources == (group,)
    assert one(json_request("logs", "DescribeLogGroups", {"logGroupNamePrefix": "/aws"})).resources == ("*",)
    query = json_request("logs", "StartQuery", {"logGroupNames": ["a", "b"], "queryString": "q"})
    assert [a.resources for a in accesses(query)] == [
        (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:a",), (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:b",)]
