"""`wildrydes local up`: starts every process of the local platform, keeps them running, stops them.

Each component is a child process whose output goes to ``<data dir>/logs/<name>.log`` (``logs.py``: stamped,
levelled, rotated) and to the console (``console.py``), which decides what the terminal shows. A component
that dies is restarted with backoff. SIGINT/SIGTERM/SIGHUP stop the components in reverse order (the moto
host snapshots its state on the way out).

Nothing outlives the supervisor: every process it starts, and everything those start, carries the run's
id, and the lifeline (``lifeline.py``, started first) stops them all when the supervisor dies, however it
dies. The run file ``<data dir>/run/stack.json`` records each process with its start time and command
line; a later `local up`, `local down` or `local status` reads it without a live supervisor.
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
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from localaws.errors import LocalError
from localaws.moto.counters import FILE_NAME as COUNTS_FILE
from localaws.settings import LOCAL_ACCOUNT_ID, REPO_ROOT, LocalSettings
from localaws.supervisor import lifeline, preflight, priority
from localaws.supervisor.console import Console, PlainConsole, ProcessView, Snapshot
from localaws.supervisor.logs import MAX_BYTES, Entry, RotatingLog, classify, parse, strip_ansi
from localaws.supervisor.processes import COMPONENT_VAR, DATA_DIR_VAR, RUN_ID_VAR, ProcessRecord

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
    # saturated: a positive niceness, inherited by its children (Lambda workers, dbt), and given to its
    # session's scheduler autogroup too (priority.py).
    nice: int = 0
    # A server with no health URL is ready when it accepts connections on this port (or on its --port).
    ready_port: int | None = None
    # What the program is started through (e.g. ``unshare``), which execs it: the record keeps ``argv``.
    launcher: tuple[str, ...] = ()
    # How it is asked to stop (PostgreSQL's SIGTERM waits for its clients to leave; its SIGINT does not).
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = None
    record: ProcessRecord | None = None  # how the run file identifies the process
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
            raise LocalError(
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
    def __init__(self, settings: LocalSettings, console: Console | None = None,
                 reserved_ports: Collection[int] = (), log_max_bytes: int = MAX_BYTES) -> None:
        self.settings = settings
        self.reserved_ports = {settings.port, *reserved_ports}  # the public servers' ports: not for backends
        self.console = console or PlainConsole(sys.stdout)
        self.log_max_bytes = log_max_bytes
        self._logs: dict[str, RotatingLog] = {}
        self.components: list[Component] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()  # no component is launched while (or after) the platform stops
        self.logs_dir = settings.data_dir / "logs"
        self.run_files = RunFiles(settings.data_dir)
        self.started_at = time.time()
        self.ready = False  # set once the platform is deployed and serving, not just started
        self.run_id = uuid.uuid4().hex
        self.guardian: subprocess.Popen[bytes] | None = None
        self._lifeline_fd: int | None = None  # the pipe's write end: closed by the kernel when this process dies

    # ---- logs ----------------------------------------------------------------------------
    def log(self, component: str) -> RotatingLog:
        """The log file of a component (or of the supervisor itself, or the deploy), opened once."""
        if component not in self._logs:
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            self._logs[component] = RotatingLog(self.logs_dir / f"{component}.log", self.log_max_bytes)
        return self._logs[component]

    def emit(self, entry: Entry) -> None:
        self.log(entry.component).write(entry)
        self.console.line(entry)

    def say(self, text: str, level: str = "INFO") -> None:
        """A message of the supervisor's own: to its log and to the console."""
        self.emit(Entry(time.time(), "supervisor", level, text))

    # ---- component definitions -----------------------------------------------------------
    def plan(self) -> list[Component]:
        data = self.settings.data_dir
        node = preflight.check_node()
        script = str(REPO_ROOT / "localaws" / "node" / "backend.js")
        ports = {name: preflight.free_port(avoid=self.reserved_ports)
                 for name in ("kinesis", "dynamodb", "moto", "athena")}
        python = sys.executable
        components = [
            # The account in their ARNs: the one moto uses, so ARNs agree across services.
            Component("kinesis", [node, script, "--service", "kinesis", "--port", str(ports["kinesis"]),
                                  "--path", str(data / "kinesis")], env={"AWS_ACCOUNT_ID": LOCAL_ACCOUNT_ID}),
            Component("dynamodb", [node, script, "--service", "dynamodb", "--port", str(ports["dynamodb"]),
                                   "--path", str(data / "dynamodb")], env={"AWS_ACCOUNT_ID": LOCAL_ACCOUNT_ID}),
            Component("moto", [python, "-m", "localaws.moto.host", "--port", str(ports["moto"]),
                               "--state-dir", str(data / "moto")],
                      ready_url=f"http://127.0.0.1:{ports['moto']}/_wildrydes/health"),
            Component("gateway", [python, "-m", "localaws.gateway.server", "--host", self.settings.host,
                                  "--port", str(self.settings.port),
                                  "--kinesis", f"http://127.0.0.1:{ports['kinesis']}",
                                  "--dynamodb", f"http://127.0.0.1:{ports['dynamodb']}",
                                  "--moto", f"http://127.0.0.1:{ports['moto']}",
                                  "--athena", f"http://127.0.0.1:{ports['athena']}",
                                  "--iam", self.settings.iam],
                      ready_url=f"{self.settings.endpoint_url}/_wildrydes/health"),
            # The engine reads Glue and S3 through the endpoint, like any other client.
            # ... and checks that what it read is still current in moto's counts file, without a request.
            Component("athena", [python, "-m", "localaws.athena", "--port", str(ports["athena"]),
                                 "--data-dir", str(data), "--moto-counts", str(data / "moto" / COUNTS_FILE)],
                      ready_url=f"http://127.0.0.1:{ports['athena']}/_wildrydes/health", env=self.settings.aws_env()),
            # Runs the deployed event source mappings; talks to AWS only through the endpoint.
            Component("lambda", [python, "-m", "localaws.lambda_runtime", "--data-dir", str(data)],
                      env=self.settings.aws_env()),
            # Executes the deployed delivery streams: Kinesis → processing Lambda → Parquet in S3.
            Component("firehose", [python, "-m", "localaws.firehose", "--data-dir", str(data)],
                      env=self.settings.aws_env(), nice=priority.archive_nice()),
        ]
        return components

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        preflight.check_data_dir(self.settings.data_dir)
        self.run_files.acquire()
        try:
            self._clear_previous_run(self.run_files.read())
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            self.say(f"starting the local platform in {self.settings.data_dir} (each component's log: "
                     f"{self.logs_dir}/<component>.log)")
            self._start_lifeline()
            self.record(starting=True)
            preflight.check_port_free(self.settings.host, self.settings.port)
            for backend in ("kinesis", "dynamodb"):
                preflight.check_unlocked(self.settings.data_dir / backend / "LOCK", f"the {backend} backend's data")
            self.components = self.plan()
            for component in self.components:
                self._launch(component)
                self._wait_ready(component)
            self.record()
        except BaseException:
            self.stop()
            raise

    def _clear_previous_run(self, previous: dict[str, Any] | None) -> None:
        """A run file left behind means the last run did not stop cleanly: stop whatever of it still runs.

        Its lifeline has usually done so already; this covers a lifeline that died with it (or was still
        at work), and says in one line what happened."""
        if not previous or not previous.get("run_id"):
            return
        stopped = lifeline.sweep(previous["run_id"], lifeline.recorded_processes(previous))
        pid = previous.get("pid", "?")
        if stopped:
            self.say(f"the previous run (pid {pid}) did not stop cleanly: stopped "
                      f"{lifeline.summary(stopped)} it left running")
        elif previous.get("ended"):
            count = len(previous["ended"].get("stopped", []))
            self.say(f"the previous run (pid {pid}) ended without a clean stop; its lifeline "
                      f"stopped its {count} processes")
        else:
            self.say(f"the previous run (pid {pid}) ended without a clean stop; nothing of it was "
                      "left running")

    def _start_lifeline(self) -> None:
        read_fd, write_fd = os.pipe()  # not inherited by the components: only the lifeline holds the read end
        with (self.logs_dir / "lifeline.log").open("ab") as log:
            self.guardian = subprocess.Popen(
                [sys.executable, "-m", "localaws.supervisor.lifeline", "--run-id", self.run_id,
                 "--run-file", str(self.run_files.state_path)],
                stdin=read_fd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT, start_new_session=True,
            )
        os.close(read_fd)
        if self._lifeline_fd is not None:
            os.close(self._lifeline_fd)
        self._lifeline_fd = write_fd

    def _stop_lifeline(self) -> None:
        if self._lifeline_fd is not None:
            os.close(self._lifeline_fd)
            self._lifeline_fd = None
        if self.guardian is not None:
            try:
                self.guardian.wait(lifeline.GRACE_S * len(lifeline.TIERS) + 10)
            except subprocess.TimeoutExpired:
                self.say("the lifeline did not finish; see " + str(self.logs_dir / "lifeline.log"), "WARNING")

    def record(self, starting: bool = False) -> None:
        me = ProcessRecord.of(os.getpid(), psutil.Process().cmdline())
        guardian = ProcessRecord.of(self.guardian.pid, self.guardian.args) if self.guardian else None  # type: ignore[arg-type]
        self.run_files.write({
            "pid": os.getpid(),
            "run_id": self.run_id,
            **({"starting": True} if starting else {}),
            "supervisor": me.to_json() if me else None,
            "lifeline": guardian.to_json() if guardian else None,
            "endpoint": self.settings.endpoint_url,
            "data_dir": str(self.settings.data_dir),
            "started_at": self.started_at,
            "ready": self.ready,
            "components": {
                c.name: {**(c.record.to_json() if c.record else {}),
                         "pid": c.process.pid if c.process else None, "argv": c.argv, "restarts": c.restarts,
                         **({"oneshot": True, "exit": c.process.poll() if c.process else None} if c.oneshot else {})}
                for c in self.components
            },
        })

    def add(self, component: Component) -> None:
        """Start one more component once the platform is up (e.g. the producer after the deploy)."""
        with self._lock:
            if self.stopping.is_set():
                raise LocalError(f"not starting {component.name}: the platform is stopping")
            self.components.append(component)
            self._launch(component)
        self._wait_ready(component)
        self.record()

    def _launch(self, component: Component) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **component.env,
               RUN_ID_VAR: self.run_id, COMPONENT_VAR: component.name, DATA_DIR_VAR: str(self.settings.data_dir)}
        nice = shutil.which("nice") if component.nice else None
        argv = [*([nice, "-n", str(component.nice)] if nice else []), *component.launcher, *component.argv]
        component.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=REPO_ROOT, start_new_session=True,
        )
        priority.yield_session(component.process.pid, component.nice)
        component.record = ProcessRecord.of(component.process.pid, component.argv)
        component.started_at = time.monotonic()
        threading.Thread(target=self._pump, args=(component, component.process), daemon=True).start()

    def _pump(self, component: Component, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        level = "INFO"
        for raw in process.stdout:
            text = strip_ansi(raw.decode("utf-8", "replace").rstrip())
            if not text.strip():
                continue
            level, continued = classify(text, level)
            self.emit(Entry(time.time(), component.name, level, text, continued))

    def _wait_ready(self, component: Component) -> None:
        def ready() -> bool:
            if self.stopping.is_set():
                raise LocalError("stopped while starting")
            if component.process is None or component.process.poll() is not None:
                return True  # reported below
            if component.ready_url:
                return http_ok(component.ready_url)
            port = component.ready_port
            if port is None and "--port" in component.argv:
                port = int(component.argv[component.argv.index("--port") + 1])
            return port is None or _listening(port)

        if component.oneshot:
            return
        wait_until(ready, component.ready_timeout)
        if component.process is None or component.process.poll() is not None:
            log = self.logs_dir / f"{component.name}.log"
            last = _last_line(log)
            raise LocalError(f"the {component.name} backend exited while starting"
                                 f"{f' ({last})' if last else ''}: see {log}")
        if component.ready_url and not http_ok(component.ready_url):
            raise LocalError(
                f"the {component.name} backend did not become ready in {component.ready_timeout:.0f}s"
            )

    def watch(self) -> None:
        """Block until asked to stop, restarting components that die."""
        while not self.stopping.wait(0.5):
            if self.guardian is not None and self.guardian.poll() is not None:
                self.say(f"the lifeline exited with {self.guardian.returncode}; starting a new one", "WARNING")
                self._start_lifeline()
                self.record()
            for component in self.components:
                process = component.process
                if process is None or process.poll() is None or component.finished:
                    continue
                if component.oneshot:
                    component.finished = True
                    outcome = "finished" if process.returncode == 0 else f"failed with exit code {process.returncode}"
                    self.say(f"{component.name} {outcome}; its log: {self.logs_dir / (component.name + '.log')}",
                             "INFO" if process.returncode == 0 else "ERROR")
                    self.record()
                    continue
                uptime = time.monotonic() - component.started_at
                backoff = 0.0 if uptime > 30 else min(10.0, 0.5 * 2 ** component.restarts)
                self.say(f"{component.name} exited with {process.returncode}; restarting in {backoff:.1f}s "
                         f"(its log: {self.logs_dir / (component.name + '.log')})", "WARNING")
                if self.stopping.wait(backoff):
                    return
                with self._lock:
                    if self.stopping.is_set():
                        return
                    component.restarts += 1
                    self._launch(component)
                try:
                    self._wait_ready(component)
                except LocalError as error:
                    self.say(str(error), "ERROR")
                self.record()

    def stop(self) -> None:
        with self._lock:
            self.stopping.set()
        for component in reversed(self.components):
            process = component.process
            if process is None or process.poll() is not None:
                continue
            # The whole process group (each component leads its own session): a Dagster daemon's run workers
            # and their dbt, the Lambda runtime's workers stop with it, not after the endpoint they talk to.
            _signal_group(process, component.stop_signal)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.say(f"{component.name} did not stop in {STOP_TIMEOUT_S:.0f}s; killing it", "WARNING")
                _signal_group(process, signal.SIGKILL)
                process.wait()
        self._stop_lifeline()
        self.run_files.release()

    def process_views(self) -> list[ProcessView]:
        views = []
        for component in list(self.components):
            process = component.process
            code = process.poll() if process else None
            if code is None and process is not None:
                state = "running"
            elif component.oneshot:
                state = "finished" if code == 0 else f"failed (exit {code})"
            else:
                state = "restarting"
            views.append(ProcessView(component.name, process.pid if process else None, state, component.restarts))
        return views


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        process.send_signal(sig)


def _last_line(log: Path) -> str:
    """The last non-empty line a process wrote, shortened: most often the reason it stopped."""
    try:
        with log.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 4096))
            lines = [line.strip() for line in handle.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    if not lines:
        return ""
    entry = parse(log.stem, lines[-1])
    return (entry.text if entry else lines[-1])[:200]


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run_foreground(settings: LocalSettings, after_start: Callable[[Supervisor], None] | None = None,
                   console: Console | None = None, reserved_ports: Collection[int] = (),
                   status: Callable[[Supervisor], Snapshot] | None = None, log_max_bytes: int = MAX_BYTES) -> None:
    """Start, run until a signal, stop. ``status`` gathers what the console's status shows."""
    supervisor = Supervisor(settings, console, reserved_ports, log_max_bytes)

    def on_signal(signum: int, frame: Any) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)  # the terminal closed: stop cleanly rather than die
    shown = threading.Event()
    status_thread = threading.Thread(target=supervisor.console.run, name="console", daemon=True,
                                     args=(lambda: status(supervisor), shown)) if status is not None else None
    supervisor.start()
    try:
        if after_start and not supervisor.stopping.is_set():
            after_start(supervisor)
        supervisor.ready = True
        supervisor.record()
        if status_thread is not None:
            status_thread.start()
        if not supervisor.stopping.is_set():
            supervisor.watch()
    finally:
        shown.set()
        if status_thread is not None and status_thread.is_alive():
            status_thread.join(5)
        supervisor.console.close()
        supervisor.say("stopping")
        supervisor.stop()
        supervisor.say("stopped; state kept in " + str(settings.data_dir))
