"""localaws/node/dynalite_speedups.js gives dynalite's own answers: validating a conditional write's
expression again from what was kept yields the original's message or parsed condition (in node), and a real
dynamodb backend still enforces every condition, on the first request and on the ones that reuse it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localaws.settings import REPO_ROOT
from tests.support.node_backends import assert_refused_with, node, start

SCRIPT = r"""
const path = require('path')
const assert = require('assert')
const root = process.argv[1]
const validations = require(path.join(root, 'localaws', 'node', 'node_modules', 'dynalite', 'validations'))
const original = validations.validateExpressions
const counters = require(path.join(root, 'localaws', 'node', 'dynalite_speedups.js')).install(validations)
const requests = JSON.parse(process.argv[2])
const outcome = (fn, request) => {
  const data = JSON.parse(JSON.stringify(request))
  const message = fn(data)
  return JSON.stringify({ message, condition: data._condition, updates: data._updates, filter: data._filter })
}
for (let round = 0; round < 3; round++) {
  for (const request of requests) {
    const fast = outcome(validations.validateExpressions, request)
    assert.strictEqual(fast, outcome(original, request), JSON.stringify(request))
  }
}
console.log(JSON.stringify(counters))
"""

NAMES = {"#n": "Name", "#c": "PartCount", "#p": "Partials", "#part": "p"}
CONDITION = "attribute_not_exists(#n) OR (#c = :one AND attribute_exists(#p.#part))"
REQUESTS: list[dict[str, Any]] = [
    {"ConditionExpression": CONDITION, "ExpressionAttributeNames": NAMES,
     "ExpressionAttributeValues": {":one": {"N": "1"}}},
    {"ConditionExpression": CONDITION, "ExpressionAttributeNames": NAMES,
     "ExpressionAttributeValues": {":one": {"N": "2"}}},  # another value: another outcome
    {"ConditionExpression": "#v = :v", "ExpressionAttributeNames": {"#v": "Version"},
     "ExpressionAttributeValues": {":v": {"N": "3"}}},
    {"ConditionExpression": "attribute_not_exists(#v)", "ExpressionAttributeNames": {"#v": "Version"}},
    {"ConditionExpression": "attribute_not_exists(#v) AND", "ExpressionAttributeNames": {"#v": "Version"}},  # syntax
    {"ConditionExpression": "attribute_not_exists(#v)", "ExpressionAttributeNames": {"#v": "V", "#w": "W"}},  # unused
    {"ConditionExpression": "attribute_not_exists(#x)", "ExpressionAttributeNames": {"#v": "V"}},  # undefined
    {"ConditionExpression": "size(#v) > :v", "ExpressionAttributeNames": {"#v": "V"},
     "ExpressionAttributeValues": {":v": {"N": "1"}, ":w": {"S": "x"}}},  # an unused value
    {"ConditionExpression": "Name = :n", "ExpressionAttributeValues": {":n": {"S": "x"}}},  # a reserved word
    {"ConditionExpression": "", "ExpressionAttributeValues": {":n": {"S": "x"}}},
    # not only a condition: always the original
    {"UpdateExpression": "SET #v = :v", "ConditionExpression": "attribute_exists(#v)",
     "ExpressionAttributeNames": {"#v": "V"}, "ExpressionAttributeValues": {":v": {"N": "1"}}},
    {"FilterExpression": "#v > :v", "ExpressionAttributeNames": {"#v": "V"},
     "ExpressionAttributeValues": {":v": {"N": "1"}}},
]


def test_kept_outcomes_are_the_originals() -> None:
    result = subprocess.run([node(), "-e", SCRIPT, str(REPO_ROOT), json.dumps(REQUESTS)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    counters = json.loads(result.stdout)
    conditions_only = len(REQUESTS) - 2
    assert counters == {"parsed": conditions_only, "reused": 2 * conditions_only}


class Backend:
    def __init__(self, client: Any, process: subprocess.Popen[str], cache: bool) -> None:
        self.client = client
        self.process = process
        self.cache = cache

    def stop(self) -> str:
        """Stops the backend; its last words (how many conditions it parsed and reused)."""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=30)
        return out


@pytest.fixture(params=["1", "0"], ids=["cache on", "cache off"])
def backend(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Backend]:
    process, port = start("dynamodb", tmp_path / "db", {"WILDRYDES_DYNAMODB_WARMUP_ITEMS": "0",
                                                         "WILDRYDES_DYNAMODB_CONDITION_CACHE": request.param})
    try:
        client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        client.create_table(TableName="Summaries", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "Name", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "Name", "KeyType": "HASH"}])
        yield Backend(client, process, request.param == "1")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def _put(client: Any, name: str, version: int, expected: int | None) -> None:
    condition = {"ConditionExpression": "attribute_not_exists(#v)", "ExpressionAttributeNames": {"#v": "Version"}} \
        if expected is None else {"ConditionExpression": "#v = :v", "ExpressionAttributeNames": {"#v": "Version"},
                                  "ExpressionAttributeValues": {":v": {"N": str(expected)}}}
    client.put_item(TableName="Summaries", Item={"Name": {"S": name}, "Version": {"N": str(version)}}, **condition)


def test_a_real_backend_enforces_every_condition_when_it_reuses_them(backend: Backend) -> None:
    dynamodb = backend.client
    for name in ("a", "b", "c"):  # the same expression each time: parsed once, then reused
        _put(dynamodb, name, 1, None)
        with pytest.raises(ClientError, match="ConditionalCheckFailedException"):
            _put(dynamodb, name, 9, None)
        _put(dynamodb, name, 2, 1)
        with pytest.raises(ClientError, match="ConditionalCheckFailedException"):
            _put(dynamodb, name, 9, 1)
    versions = {item["Name"]["S"]: item["Version"]["N"] for item in dynamodb.scan(TableName="Summaries")["Items"]}
    assert versions == {"a": "2", "b": "2", "c": "2"}
    for _ in range(2):  # a bad expression is the same clear error when it comes again
        with pytest.raises(ClientError, match="Invalid ConditionExpression: Syntax error"):
            dynamodb.put_item(TableName="Summaries", Item={"Name": {"S": "d"}},
                              ConditionExpression="attribute_not_exists(")
    # with the cache, the two expressions and the bad one parsed once each; every other request reused its parse
    said = backend.stop()
    assert ("dynamodb backend stopping: 3 condition expressions parsed, 11 reused" in said) is backend.cache


@pytest.mark.parametrize("value", ["yes", "2", "off"])
def test_a_bad_switch_value_is_a_clear_error(value: str) -> None:
    assert_refused_with("dynamodb", {"WILDRYDES_DYNAMODB_CONDITION_CACHE": value},
                        f"WILDRYDES_DYNAMODB_CONDITION_CACHE must be 1 (on, the default) or 0 (off), not '{value}'")
