"""A test or benchmark process that dies without stopping its stack (SIGKILL, a ``timeout`` command's
SIGTERM) does not leave the stack running: the harness's watchdog (tests/support/stack_watchdog.py) stops
``wildrydes local up``, and with it every process of the platform."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from localaws.settings import REPO_ROOT
from localaws.supervisor.processes import wait_gone

pytestmark = pytest.mark.faults

HOLDER = """
import sys, time
from pathlib import Path
from localaws.supervisor.preflight import free_port
from tests.support.stack import LocalStack
stack = LocalStack(data_dir=Path(sys.argv[1]) / "data", port=free_port(), log_path=Path(sys.argv[1]) / "stack.log",
                   extra_args=["--no-producer"])
stack.start()
print(stack.process.pid, flush=True)
time.sleep(600)
"""


def test_a_killed_test_process_does_not_leave_its_stack_running(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLDER), str(tmp_path)],
                              stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    assert holder.stdout is not None
    try:
        supervisor = int(holder.stdout.readline() or "0")
        assert supervisor, f"the stack did not start:\n{(tmp_path / 'stack.log').read_text()[-3000:]}"
        components = json.loads((tmp_path / "data" / "run" / "stack.json").read_text())["components"]
        pids = [supervisor, *(c["pid"] for c in components.values() if c.get("pid"))]
        assert len(pids) > 5 and not wait_gone(pids, 1)  # the platform runs
    finally:
        holder.kill()
        holder.wait()
    assert wait_gone(pids, 60), "the stack outlived the process that started it"
