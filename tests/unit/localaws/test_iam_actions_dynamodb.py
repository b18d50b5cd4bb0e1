"""IAM authorizations of DynamoDB requests (localaws.iam.actions): tables and indexes, batches, transactions,
PartiQL, condition keys."""

from __future__ import annotations

import pytest

from localaws.iam.actions import Access, UnmappedRequest, accesses
from tests.support.iam_requests import ACCOUNT, REGION, json_request, one, pairs


def table(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def test_dynamodb_item_operations_and_leading_keys() -> None:
    access = one(json_request("dynamodb", "GetItem", {"TableName": "Rides", "Key": {"RideId": {"S": "r1"}}}))
    assert access == Access("dynamodb:GetItem", (table("Rides"),), {"dynamodb:LeadingKeys": ("r1",)})
    composite = one(json_request("dynamodb", "DeleteItem", {
        "TableName": "T", "Key": {"a": {"S": "1"}, "b": {"N": "2"}}, "ReturnValues": "ALL_OLD"}))
    assert composite.context == {"dynamodb:ReturnValues": "ALL_OLD"}


def test_dynamodb_index_and_arn_table_names() -> None:
    assert one(json_request("dynamodb", "Query", {"TableName": "T", "IndexName": "ByUser"})).resources == (
        table("T") + "/index/ByUser",)
    assert one(json_request("dynamodb", "Scan", {"TableName": "T"})).resources == (table("T"),)
    arn = "arn:aws:dynamodb:us-west-2:111122223333:table/Other"
    assert one(json_request("dynamodb", "Scan", {"TableName": arn, "IndexName": "I"})).resources == (arn + "/index/I",)
    assert one(json_request("dynamodb", "PutItem", {"TableName": arn, "Item": {}})).resources == (arn,)


@pytest.mark.parametrize("operation", ["ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups"])
def test_dynamodb_account_operations(operation: str) -> None:
    assert one(json_request("dynamodb", operation)).resources == ("*",)


def test_dynamodb_batches_authorize_per_table() -> None:
    write = json_request("dynamodb", "BatchWriteItem", {"RequestItems": {"A": [], "B": []}})
    assert pairs(accesses(write)) == [("dynamodb:BatchWriteItem", (table("A"),)),
                                      ("dynamodb:BatchWriteItem", (table("B"),))]
    get = json_request("dynamodb", "BatchGetItem", {"RequestItems": {"A": {"Keys": []}}})
    assert pairs(accesses(get)) == [("dynamodb:BatchGetItem", (table("A"),))]
    with pytest.raises(UnmappedRequest):
        accesses(json_request("dynamodb", "BatchWriteItem", {"RequestItems": {}}))


def test_dynamodb_transactions_authorize_per_item() -> None:
    write = json_request("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "A", "Item": {}}},
        {"Update": {"TableName": "B", "Key": {"k": {"S": "v"}}}},
        {"Delete": {"TableName": "C", "Key": {}}},
        {"ConditionCheck": {"TableName": "A", "Key": {}, "ConditionExpression": "x"}},
    ]})
    assert pairs(accesses(write)) == [
        ("dynamodb:PutItem", (table("A"),)), ("dynamodb:UpdateItem", (table("B"),)),
        ("dynamodb:DeleteItem", (table("C"),)), ("dynamodb:ConditionCheckItem", (table("A"),))]
    assert accesses(write)[1].context == {"dynamodb:LeadingKeys": ("v",)}
    get = json_request("dynamodb", "TransactGetItems", {"TransactItems": [{"Get": {"TableName": "A", "Key": {}}}]})
    assert pairs(accesses(get)) == [("dynamodb:GetItem", (table("A"),))]


@pytest.mark.parametrize(("statement", "action", "resource"), [
    ('SELECT * FROM "Rides" WHERE RideId = ?', "dynamodb:PartiQLSelect", table("Rides")),
    ('select a FROM "Rides"."ByUser"', "dynamodb:PartiQLSelect", table("Rides") + "/index/ByUser"),
    ("INSERT INTO Rides VALUE {'a': 1}", "dynamodb:PartiQLInsert", table("Rides")),
    ('UPDATE "my-table" SET a = 1 WHERE k = 2', "dynamodb:PartiQLUpdate", table("my-table")),
    ("DELETE FROM Rides WHERE k = 1", "dynamodb:PartiQLDelete", table("Rides")),
])
def test_dynamodb_partiql(statement: str, action: str, resource: str) -> None:
    assert one(json_request("dynamodb", "ExecuteStatement", {"Statement": statement})) == Access(action, (resource,))
    batch = json_request("dynamodb", "BatchExecuteStatement", {"Statements": [{"Statement": statement}] * 2})
    assert pairs(accesses(batch)) == [(action, (resource,))] * 2


def test_dynamodb_other_resources() -> None:
    assert one(json_request("dynamodb", "DescribeGlobalTable", {"GlobalTableName": "G"})).resources == (
        f"arn:aws:dynamodb::{ACCOUNT}:global-table/G",)
    backup = table("T") + "/backup/01"
    assert one(json_request("dynamodb", "RestoreTableFromBackup", {"TargetTableName": "N", "BackupArn": backup})
               ).resources == (backup,)
    assert one(json_request("dynamodb", "TagResource", {"ResourceArn": table("T"), "Tags": []})).resources == (
        table("T"),)
