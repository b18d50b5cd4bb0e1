"""The reconciliation's pure helpers: the Query page parser against botocore's, window labels, the comparison's
order of mismatches."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.parsers import ResponseParserFactory

from orchestration.defs.quality.compare import reconcile
from orchestration.defs.quality.dynamodb_client import (
    QueryPageParserFactory,
    plain_json_page,
    reconciliation_client,
)
from orchestration.defs.quality.sources import window_label

MODEL = botocore.session.get_session().get_service_model("dynamodb")
HEADERS = {"x-amzn-requestid": "REQ1", "content-type": "application/x-amz-json-1.0", "x-amz-crc32": "1"}
ITEM = {"StatusTime": {"S": "2026-12-05 13:00:00.000"}, "Distance": {"N": "1804.77"},
        "MinHealthPoints": {"N": "151"}, "RecordCount": {"N": "60"}}
PAGE = {"Count": 2, "ScannedCount": 2, "Items": [ITEM, {**ITEM, "StatusTime": {"S": "2026-12-05 13:01:00.000"}}],
        "LastEvaluatedKey": {"Name": {"S": "Shadowfax"}, "StatusTime": {"S": "2026-12-05 13:01:00.000"}},
        "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.5}}
EVERY_TYPE = {**ITEM, "Tags": {"SS": ["a", "b"]}, "Counts": {"NS": ["1", "2.5"]}, "Gone": {"NULL": True},
              "Ok": {"BOOL": False}, "Nested": {"M": {"x": {"L": [{"S": "y"}, {"N": "3"}]}}},
              "Quote": {"S": 'say "B" and "BS"'}}


def parse(factory: ResponseParserFactory, body: bytes, operation: str = "Query", status: int = 200) -> Any:
    operation_model = MODEL.operation_model(operation)
    shape = operation_model.output_shape if status < 300 else None
    response = {"body": body, "headers": HEADERS, "status_code": status}
    return factory.create_parser(MODEL.resolved_protocol).parse(response, shape)


@pytest.mark.parametrize("page", [PAGE, {**PAGE, "Items": [EVERY_TYPE]}, {"Count": 0, "ScannedCount": 0, "Items": []}],
                         ids=["page", "every-type", "empty"])
def test_query_pages_parse_as_botocore_parses_them(page: dict[str, Any]) -> None:
    body = json.dumps(page).encode()
    assert parse(QueryPageParserFactory(), body) == parse(ResponseParserFactory(), body)


def test_binary_attributes_take_botocores_path() -> None:
    page = {"Count": 1, "ScannedCount": 1, "Items": [{**ITEM, "Blob": {"B": "aGk="}, "Blobs": {"BS": ["aGk="]}}]}
    body = json.dumps(page).encode()
    assert not plain_json_page(body, MODEL.operation_model("Query").output_shape)
    parsed = parse(QueryPageParserFactory(), body)
    assert parsed["Items"][0]["Blob"] == {"B": b"hi"} and parsed["Items"][0]["Blobs"] == {"BS": [b"hi"]}
    assert parsed == parse(ResponseParserFactory(), body)


def test_other_operations_and_errors_are_botocores() -> None:
    query_output = MODEL.operation_model("Query").output_shape
    assert not plain_json_page(b'{"Item": {}}', MODEL.operation_model("GetItem").output_shape)
    assert not plain_json_page(b"", query_output) and plain_json_page(b'{"Items": []}', query_output)
    error = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                        "message": "slow down"}).encode()
    fast, slow = parse(QueryPageParserFactory(), error, status=400), parse(ResponseParserFactory(), error, status=400)
    assert fast == slow and fast["Error"]["Code"] == "ProvisionedThroughputExceededException"


def test_the_client_is_configured_as_the_resource_configures_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.defs.platform.resources import DynamoDBResource

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    client = reconciliation_client(DynamoDBResource(max_attempts=3), 16)
    assert client.meta.endpoint_url == "http://127.0.0.1:9" and client.meta.region_name == "eu-west-1"
    assert client.meta.config.max_pool_connections == 16
    assert client.meta.config.retries == DynamoDBResource(max_attempts=3).get_client().meta.config.retries


def test_window_label() -> None:
    assert window_label(1764939600) == "2025-12-05 13:00:00.000"
    assert window_label(1764939660) == window_label(1764939660) == "2025-12-05 13:01:00.000"


def test_mismatches_come_sorted_by_key() -> None:
    item = {"Distance": 1.0, "MinHealthPoints": 1, "MaxHealthPoints": 1, "MinMagicPoints": 1, "MaxMagicPoints": 1,
            "RecordCount": 1}
    archive = {("B", "w2"): item, ("A", "w1"): item, ("C", "w1"): {**item, "RecordCount": 2}, ("D", "w1"): item}
    dynamodb = {("D", "w1"): item, ("C", "w1"): item, ("A", "w0"): item, ("B", "w1"): item}
    result = reconcile(archive, dynamodb)
    assert [(m.kind, m.name, m.window) for m in result.mismatches] == [
        ("extra", "A", "w0"), ("missing", "A", "w1"), ("extra", "B", "w1"), ("missing", "B", "w2"),
        ("differs", "C", "w1")]
    assert result.matched == 1 and (result.archive_windows, result.dynamodb_items) == (4, 4)
