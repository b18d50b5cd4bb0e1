from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localaws.supervisor.preflight import free_port
from tests.support.stack import LocalStack, started_stack

GROUPS = ("unit", "stack", "browser", "faults")

# A suite started in the background (`make test &`, nohup) inherits SIGINT ignored, and Dagster's in-process
# code copies SIGINT's handler onto SIGTERM (dagster._utils.interrupts.setup_interrupt_handlers): every
# process the tests start after that would inherit SIGTERM ignored and outlive terminate(). Handle SIGINT
# as Python does by default, whatever the shell left.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The group of a test is the folder it is in (tests/<group>/...): ``pytest -m stack`` runs that folder."""
    root = Path(__file__).parent
    for item in items:
        group = item.path.relative_to(root).parts[0]
        if group in GROUPS:
            item.add_marker(getattr(pytest.mark, group))


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One endpoint for the whole session, infrastructure not deployed."""
    yield from started_stack(tmp_path_factory.mktemp("stack"), ["--no-deploy"])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A bare moto_server, for the handlers' tests against real AWS APIs without the platform."""
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
