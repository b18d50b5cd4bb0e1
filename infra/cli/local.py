"""`wildrydes local ...`: run, inspect and wipe the local platform."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from infra.cli.logs import add_logs_command
from infra.deploy.state import outputs_environment, read_outputs
from infra.errors import WildrydesError
from localaws.errors import LocalError, endpoint_not_running
from localaws.settings import DEFAULT_HOST, DEFAULT_PORT, LocalSettings, default_data_dir
from localaws.supervisor import lifeline, postgres, preflight, services, status_report
from localaws.supervisor.console import Snapshot, for_terminal
from localaws.supervisor.dagster_home import postgres_storage, prepare_home
from localaws.supervisor.dagster_status import latest_runs
from localaws.supervisor.logs import BACKUPS, MAX_BYTES, Entry
from localaws.supervisor.processes import Member, ProcessRecord, alive, members
from localaws.supervisor.supervisor import Component, RunFiles, Supervisor, run_foreground, wait_until


def add_local_commands(subparsers: argparse._SubParsersAction) -> None:
    local = subparsers.add_parser("local", help="run the whole platform on this machine",
                                  description="Run, inspect and wipe the local platform.")
    commands = local.add_subparsers(dest="local_command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start the local platform in the foreground (Ctrl-C stops it)",
                             description="Start the local AWS endpoint and deploy the infrastructure; runs "
                                         "until Ctrl-C or SIGTERM. Running it again resumes with the same state.")
    _data_dir_option(up)
    up.add_argument("--port", type=int, default=int(os.environ.get("WILDRYDES_PORT", DEFAULT_PORT)),
                    help=f"port of the local AWS endpoint (default {DEFAULT_PORT})")
    up.add_argument("--host", default=DEFAULT_HOST,
                    help="address to listen on (default 127.0.0.1; anything else exposes the endpoint "
                         "beyond this machine)")
    up.add_argument("--no-deploy", action="store_true", help="start the endpoint without deploying")
    up.add_argument("--no-producer", action="store_true", help="do not start the fleet producer")
    up.add_argument("--no-map", action="store_true", help="do not serve the live map")
    up.add_argument("--map-port", type=int, default=8000, help="port of the live map (default 8000)")
    up.add_argument("--unicorns", type=int, default=20, help="fleet size of the producer (default 20)")
    up.add_argument("--no-dagster", action="store_true", help="do not start the Dagster webserver and daemon")
    up.add_argument("--dagster-port", type=int, default=3000, help="port of the Dagster UI (default 3000)")
    up.add_argument("--dagster-storage", choices=("sqlite", "postgres"), default="sqlite",
                    help="where the Dagster instance keeps runs, events and schedules: sqlite (files in the data "
                         "directory; the default) or postgres (a PostgreSQL server the platform runs in the data "
                         "directory, as the AWS deployment's RDS: the rehearsal of production)")
    up.add_argument("--postgres-port", type=int, default=postgres.DEFAULT_PORT,
                    help=f"port of that PostgreSQL server, on 127.0.0.1 (default {postgres.DEFAULT_PORT})")
    up.add_argument("--history-hours", type=int, default=3,
                    help="on a fresh data directory, load this many past hours of the fleet's data so that "
                         "Dagster has complete hours to work on (default 3; 0 loads none)")
    up.add_argument("--parameter", "-p", action="append", default=[], metavar="KEY=VALUE",
                    help="template parameter for the deploy at start (repeatable), e.g. TumblingWindowInSeconds=5")
    up.add_argument("--shards", type=int, default=None, metavar="N",
                    help="shards of the source stream when it is created (the template's SourceStreamShardCount; "
                         "a running stream is resharded with `aws kinesis update-shard-count`)")
    up.add_argument("--iam", choices=("enforce", "audit", "off"), default="enforce",
                    help="how the endpoint treats a request its signer's IAM policies do not allow: enforce "
                         "(refuse it, as AWS does; the default), audit (log it, let it through), off (check nothing)")
    up.add_argument("--verbose", "-v", action="store_true",
                    help="print every line of every component (they always go to <data dir>/logs/)")
    up.add_argument("--log-max-bytes", type=int, default=MAX_BYTES, metavar="BYTES",
                    help=f"size at which a component's log file is rotated; {BACKUPS} older files are kept "
                         f"(default {MAX_BYTES // 1024 // 1024} MiB)")
    up.set_defaults(func=_up)

    down = commands.add_parser("down", help="stop a running local platform (state is kept)",
                               description="Stop the local platform started by `wildrydes local up`.")
    _data_dir_option(down)
    down.set_defaults(func=_down)

    status = commands.add_parser("status", help="health, lag and quarantined records of the running platform",
                                 description="Show whether the local platform runs, each backend's health and "
                                             "process, how far behind the stream's tip each event source mapping "
                                             "and delivery stream is, what they processed, and the records set "
                                             "aside (quarantine, dead-letter queues, Firehose's error prefix).")
    _data_dir_option(status)
    status.add_argument("--json", action="store_true", help="print machine-readable JSON")
    status.add_argument("--watch", type=float, nargs="?", const=2.0, default=None, metavar="SECONDS",
                        help="refresh every SECONDS (default 2) until Ctrl-C")
    status.set_defaults(func=_status)

    add_logs_command(commands)

    reset = commands.add_parser("reset", help="delete all local state (asks first)",
                                description="Delete the data directory: streams, tables, buckets, catalog.")
    _data_dir_option(reset)
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reset.set_defaults(func=_reset)


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="directory holding all local state (default .wildrydes/ in the checkout, "
                             "or WILDRYDES_DATA_DIR)")


def _data_dir(args: argparse.Namespace) -> Path:
    return (args.data_dir or default_data_dir()).resolve()


def _up(args: argparse.Namespace) -> int:
    settings = LocalSettings(data_dir=_data_dir(args), host=args.host, port=args.port, iam=args.iam)
    console = for_terminal(sys.stdout, verbose=args.verbose)
    dagster_url = None if args.no_dagster or args.no_deploy else f"http://{DEFAULT_HOST}:{args.dagster_port}"
    # Fail before anything starts, not after the deploy (checked again when each server is added).
    servers = () if args.no_deploy else ((not args.no_map, args.map_port, "--map-port"),
                                         (not args.no_dagster, args.dagster_port, "--dagster-port"))
    for wanted, port, option in servers:
        if wanted:
            preflight.check_port_free(DEFAULT_HOST, port, option)

    def after_start(supervisor: Supervisor) -> None:
        for key, value in settings.aws_env().items():
            os.environ[key] = value
        if not args.no_deploy:
            from infra.deploy.local import deploy_local
            from infra.deploy.template import parse_parameter_overrides

            deploy_log = supervisor.log("deploy")
            supervisor.say(f"deploying the stack (log: {deploy_log.path})")
            parameters = [*args.parameter, *([f"SourceStreamShardCount={args.shards}"] if args.shards else [])]
            deploy_local(settings.data_dir, parse_parameter_overrides(parameters),
                         out=lambda line: deploy_log.write(Entry(time.time(), "deploy", "INFO", line)))
        if args.no_deploy:
            console.banner(_banner(settings, producing=None, map_url=None, dagster_url=None))
            return
        env = services.platform_env(settings, outputs_environment(read_outputs(settings.data_dir)))
        if not args.no_producer:
            supervisor.add(services.producer(env, args.unicorns))
        map_url = None
        if not args.no_map:
            preflight.check_port_free(DEFAULT_HOST, args.map_port, "--map-port")
            map_url = f"http://{DEFAULT_HOST}:{args.map_port}/"
            supervisor.add(services.live_map(settings, env, args.map_port))
        history = None
        if args.history_hours > 0 and not (settings.data_dir / services.HISTORY_MARKER).exists():
            history = services.history(settings, env, args.history_hours, args.unicorns)
            supervisor.add(history)
        storage_line = None
        if dagster_url:
            preflight.check_port_free(DEFAULT_HOST, args.dagster_port, "--dagster-port")
            dagster_env, storage = env, None
            if args.dagster_storage == "postgres":
                preflight.check_port_free(DEFAULT_HOST, args.postgres_port, "--postgres-port")
                server = postgres.prepare(settings.data_dir, args.postgres_port)
                supervisor.add(server.component())
                dagster_env = {**env, **server.env()}
                os.environ.update(server.env())  # prepare_home opens the instance
                storage = postgres_storage(server.port, postgres.DB_USER, postgres.DB_NAME, postgres.PASSWORD_ENV)
                storage_line = (f"PostgreSQL on 127.0.0.1:{server.port}, database {postgres.DB_NAME} "
                                f"(log: {settings.data_dir / 'logs' / 'postgres.log'})")
            home = prepare_home(settings.data_dir, storage=storage)
            supervisor.add(services.dagster_webserver(dagster_env, home, args.dagster_port))
            # The daemon's sensors start from the oldest archived hour they see: let the history land first.
            _after(history, supervisor, lambda: supervisor.add(services.dagster_daemon(dagster_env, home)))
        console.banner(_banner(settings, producing=None if args.no_producer else args.unicorns, map_url=map_url,
                               dagster_url=dagster_url, history_hours=args.history_hours if history else 0,
                               dagster_storage=storage_line))

    sqs = _sqs(settings.data_dir, settings.endpoint_url)

    def status(supervisor: Supervisor) -> Snapshot:
        outputs = (read_outputs(settings.data_dir) or {}).get("Outputs") or {}
        mappings, deliveries, set_aside = status_report.compact(status_report.collect(
            settings.data_dir, outputs, sqs, endpoint=settings.endpoint_url))
        return Snapshot(processes=supervisor.process_views(), mappings=mappings, deliveries=deliveries,
                        set_aside=set_aside, dagster=latest_runs(dagster_url) if dagster_url else [])

    run_foreground(settings, after_start, console=console, reserved_ports=(args.map_port, args.dagster_port),
                   status=status, log_max_bytes=args.log_max_bytes)
    return 0


def _after(oneshot: Component | None, supervisor: Supervisor, then: Callable[[], None]) -> None:
    """Run ``then`` once ``oneshot`` has exited (at once without one), unless the platform is stopping."""

    def wait() -> None:
        if oneshot is not None and oneshot.process is not None:
            oneshot.process.wait()
        if not supervisor.stopping.is_set():
            try:
                then()
            except LocalError as error:
                supervisor.say(str(error), "ERROR")

    threading.Thread(target=wait, daemon=True).start()


def _banner(settings: LocalSettings, producing: int | None, map_url: str | None, dagster_url: str | None,
            history_hours: int = 0, dagster_storage: str | None = None) -> list[str]:
    cli = command_name()
    lines = [
        "",
        "Wild Rydes local platform is up",
        f"  AWS endpoint     {settings.endpoint_url}",
        f"  shell            {settings.shell_exports()}",
        f"  health           {settings.endpoint_url}/_wildrydes/health",
        *([f"  live map         {map_url}"] if map_url else []),
        *([f"  Dagster          {dagster_url}   (assets, partitions, runs, checks)"] if dagster_url else []),
        *([f"  Dagster storage  {dagster_storage}"] if dagster_url and dagster_storage else []),
        *([f"  history          loading {history_hours} past hours of the fleet (log: "
           f"{settings.data_dir / 'logs' / 'history.log'}); the Dagster daemon starts when it is in"]
          if history_hours else []),
        f"  data directory   {settings.data_dir}",
        f"  logs             {settings.data_dir / 'logs'}   (`{cli} local logs -f`, `--level warning`)",
        *([f"  producer         {producing} unicorns -> Kinesis 'wildrydes'; per-minute aggregates in DynamoDB "
           f"(after the export above): `{cli} aggregates --unicorn Shadowfax`"] if producing else []),
        f"  stop             Ctrl-C, or `{cli} local down`",
        "",
    ]
    return lines


def command_name() -> str:
    """``wildrydes`` when the shell finds this very command, else its path (``.venv/bin/wildrydes`` from the
    checkout): what the banner prints must run when pasted."""
    script = Path(sys.executable).parent / "wildrydes"
    found = shutil.which("wildrydes")
    if found and Path(found).resolve() == script.resolve():
        return "wildrydes"
    with contextlib.suppress(ValueError):
        return str(script.relative_to(Path.cwd()))
    return str(script)


def _running(data_dir: Path) -> dict | None:
    return RunFiles(data_dir).read()


def _supervisor_running(running: dict) -> bool:
    """The run file's supervisor is alive (by pid, start time and command line, so never a reused pid)."""
    record = ProcessRecord.from_json(running.get("supervisor"))
    return record.running() if record else _alive(int(running["pid"]))


