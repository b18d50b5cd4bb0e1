"""Invokes a function: one long-lived worker process per function, killed and replaced on timeout."""

from __future__ import annotations

import contextlib
import io
import os
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from localaws.cloudwatch_logs import LogShipper, lambda_stream_name
from localaws.iam.role_sessions import RoleCredentials, RoleSession
from localaws.kinesis_consumer import fast_json
from localaws.kinesis_consumer.clients import client
from localaws.lambda_runtime.protocol import decode_reply, write_request
from localaws.settings import REPO_ROOT
from localaws.supervisor.processes import COMPONENT_VAR, RUN_ID_VAR

_CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    arn: str
    handler: str
    timeout_s: int
    memory_mb: int
    environment: dict[str, str]
    role: str


@dataclass(frozen=True)
class Invocation:
    ok: bool
    result: Any = None
    error_type: str | None = None
    error_message: str | None = None
    duration_ms: float = 0.0


class FunctionInvoker:
    """Runs a function's invocations in one worker process. With ``credentials`` (the execution role's, as
    Lambda gives them) the worker runs with them, and is replaced once they are renewed. With ``logs`` each
    worker's output also goes to a CloudWatch Logs stream of its own (``logs()`` makes its shipper)."""

    def __init__(self, config: FunctionConfig, base_env: dict[str, str],
                 credentials: Callable[[], RoleCredentials] | None = None,
                 logs: Callable[[], LogShipper] | None = None) -> None:
        self.config = config
        self.base_env = base_env
        self.credentials = credentials
        self.logs = logs
        self._process: subprocess.Popen[bytes] | None = None
        self._process_key: str | None = None  # the access key the worker was started with
        self._shipper: LogShipper | None = None  # the worker's CloudWatch Logs stream
        self._lock = threading.Lock()  # one invocation at a time per worker
        self._fast_json = fast_json.enabled()  # protocol.py; the worker is told on argv (its env is filtered)

    def _spawn(self) -> subprocess.Popen[bytes]:
        role_env = self._role_env()
        self._process_key = role_env.get("AWS_ACCESS_KEY_ID")
        env = {
            **{k: v for k, v in self.base_env.items() if not (role_env and k in _CREDENTIAL_VARS)},
            **role_env,
            **self.config.environment,
            "AWS_LAMBDA_FUNCTION_NAME": self.config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.config.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "localaws.lambda_runtime.worker", self.config.handler,
             "--codec", "fast" if self._fast_json else "json"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE if self.logs else None,
            env=env, cwd=REPO_ROOT,
        )
        self._shipper = self.logs() if self.logs is not None else None
        if self._shipper is not None:
            threading.Thread(target=_relay_output, args=(process, self._shipper), daemon=True,
                             name=f"output-{self.config.name}").start()
        return process

    def _role_env(self) -> dict[str, str]:
        return self.credentials().environment() if self.credentials else {}

    def prepare(self) -> None:
        """Start the execution environment before the first invocation, as Lambda may initialize one
        proactively: the worker imports the handler (its init phase) while the mapping waits for records, so the
        first invocation does not pay for it. A role that cannot be assumed yet is reported by ``invoke``."""
        with self._lock, contextlib.suppress(ClientError, BotoCoreError):
            self._ensure_process()

    def _ensure_process(self) -> None:
        if self._process is not None and self.credentials is not None and self._process.poll() is None \
                and self.credentials().access_key_id != self._process_key:
            self._close_process()  # renewed credentials: a new execution environment, as Lambda does
        if self._process is None or self._process.poll() is not None:
            self._process = self._spawn()

    def invoke(self, event: dict[str, Any]) -> Invocation:
        with self._lock:
            try:
                self._ensure_process()
            except (ClientError, BotoCoreError) as error:  # Lambda could not assume the execution role
                return Invocation(False, error_type="Lambda.AssumeRoleFailed",
                                  error_message=f"cannot assume the execution role {self.config.role}: {error}")
            started = time.time()
            context = {
                "function_name": self.config.name,
                "invoked_function_arn": self.config.arn,
                "memory_limit_in_mb": self.config.memory_mb,
                "aws_request_id": str(uuid.uuid4()),
                "deadline_ms": (started + self.config.timeout_s) * 1000,
            }
            shipper = self._shipper
            request_id = context["aws_request_id"]
            if shipper is not None:  # the lines Lambda itself writes around each invocation
                shipper.add(f"START RequestId: {request_id} Version: $LATEST")
            invocation = self._run(self._process, event, context, started)
            if shipper is not None:
                shipper.add(f"END RequestId: {request_id}")
                shipper.add(f"REPORT RequestId: {request_id}\tDuration: {invocation.duration_ms:.2f} ms\t"
                            f"Billed Duration: {max(1, round(invocation.duration_ms))} ms\t"
                            f"Memory Size: {self.config.memory_mb} MB")
            return invocation

    def _run(self, process: subprocess.Popen[bytes], event: dict[str, Any], context: dict[str, Any],
             started: float) -> Invocation:
        assert process.stdin is not None and process.stdout is not None
        try:
            write_request(process.stdin, {"event": event, "context": context}, self._fast_json)
        except BrokenPipeError:
            self._process = None
            return Invocation(False, error_type="Runtime.ExitError", error_message="worker exited")
        ready, _, _ = select.select([process.stdout], [], [], self.config.timeout_s)
        duration_ms = (time.time() - started) * 1000
        if not ready:
            self._kill()
            return Invocation(False, error_type="Sandbox.Timedout", duration_ms=duration_ms,
                              error_message=f"Task timed out after {self.config.timeout_s:.2f} seconds")
        line = process.stdout.readline()
        if not line:
            self._kill()
            return Invocation(False, error_type="Runtime.ExitError", duration_ms=duration_ms,
                              error_message=f"worker exited with {process.poll()}")
        reply = decode_reply(line)
        if "error" in reply:
            return Invocation(False, error_type=reply["error"]["errorType"],
                              error_message=reply["error"]["errorMessage"], duration_ms=duration_ms)
        return Invocation(True, result=reply["result"], duration_ms=duration_ms)

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def close(self) -> None:
        with self._lock:
            self._close_process()

    def _close_process(self) -> None:
        if self._process is not None and self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._kill()
        self._process = None


