"""The local runtime's asyncio servers run on uvloop unless ``WILDRYDES_UVLOOP=0``; a bad value stops the gateway
and the Athena engine at start with a one-line error and exit code 2."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import uvloop

from localaws import event_loops
from localaws.errors import LocalError


@pytest.mark.parametrize(("value", "uv"), [(None, True), ("1", True), ("0", False)])
def test_the_loop_is_uvloops_unless_switched_off(value: str | None, uv: bool,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if value is None:
        monkeypatch.delenv(event_loops.SWITCH, raising=False)
    else:
        monkeypatch.setenv(event_loops.SWITCH, value)

    async def which() -> bool:
        await asyncio.sleep(0)
        return isinstance(asyncio.get_running_loop(), uvloop.Loop)

    assert event_loops.run(which()) is uv


@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_a_bad_value_is_refused_by_name(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(event_loops.SWITCH, value)
    with pytest.raises(LocalError, match="WILDRYDES_UVLOOP"):
        event_loops.new_event_loop()


@pytest.mark.parametrize("module", [
    ["localaws.gateway.server", "--port", "1", "--kinesis", "http://127.0.0.1:1", "--dynamodb",
     "http://127.0.0.1:1", "--moto", "http://127.0.0.1:1"],
    ["localaws.athena", "--port", "1", "--data-dir", "{tmp}"],
], ids=["gateway", "athena"])
def test_the_servers_refuse_a_bad_value_at_start(module: list[str], tmp_path: object) -> None:
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in module]
    env = {"PATH": "/usr/bin:/bin", event_loops.SWITCH: "yes", "AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    done = subprocess.run([sys.executable, "-m", *argv], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "WILDRYDES_UVLOOP='yes': expected 1 (uvloop's event loop) or 0 (asyncio's)" in done.stderr
    assert "Traceback" not in done.stderr
