"""localaws/node/dynalite_warmup.js: the DynamoDB backend warms dynalite's code on a throwaway in-memory store
after it is ready, and nothing of the warm-up reaches the user's store; a bad item count is a clear error."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest

from tests.support.node_backends import assert_refused_with, start


def test_the_warm_up_writes_to_a_scratch_store_not_the_users(tmp_path: Path) -> None:
    process, port = start("dynamodb", tmp_path / "db", {"WILDRYDES_DYNAMODB_WARMUP_ITEMS": "300"})
    try:
        assert process.stdout is not None
        warmed = process.stdout.readline()  # blocks until the warm-up reports
        assert re.match(r"dynamodb backend warmed up: 300 conditional writes in [\d.]+ s$", warmed.strip()), warmed
        client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        assert client.list_tables()["TableNames"] == []
    finally:
        process.terminate()
        process.wait(30)


@pytest.mark.parametrize("value", ["-1", "many", "1.5"])
def test_a_bad_item_count_is_a_clear_error(value: str) -> None:
    assert_refused_with("dynamodb", {"WILDRYDES_DYNAMODB_WARMUP_ITEMS": value},
                        "WILDRYDES_DYNAMODB_WARMUP_ITEMS must be a whole number of items (0 turns the warm-up off), "
                        f"not '{value}'")