def function_logs(function_name: str, role: RoleSession) -> Callable[[], LogShipper]:
    """A new CloudWatch Logs stream of the function's group for each execution environment, written with its
    execution role (as Lambda writes them)."""
    return lambda: LogShipper(lambda: client("logs", role), f"/aws/lambda/{function_name}", lambda_stream_name())


def _relay_output(process: subprocess.Popen[bytes], shipper: LogShipper) -> None:
    """A worker's output line by line: to this runtime's own output (its log file) and to CloudWatch Logs."""
    assert process.stderr is not None
    try:
        for line in io.TextIOWrapper(process.stderr, encoding="utf-8", errors="replace"):
            sys.stderr.write(line)
            shipper.add(line)
        sys.stderr.flush()
    finally:
        shipper.close()


def function_config(lambda_client: Any, name: str) -> FunctionConfig:
    """The configuration of the function's $LATEST version, as the Lambda control plane reports it."""
    fn = lambda_client.get_function_configuration(FunctionName=name)
    return FunctionConfig(
        name=fn["FunctionName"], arn=fn["FunctionArn"], handler=fn["Handler"],
        timeout_s=int(fn.get("Timeout") or 3), memory_mb=int(fn.get("MemorySize") or 128),
        environment=(fn.get("Environment") or {}).get("Variables") or {}, role=fn.get("Role", ""),
    )


def base_environment() -> dict[str, str]:
    """What every function sees besides its own variables: the AWS SDK settings of this runtime, and the
    platform's run id so that a worker is stopped with the platform (``processes.py``)."""
    keep = ("AWS_", "PATH", "HOME", "LANG", "TZ", "SSL_CERT", RUN_ID_VAR, COMPONENT_VAR)
    return {k: v for k, v in os.environ.items() if k.startswith(keep)}
