"""A function's execution environment can be started before its first invocation (Lambda's proactive
initialization): the worker imports the handler while nothing is invoked, the first invocation then runs in
that same process, and a role that cannot be assumed yet is still reported by the invocation, not by prepare."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localaws.lambda_runtime.invoker import FunctionConfig, FunctionInvoker

MARKER_VAR = "WILDRYDES_TEST_INIT_MARKER"

if MARKER_VAR in os.environ:  # the handler module's init phase, in the worker
    with open(os.environ[MARKER_VAR], "a") as marker:
        marker.write(f"{os.getpid()}\n")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"pid": os.getpid(), "n": event["n"]}


def config(marker: Path) -> FunctionConfig:
    return FunctionConfig(name="prepared", arn="arn:aws:lambda:us-east-1:000000000000:function:prepared",
                          handler=f"{__name__}.handler", timeout_s=30, memory_mb=128,
                          environment={MARKER_VAR: str(marker)}, role="")


def initialized(marker: Path, timeout_s: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().strip():
            return marker.read_text().split()
        time.sleep(0.02)
    raise AssertionError("the worker never imported the handler")


def test_prepare_runs_the_init_phase_before_any_invocation(tmp_path: Path) -> None:
    marker = tmp_path / "init"
    invoker = FunctionInvoker(config(marker), {"PATH": os.environ["PATH"]})
    try:
        invoker.prepare()
        [pid] = initialized(marker)  # imported with nothing invoked yet
        first, second = invoker.invoke({"n": 1}), invoker.invoke({"n": 2})
        assert first.ok and second.ok, (first, second)
        assert first.result == {"pid": int(pid), "n": 1} and second.result == {"pid": int(pid), "n": 2}
        invoker.prepare()  # already prepared: the same environment, no second init
        assert invoker.invoke({"n": 3}).result["pid"] == int(pid)
        assert marker.read_text().split() == [pid]
    finally:
        invoker.close()


def test_a_role_not_assumable_yet_is_reported_by_the_invocation(tmp_path: Path) -> None:
    def refused() -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not yet"}}, "AssumeRole")

    invoker = FunctionInvoker(config(tmp_path / "init"), {"PATH": os.environ["PATH"]}, credentials=refused)
    invoker.prepare()  # no exception: the mapping keeps polling
    invocation = invoker.invoke({"n": 1})
    assert not invocation.ok and invocation.error_type == "Lambda.AssumeRoleFailed"
    assert "not yet" in (invocation.error_message or "")
    assert not (tmp_path / "init").exists()