def _component_running(entry: dict) -> bool:
    record = ProcessRecord.from_json(entry)
    return record.running() if record else bool(entry.get("pid")) and _alive(int(entry["pid"]))


def _left_running(running: dict) -> list[Member]:
    """What a run whose supervisor is gone still has running: its marked processes and recorded ones."""
    recorded = lifeline.recorded_processes(running)
    found = {m.pid: m for m in members(running["run_id"])} if running.get("run_id") else {}
    for name, record in recorded.items():
        if record.pid not in found and record.running():
            found[record.pid] = Member(record.pid, name, " ".join(record.argv))
    return list(found.values())


def _down(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    running = _running(data_dir)
    if not running:
        print(f"no local platform is running on {data_dir}")
        return 0
    pid = int(running["pid"])
    if _supervisor_running(running):
        os.kill(pid, signal.SIGTERM)
        if not wait_until(lambda: not _alive(pid), timeout=90, interval=0.2):
            raise WildrydesError(f"the local platform (pid {pid}) did not stop within 90s: kill it with `kill {pid}` "
                                 "(its lifeline then stops what it started)")
        print("local platform stopped; state kept in " + str(data_dir))
        return 0
    # The supervisor is gone without removing its run file: stop what it left, then remove the file.
    stopped = lifeline.sweep(running["run_id"], lifeline.recorded_processes(running)) if running.get("run_id") else []
    run_files = RunFiles(data_dir)
    with contextlib.suppress(LocalError):
        run_files.acquire()
        run_files.release()
    if stopped:
        print(f"the supervisor (pid {pid}) was gone; stopped {lifeline.summary(stopped)} it left running; "
              f"state kept in {data_dir}")
    else:
        print(f"no local platform is running on {data_dir} (the last run, pid {pid}, ended without a clean stop "
              "and left nothing running)")
    return 0


def _alive(pid: int) -> bool:
    return alive(pid)


def health(endpoint: str, timeout: float = 5.0) -> dict:
    try:
        with urllib.request.urlopen(f"{endpoint}/_wildrydes/health", timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())
    except (urllib.error.URLError, OSError, ValueError):
        raise endpoint_not_running(endpoint) from None


def _status(args: argparse.Namespace) -> int:
    if args.watch is None:
        return _status_once(args)
    if args.watch <= 0:
        raise WildrydesError("--watch needs a positive number of seconds")
    code = 0
    try:
        while True:
            if not args.json and sys.stdout.isatty():
                print("\033[2J\033[H", end="")  # clear the terminal between refreshes
            code = _status_once(args)
            print(f"(every {args.watch:g}s; Ctrl-C stops)" if not args.json else "", flush=True)
            time.sleep(args.watch)
    except KeyboardInterrupt:
        return code


def _status_once(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    running = _running(data_dir)
    endpoint = running["endpoint"] if running and running.get("endpoint") else LocalSettings(data_dir).endpoint_url
    if not running:
        raise endpoint_not_running(endpoint)
    if not _supervisor_running(running):
        return _status_without_supervisor(args, running, endpoint)
    if running.get("starting"):
        raise WildrydesError("the local platform is still starting: try again in a few seconds")
    report = health(endpoint)
    report["endpoint"] = endpoint
    report["uptime_s"] = round(time.time() - running["started_at"])
    report["components"] = {name: {**entry, "running": _component_running(entry)}
                            for name, entry in running["components"].items()}
    guardian = ProcessRecord.from_json(running.get("lifeline"))
    # A process that is not running is a stalled pipeline, whatever the endpoint's health says.
    report["problems"] = [
        f"{name} is not running (pid {entry['pid']}, restarts {entry['restarts']})"
        for name, entry in report["components"].items() if not entry["running"] and not entry.get("oneshot")
    ] + ([] if guardian and guardian.running() else
         ["the lifeline is not running: the platform's processes would outlive a crash of `local up`"])
    if report["problems"] and report["status"] == "ok":
        report["status"] = "unhealthy"
    outputs = (read_outputs(data_dir) or {}).get("Outputs") or {}
    report["processing"] = status_report.collect(data_dir, outputs, _sqs(data_dir, endpoint), endpoint=endpoint)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"endpoint  {endpoint}   ({report['status']}, up {report['uptime_s']}s)")
        for problem in report["problems"]:
            print(f"  problem: {problem}")
        for name, state in report["backends"].items():
            print(f"  {name:<10} {state}")
        for name, component in report["components"].items():
            state = "running" if component["running"] else "down"
            if component.get("oneshot") and not component["running"]:
                state = "finished" if component.get("exit") == 0 else f"failed (exit {component.get('exit')})"
            print(f"  process {name:<10} pid {component['pid']:<8} {state:<10} restarts {component['restarts']}")
        print("\n".join(status_report.render(report["processing"])))
    return 0 if report["status"] == "ok" else 1


def _status_without_supervisor(args: argparse.Namespace, running: dict, endpoint: str) -> int:
    """The run file names a supervisor that is gone: say what it left running, if anything (exit 1)."""
    left = _left_running(running)
    pid = running["pid"]
    if left:
        message = (f"the local platform's supervisor (pid {pid}) is gone, but {lifeline.summary(left)} still run: "
                   "nothing consumes the stream; stop them with `wildrydes local down`")
    else:
        message = (f"the local platform is not running (its last run, pid {pid}, ended without a clean stop; "
                   "nothing of it is left): start it with `wildrydes local up`")
    if args.json:
        print(json.dumps({"status": "down", "endpoint": endpoint, "problems": [message],
                          "left_running": [m.__dict__ for m in left]}, indent=2))
    else:
        print(message)
    return 1


def _sqs(data_dir: Path, endpoint: str) -> object:
    import boto3

    env = LocalSettings(data_dir).aws_env()
    return boto3.client("sqs", endpoint_url=endpoint, region_name=env["AWS_REGION"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])


def _reset(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    running = _running(data_dir)
    if running and (_supervisor_running(running) or _left_running(running)):
        raise WildrydesError("the local platform is running: stop it first with `wildrydes local down`")
    if not data_dir.exists():
        print(f"nothing to reset: {data_dir} does not exist")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise WildrydesError("refusing to delete without confirmation: pass --yes")
        answer = input(f"Delete all local state in {data_dir}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept")
            return 1
    shutil.rmtree(data_dir)
    print(f"deleted {data_dir}")
    return 0
