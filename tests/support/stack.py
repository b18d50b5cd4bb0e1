"""A real local stack for tests: `wildrydes local up` started as a subprocess on a free port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

from infra.deploy.state import outputs_environment, read_outputs
from localaws.settings import DEFAULT_REGION, LOCAL_CREDENTIALS, REPO_ROOT
from localaws.supervisor.preflight import free_port
from localaws.supervisor.processes import wait_gone

WILDRYDES = [sys.executable, "-m", "infra.cli"]


@dataclass
class LocalStack:
    data_dir: Path
    port: int
    log_path: Path
    extra_args: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)  # for `local up` and all it starts (emulator knobs)
    map_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
            "AWS_REGION": DEFAULT_REGION,
            "WILDRYDES_DATA_DIR": str(self.data_dir),
            "WILDRYDES_PORT": str(self.port),
            **LOCAL_CREDENTIALS,
            # the deployed stack's names, as `local up` hands them to the platform's processes
            **outputs_environment(read_outputs(self.data_dir)),
        }

    @property
    def outputs(self) -> dict[str, str]:
        """The deployed stack's outputs (``ArchiveBucketName``, ...)."""
        return (read_outputs(self.data_dir) or {}).get("Outputs") or {}

    def client(self, service: str, **config: object):  # noqa: ANN201 - boto3 clients are untyped
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=DEFAULT_REGION,
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, **config),
        )

    def start(self, timeout: float | None = None) -> None:
        # With Dagster, `local up` is ready once the webserver has loaded the code location: minutes on a busy machine.
        timeout = timeout or (400.0 if "--dagster-port" in self.extra_args else 90.0)
        env = {**os.environ, **self.env, **self.extra_env}
        if self.process is not None and self.process.poll() is not None:
            self.release_watchdog()  # of the previous run (crashed or killed by the test)
        log = self.log_path.open("ab")
        # Dagster and the history loader only where a test asks for them (they cost a minute of CPU).
        optional = [*([] if "--dagster-port" in self.extra_args else ["--no-dagster"]),
                    *([] if "--history-hours" in self.extra_args else ["--history-hours", "0"])]
        self.process = subprocess.Popen(
            [*WILDRYDES, "local", "up", "--port", str(self.port), "--data-dir", str(self.data_dir),
             "--map-port", str(self.map_port), *optional, *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=REPO_ROOT,
            start_new_session=True,
        )
        # Should this process die without stop(), the watchdog stops the stack (tests/support/stack_watchdog.py).
        self.watchdog = subprocess.Popen(
            [sys.executable, "-m", "tests.support.stack_watchdog", str(self.process.pid), str(self.data_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO_ROOT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"wildrydes local up exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.healthy() and self._run_file_ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"local stack not healthy after {timeout}s:\n{self.log_tail()}")

    def _run_file_ready(self) -> bool:
        try:
            state = json.loads((self.data_dir / "run" / "stack.json").read_text())
        except (OSError, ValueError):
            return False
        # this run's file, not one a crashed run left behind
        return bool(state.get("ready")) and self.process is not None and state.get("pid") == self.process.pid

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/_wildrydes/health", timeout=2) as response:
                return json.loads(response.read())["status"] == "ok"
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        assert self.process is not None
        try:
            if self.process.poll() is None:
                self.process.send_signal(sig)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
                    raise
        finally:
            self.release_watchdog()
        return self.process.returncode

    def release_watchdog(self) -> None:
        """Ends the watchdog of a stack that was stopped: its pid is gone, so it signals nothing."""
        if self.watchdog is not None:
            assert self.watchdog.stdin is not None
            self.watchdog.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.watchdog.wait(10)
            self.watchdog = None

    def run_state(self) -> dict:
        try:
            return json.loads((self.data_dir / "run" / "stack.json").read_text())
        except (OSError, ValueError):
            return {}

    def kill_all(self) -> None:
        """kill -9 the supervisor, its lifeline and every component at once, so that no process of the
        platform gets to act on the others' death (the lifeline is killed first for that reason)."""
        state = self.run_state()
        pids = [c["pid"] for c in state.get("components", {}).values() if c.get("pid")]
        lifeline = (state.get("lifeline") or {}).get("pid")
        assert self.process is not None
        for pid in [*([lifeline] if lifeline else []), self.process.pid, *pids]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        assert wait_gone(pids, 10), "a component survived SIGKILL"

    def crash(self) -> None:
        """What a crashed terminal does: SIGKILL to the process group of `wildrydes local up`."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def cli(self, *args: str, timeout: float = 120.0, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*WILDRYDES, *args], capture_output=True, text=True, timeout=timeout, input=input,
            env={**os.environ, **self.env}, cwd=REPO_ROOT,
        )


def started_stack(tmp: Path, extra_args: list[str] | None = None,
                  extra_env: dict[str, str] | None = None) -> Iterator[LocalStack]:
    stack = LocalStack(data_dir=tmp / "data", port=free_port(), log_path=tmp / "stack.log",
                       extra_args=extra_args or [], extra_env=extra_env or {})
    try:
        stack.start()
        yield stack
    finally:
        if stack.process and stack.process.poll() is None:
            try:
                stack.stop()
            except subprocess.TimeoutExpired:
                stack.kill_all()
