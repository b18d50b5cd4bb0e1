"""IAM authorizations of AWS API requests (localaws.iam.actions): unmappable requests, and every operation of the
SDK models mapped to its service's prefix. Per service: test_iam_actions_<service>.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import botocore.serialize
import pytest

from localaws.iam.actions import RequestInfo, UnmappedRequest, accesses, is_public, operation_of
from tests.support.iam_requests import ACCOUNT, REGION, one, query_request, service_model

# ------------------------------------------------------------------------------------------------ errors


def test_unmapped_requests() -> None:
    with pytest.raises(UnmappedRequest):
        accesses(RequestInfo("ec2", "DescribeInstances", "POST", "/", "", {}, b"", REGION, ACCOUNT))
    with pytest.raises(UnmappedRequest):  # a JSON service without a target
        operation_of(RequestInfo("kinesis", None, "POST", "/", "", {}, b"{}", REGION, ACCOUNT))
    with pytest.raises(UnmappedRequest):
        operation_of(query_request("sts", {"Version": "2011-06-15"}))
    assert issubclass(UnmappedRequest, ValueError)


def test_headers_are_case_insensitive_and_access_hashable() -> None:
    request = RequestInfo("kinesis", None, "POST", "/", "", {"X-Amz-Target": "Kinesis_20131202.ListStreams"}, b"",
                          REGION, ACCOUNT)
    assert operation_of(request) == "ListStreams"
    assert len({one(request), one(request)}) == 1


# ------------------------------------------------------------------------------------------------ SDK model coverage

COVERED = ["kinesis", "dynamodb", "sqs", "glue", "firehose", "athena", "sts", "logs", "iam", "cognito-identity",
           "cloudformation"]
# Members whose dummy value must make sense for the operation to be mappable.
DUMMY_PARAMS: dict[tuple[str, str], dict[str, Any]] = {
    ("dynamodb", "BatchGetItem"): {"RequestItems": {"T": {"Keys": [{"k": {"S": "v"}}]}}},
    ("dynamodb", "BatchWriteItem"): {"RequestItems": {"T": [{"PutRequest": {"Item": {"k": {"S": "v"}}}}]}},
    ("dynamodb", "TransactWriteItems"): {"TransactItems": [{"Put": {"TableName": "T", "Item": {}}}]},
    ("dynamodb", "TransactGetItems"): {"TransactItems": [{"Get": {"TableName": "T", "Key": {}}}]},
    ("dynamodb", "ExecuteStatement"): {"Statement": 'SELECT * FROM "T"'},
    ("dynamodb", "BatchExecuteStatement"): {"Statements": [{"Statement": 'SELECT * FROM "T"'}]},
    ("dynamodb", "ExecuteTransaction"): {"TransactStatements": [{"Statement": 'DELETE FROM "T" WHERE k = 1'}]},
    ("glue", "BatchDeleteTable"): {"DatabaseName": "d", "TablesToDelete": ["t"]},
}


def _dummy(shape: Any, depth: int = 0) -> Any:
    kind = shape.type_name
    if kind == "structure":
        if depth > 6:
            return {}
        return {name: _dummy(shape.members[name], depth + 1) for name in shape.required_members}
    if kind == "list":
        return [_dummy(shape.member, depth + 1)]
    if kind == "map":
        return {"k": _dummy(shape.value, depth + 1)}
    if kind in ("integer", "long"):
        return 1
    if kind in ("float", "double"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "blob":
        return b"x"
    if kind == "timestamp":
        return 0
    return shape.enum[0] if getattr(shape, "enum", None) else "x1"


def _model_request(service: str, operation_name: str) -> RequestInfo:
    model = service_model(service)
    operation = model.operation_model(operation_name)
    params = DUMMY_PARAMS.get((service, operation_name))
    if params is None:
        params = _dummy(operation.input_shape) if operation.input_shape else {}
    serialized = botocore.serialize.create_serializer(model.protocol, include_validation=False).serialize_to_request(
        params, operation)
    body = serialized["body"]
    if isinstance(body, dict):
        body = urlencode(body).encode()
    headers = {k: str(v) for k, v in serialized["headers"].items()}
    return RequestInfo(model.signing_name, None, serialized["method"], serialized["url_path"],
                       serialized["query_string"] if isinstance(serialized["query_string"], str) else
                       urlencode(serialized["query_string"]), headers, body or b"", REGION, ACCOUNT)


@pytest.mark.parametrize("service", COVERED)
def test_every_model_operation_maps_to_the_service_prefix(service: str) -> None:
    model = service_model(service)
    failures = []
    for name in model.operation_names:
        request = _model_request(service, name)
        try:
            assert operation_of(request) == name
            result = accesses(request)
        except (UnmappedRequest, AssertionError) as error:
            failures.append(f"{name}: {error!r}")
            continue
        if not result and not is_public(service, name):
            failures.append(f"{name}: no access")
        for access in result:
            if not access.action.startswith(f"{service}:") or not access.resources:
                failures.append(f"{name}: {access}")
    assert not failures, failures
