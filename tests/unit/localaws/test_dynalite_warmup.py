"""localaws/node/dynalite_warmup.js: the DynamoDB backend warms dynalite's code on a throwaway in-memory store
after it is ready, and nothing of the warm-up reaches the user's store; a bad item count is a clear error."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest

from localaws.settings import REPO_ROOT

BACKEND = REPO_ROOT / "localaws" / "node" / "backend.js"


def _node() -> str:
    node = shutil.which("node")
    assert node, "node is needed (make install)"
    return node


def test_the_warm_up_writes_to_a_scratch_store_not_the_users(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [_node(), str(BACKEND), "--service", "dynamodb", "--port", "0", "--path", str(tmp_path / "db")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PATH": "/usr/bin:/bin", "WILDRYDES_DYNAMODB_WARMUP_ITEMS": "300"})
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        port = re.search(r"ready on 127\.0\.0\.1:(\d+)", ready)
        assert port, ready
        warmed = process.stdout.readline()  # blocks until the warm-up reports
        assert re.match(r"dynamodb backend warmed up: 300 conditional writes in [\d.]+ s$", warmed.strip()), warmed
        client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port.group(1)}", region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        assert client.list_tables()["TableNames"] == []
    finally:
        process.terminate()
        process.wait(30)


@pytest.mark.parametrize("value", ["-1", "many", "1.5"])
def test_a_bad_item_count_is_a_clear_error(value: str) -> None:
    result = subprocess.run(
        [_node(), str(BACKEND), "--service", "dynamodb", "--port", "0", "--path", "/nonexistent-never-created"],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "WILDRYDES_DYNAMODB_WARMUP_ITEMS": value})
    assert result.returncode == 2
    assert f"WILDRYDES_DYNAMODB_WARMUP_ITEMS must be a whole number of items (0 turns the warm-up off), not '{value}'" \
        in result.stderr
    assert "    at " not in result.stderr
