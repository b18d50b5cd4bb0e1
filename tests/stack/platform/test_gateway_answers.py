"""The gateway passes every answer on as its backend gave it, whether it sends it in one piece (a body of known
length up to ``SMALL_BODY``) or streams it (larger, or of unknown length), and its asyncio servers run on uvloop."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import psutil
import pytest
from botocore.exceptions import ClientError

from localaws.gateway.server import SMALL_BODY
from tests.support.stack import LocalStack

SIZES = [0, 1, 64 * 1024, SMALL_BODY, SMALL_BODY + 1, 3 * SMALL_BODY + 17]


@pytest.fixture(scope="module")
def bucket(local_stack: LocalStack) -> str:
    name = f"gateway-answers-{uuid.uuid4().hex[:8]}"
    local_stack.client("s3").create_bucket(Bucket=name)
    return name


@pytest.mark.parametrize("size", SIZES)
def test_objects_of_every_size_come_back_whole_with_their_headers(local_stack: LocalStack, bucket: str,
                                                                   size: int) -> None:
    s3 = local_stack.client("s3")
    body = hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1)
    body = body[:size]
    key = f"object-{size}"
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-test",
                  Metadata={"size": str(size)})
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["Body"].read() == body
    assert (got["ContentLength"], got["ContentType"], got["Metadata"]) == (size, "application/x-test",
                                                                           {"size": str(size)})
    head = s3.head_object(Bucket=bucket, Key=key)  # the object's length, and no body
    assert (head["ContentLength"], head["ETag"]) == (size, got["ETag"])
    with pytest.raises(ClientError) as not_modified:
        s3.get_object(Bucket=bucket, Key=key, IfNoneMatch=got["ETag"])
    assert not_modified.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304


def test_an_error_answer_keeps_its_status_code_and_body(local_stack: LocalStack, bucket: str) -> None:
    with pytest.raises(ClientError) as missing:
        local_stack.client("s3").get_object(Bucket=bucket, Key="no-such-key")
    error = missing.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (404, "NoSuchKey")


def _maps_uvloop(pid: int) -> bool:
    return "uvloop" in Path(f"/proc/{pid}/maps").read_text()


def test_the_gateway_and_the_athena_engine_run_on_uvloop(local_stack: LocalStack) -> None:
    components = local_stack.run_state()["components"]
    for name in ("gateway", "athena"):
        assert psutil.Process(components[name]["pid"]).is_running(), name
        assert _maps_uvloop(components[name]["pid"]), f"{name} has not loaded uvloop"
