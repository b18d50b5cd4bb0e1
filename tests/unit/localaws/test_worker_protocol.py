"""The Lambda worker's pipe protocol, through a real worker process: the handler gets the same event with either
codec, and its result reaches the runtime as AWS serializes it (JSON: tuples become lists, non-JSON values fail)."""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import pytest

from localaws.lambda_runtime.protocol import decode_reply, read_requests, write_request
from localaws.settings import REPO_ROOT

EVENT = {"Records": [{"kinesis": {"data": "eyJhIjoxfQ==", "approximateArrivalTimestamp": 1764950400.123,
                                  "sequenceNumber": "4" * 56}, "eventID": "shardId-000000000000:1"}],
         "state": {"Shadowfax": {"n": 2, "big": 2**70, "min": -1.5e-7}}, "isFinalInvokeForWindow": False}
CONTEXT = {"function_name": "f", "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
           "aws_request_id": "r-1", "deadline_ms": 4102444800000}


def echo(event: dict[str, Any], context: Any) -> Any:
    """The handler the worker runs: what it got, and a result AWS would serialize (or fail to)."""
    if event.get("fail_with_set"):
        return {"s": {1, 2}}
    return {"event": event, "pair": (1, 2), "keys": {3: "int key"}}


@pytest.mark.parametrize("fast", [True, False])
def test_requests_round_trip_through_the_framing(fast: bool) -> None:
    pipe = io.BytesIO()
    for n in range(3):
        write_request(pipe, {"event": {**EVENT, "n": n}, "context": CONTEXT}, fast)
    pipe.seek(0)
    assert [r["event"]["n"] for r in read_requests(pipe, fast)] == [0, 1, 2]


@pytest.mark.parametrize("codec", ["fast", "json"])
def test_a_worker_gives_the_handler_the_event_and_returns_json(codec: str) -> None:
    worker = subprocess.Popen([sys.executable, "-m", "localaws.lambda_runtime.worker", f"{__name__}.echo",
                               "--codec", codec], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO_ROOT)
    assert worker.stdin is not None and worker.stdout is not None
    try:
        write_request(worker.stdin, {"event": EVENT, "context": CONTEXT}, codec == "fast")
        reply = decode_reply(worker.stdout.readline())
        assert reply["result"] == {"event": EVENT, "pair": [1, 2], "keys": {"3": "int key"}}
        write_request(worker.stdin, {"event": {"fail_with_set": True}, "context": CONTEXT}, codec == "fast")
        assert decode_reply(worker.stdout.readline())["error"]["errorType"] == "TypeError"
    finally:
        worker.stdin.close()
        assert worker.wait(10) == 0
