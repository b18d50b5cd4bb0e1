"""`wildrydes local up`: starts every process of the local platform, keeps them running, stops them.

Each component is a child process whose output goes to ``<data dir>/logs/<name>.log`` and, prefixed
with its name, to the terminal. A component that dies is restarted with backoff. SIGINT/SIGTERM stop
the components in reverse order (the moto host snapshots its state on the way out).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from infra.config import LOCAL_ACCOUNT_ID, REPO_ROOT, LocalSettings
from infra.errors import WildrydesError
from infra.local import preflight

STOP_TIMEOUT_S = 20.0
READY_TIMEOUT_S = 60.0
BATCH_NICE = 10  # see Component.nice


@dataclass
class Component:
    name: str
    argv: list[str]
    ready_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    # A task that runs once to completion (e.g. loading history): not restarted when it exits.
    oneshot: bool = False
    ready_timeout: float = READY_TIMEOUT_S
    # Batch work (the archive, history, Dagster runs) yields the CPU to the live path when the machine is
    # saturated: a positive niceness, inherited by its children (Lambda workers, dbt).
    nice: int = 0
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    finished: bool = False


class RunFiles:
    """The files of a running stack in the data directory: a lock and a description."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "run"
        self.lock_path = self.dir / "lock"
        self.state_path = self.dir / "stack.json"
        self._lock: IO[str] | None = None

    def acquire(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            running = self.read()
            pid = running.get("pid", "?") if running else "?"
            raise WildrydesError(
                f"a local stack is already running on this data directory (pid {pid}): stop it with "
                "`wildrydes local down` or use another --data-dir"
            ) from None
        self._lock = handle

    def write(self, payload: dict[str, Any]) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload, indent=2))
        os.replace(tmp, self.state_path)

    def read(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        self.state_path.unlink(missing_ok=True)
        if self._lock:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class Supervisor:
    def __init__(self, settings: LocalSettings, echo: Callable[[str], None] = print,
                 reserved_ports: Collection[int] = ()) -> None:
        self.settings = settings
        self.reserved_ports = {settings.port, *reserved_ports}  # the public servers' ports: not for backends
        self.echo = echo
        self.components: list[Component] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()  # no component is launched while (or after) the platform stops
        self.logs_dir = settings.data_dir / "logs"
        self.run_files = RunFiles(settings.data_dir)
        self.started_at = time.time()
        self.ready = False  # set once the platform is deployed and serving, not just started

    # ---- component definitions -----------------------------------------------------------
    def plan(self) -> list[Component]:
        data = self.settings.data_dir
        node = preflight.check_node()
        script = str(REPO_ROOT / "infra" / "local" / "node_backend.js")
        ports = {name: preflight.free_port(avoid=self.reserved_ports)
                 for name in ("kinesis", "dynamodb", "moto", "athena")}
        python = sys.executable
        components = [
            # The account in their ARNs: the one moto uses, so ARNs agree across services.
            Component("kinesis", [node, script, "--service", "kinesis", "--port", str(ports["kinesis"]),
                                  "--path", str(data / "kinesis")], env={"AWS_ACCOUNT_ID": LOCAL_ACCOUNT_ID}),
            Component("dynamodb", [node, script, "--service", "dynamodb", "--port", str(ports["dynamodb"]),
                                   "--path", str(data / "dynamodb")], env={"AWS_ACCOUNT_ID": LOCAL_ACCOUNT_ID}),
            Component("moto", [python, "-m", "infra.local.moto_host", "--port", str(ports["moto"]),
                               "--state-dir", str(data / "moto")],
                      ready_url=f"http://127.0.0.1:{ports['moto']}/_wildrydes/health"),
            Component("gateway", [python, "-m", "infra.local.gateway", "--host", self.settings.host,
                                  "--port", str(self.settings.port),
                                  "--kinesis", f"http://127.0.0.1:{ports['kinesis']}",
                                  "--dynamodb", f"http://127.0.0.1:{ports['dynamodb']}",
                                  "--moto", f"http://127.0.0.1:{ports['moto']}",
                                  "--athena", f"http://127.0.0.1:{ports['athena']}"],
                      ready_url=f"{self.settings.endpoint_url}/_wildrydes/health"),
            # The engine reads Glue and S3 through the endpoint, like any other client.
            Component("athena", [python, "-m", "infra.local.athena", "--port", str(ports["athena"]),
                                 "--data-dir", str(data)],
                      ready_url=f"http://127.0.0.1:{ports['athena']}/_wildrydes/health", env=self.settings.aws_env()),
            # Runs the deployed event source mappings; talks to AWS only through the endpoint.
            Component("lambda", [python, "-m", "infra.local.lambda_runtime", "--data-dir", str(data)],
                      env=self.settings.aws_env()),
            # Executes the deployed delivery streams: Kinesis → processing Lambda → Parquet in S3.
            Component("firehose", [python, "-m", "infra.local.firehose", "--data-dir", str(data)],
                      env=self.settings.aws_env(), nice=BATCH_NICE),
        ]
        return components

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        preflight.check_data_dir(self.settings.data_dir)
        self.run_files.acquire()
        self.run_files.write({"pid": os.getpid(), "starting": True})
        try:
            preflight.check_port_free(self.settings.host, self.settings.port)
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            self.components = self.plan()
            for component in self.components:
                self._launch(component)
                self._wait_ready(component)
            self.record()
        except BaseException:
            self.stop()
            raise

    def record(self) -> None:
        self.run_files.write({
            "pid": os.getpid(),
            "endpoint": self.settings.endpoint_url,
            "data_dir": str(self.settings.data_dir),
            "started_at": self.started_at,
            "ready": self.ready,
            "components": {
                c.name: {"pid": c.process.pid if c.process else None, "argv": c.argv, "restarts": c.restarts,
                         **({"oneshot": True, "exit": c.process.poll() if c.process else None} if c.oneshot else {})}
                for c in self.components
            },
        })

    def add(self, component: Component) -> None:
        """Start one more component once the platform is up (e.g. the producer after the deploy)."""
        with self._lock:
            if self.stopping.is_set():
                raise WildrydesError(f"not starting {component.name}: the platform is stopping")
            self.components.append(component)
            self._launch(component)
        self._wait_ready(component)
        self.record()

    def _launch(self, component: Component) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **component.env}
        nice = shutil.which("nice") if component.nice else None
        argv = [nice, "-n", str(component.nice), *component.argv] if nice else component.argv
        component.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=REPO_ROOT, start_new_session=True,
        )
        component.started_at = time.monotonic()
        threading.Thread(target=self._pump, args=(component, component.process), daemon=True).start()

    def _pump(self, component: Component, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        with (self.logs_dir / f"{component.name}.log").open("ab") as log_file:
            for line in process.stdout:
                log_file.write(line)
                log_file.flush()
                self.echo(f"{component.name:>9} | {line.decode('utf-8', 'replace').rstrip()}")

    def _wait_ready(self, component: Component) -> None:
        def ready() -> bool:
            if self.stopping.is_set():
                raise WildrydesError("stopped while starting")
            if component.process is None or component.process.poll() is not None:
                return True  # reported below
            if component.ready_url:
                return http_ok(component.ready_url)
            return "--port" not in component.argv or _listening(component)

        if component.oneshot:
            return
        wait_until(ready, component.ready_timeout)
        if component.process is None or component.process.poll() is not None:
            log = self.logs_dir / f"{component.name}.log"
            raise WildrydesError(f"the {component.name} backend exited while starting: see {log}")
        if component.ready_url and not http_ok(component.ready_url):
            raise WildrydesError(
                f"the {component.name} backend did not become ready in {component.ready_timeout:.0f}s"
            )

    def watch(self) -> None:
        """Block until asked to stop, restarting components that die."""
        while not self.stopping.wait(0.5):
            for component in self.components:
                process = component.process
                if process is None or process.poll() is None or component.finished:
                    continue
                if component.oneshot:
                    component.finished = True
                    outcome = "finished" if process.returncode == 0 else f"failed with exit code {process.returncode}"
                    self.echo(f"supervisor | {component.name} {outcome}; its log: "
                              f"{self.logs_dir / (component.name + '.log')}")
                    self.record()
                    continue
                uptime = time.monotonic() - component.started_at
                backoff = 0.0 if uptime > 30 else min(10.0, 0.5 * 2 ** component.restarts)
                self.echo(f"supervisor | {component.name} exited with {process.returncode}; "
                          f"restarting in {backoff:.1f}s")
                if self.stopping.wait(backoff):
                    return
                with self._lock:
                    if self.stopping.is_set():
                        return
                    component.restarts += 1
                    self._launch(component)
                try:
                    self._wait_ready(component)
                except WildrydesError as error:
                    self.echo(f"supervisor | {error}")
                self.record()

    def stop(self) -> None:
        with self._lock:
            self.stopping.set()
        for component in reversed(self.components):
            process = component.process
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.echo(f"supervisor | {component.name} did not stop in {STOP_TIMEOUT_S:.0f}s; killing it")
                process.kill()
                process.wait()
        self.run_files.release()


def _listening(component: Component) -> bool:
    import socket

    port = int(component.argv[component.argv.index("--port") + 1])
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run_foreground(settings: LocalSettings, after_start: Callable[[Supervisor], None] | None = None,
                   echo: Callable[[str], None] = print, reserved_ports: Collection[int] = ()) -> None:
    supervisor = Supervisor(settings, echo, reserved_ports)

    def on_signal(signum: int, frame: Any) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    supervisor.start()
    try:
        if after_start and not supervisor.stopping.is_set():
            after_start(supervisor)
        supervisor.ready = True
        supervisor.record()
        if not supervisor.stopping.is_set():
            supervisor.watch()
    finally:
        echo("supervisor | stopping")
        supervisor.stop()
        echo("supervisor | stopped; state kept in " + str(settings.data_dir))
