"""`wildrydes local ...`: run, inspect and wipe the local platform."""

from __future__ import annotations

import argparse
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

from infra.config import DEFAULT_HOST, DEFAULT_PORT, LocalSettings, default_data_dir
from infra.errors import WildrydesError, endpoint_not_running
from infra.local import preflight, services, status_report
from infra.local.dagster_home import prepare_home
from infra.local.supervisor import Component, RunFiles, Supervisor, run_foreground, wait_until


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
    up.add_argument("--history-hours", type=int, default=3,
                    help="on a fresh data directory, load this many past hours of the fleet's data so that "
                         "Dagster has complete hours to work on (default 3; 0 loads none)")
    up.add_argument("--parameter", "-p", action="append", default=[], metavar="KEY=VALUE",
                    help="template parameter for the deploy at start (repeatable), e.g. TumblingWindowInSeconds=5")
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
    settings = LocalSettings(data_dir=_data_dir(args), host=args.host, port=args.port)
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

            deploy_local(settings, parse_parameter_overrides(args.parameter),
                         out=lambda line: print(f"   deploy | {line}", flush=True))
        if args.no_deploy:
            _banner(settings, producing=None, map_url=None, dagster_url=None)
            return
        if not args.no_producer:
            supervisor.add(services.producer(settings, args.unicorns))
        map_url = None
        if not args.no_map:
            preflight.check_port_free(DEFAULT_HOST, args.map_port, "--map-port")
            map_url = f"http://{DEFAULT_HOST}:{args.map_port}/"
            supervisor.add(services.live_map(settings, args.map_port))
        history = None
        if args.history_hours > 0 and not (settings.data_dir / services.HISTORY_MARKER).exists():
            history = services.history(settings, args.history_hours, args.unicorns)
            supervisor.add(history)
        dagster_url = None
        if not args.no_dagster:
            preflight.check_port_free(DEFAULT_HOST, args.dagster_port, "--dagster-port")
            home = prepare_home(settings.data_dir)
            dagster_url = f"http://{DEFAULT_HOST}:{args.dagster_port}"
            supervisor.add(services.dagster_webserver(settings, home, args.dagster_port))
            # The daemon's sensors start from the oldest archived hour they see: let the history land first.
            _after(history, supervisor, lambda: supervisor.add(services.dagster_daemon(settings, home)))
        _banner(settings, producing=None if args.no_producer else args.unicorns, map_url=map_url,
                dagster_url=dagster_url, history_hours=args.history_hours if history else 0)

    run_foreground(settings, after_start, echo=lambda line: print(line, flush=True),
                   reserved_ports=(args.map_port, args.dagster_port))
    return 0


def _after(oneshot: Component | None, supervisor: Supervisor, then: Callable[[], None]) -> None:
    """Run ``then`` once ``oneshot`` has exited (at once without one), unless the platform is stopping."""

    def wait() -> None:
        if oneshot is not None and oneshot.process is not None:
            oneshot.process.wait()
        if not supervisor.stopping.is_set():
            try:
                then()
            except WildrydesError as error:
                print(f"supervisor | {error}", flush=True)

    threading.Thread(target=wait, daemon=True).start()


def _banner(settings: LocalSettings, producing: int | None, map_url: str | None, dagster_url: str | None,
            history_hours: int = 0) -> None:
    lines = [
        "",
        "Wild Rydes local platform is up",
        f"  AWS endpoint     {settings.endpoint_url}   (export AWS_ENDPOINT_URL={settings.endpoint_url})",
        f"  health           {settings.endpoint_url}/_wildrydes/health",
        *([f"  live map         {map_url}"] if map_url else []),
        *([f"  Dagster          {dagster_url}   (assets, partitions, runs, checks)"] if dagster_url else []),
        *([f"  history          loading {history_hours} past hours of the fleet (log: "
           f"{settings.data_dir / 'logs' / 'history.log'}); the Dagster daemon starts when it is in"]
          if history_hours else []),
        f"  data directory   {settings.data_dir}",
        *([f"  producer         {producing} unicorns -> Kinesis 'wildrydes'; per-minute aggregates in DynamoDB: "
           "`wildrydes aggregates --unicorn Shadowfax`"] if producing else []),
        "  stop             Ctrl-C, or `wildrydes local down`",
        "",
    ]
    print("\n".join(lines), flush=True)


def _running(data_dir: Path) -> dict | None:
    return RunFiles(data_dir).read()


def _down(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    running = _running(data_dir)
    if not running:
        print(f"no local platform is running on {data_dir}")
        return 0
    pid = int(running["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        RunFiles(data_dir).state_path.unlink(missing_ok=True)
        print("the local platform was not running (stale run file removed)")
        return 0
    if not wait_until(lambda: not _alive(pid), timeout=60, interval=0.2):
        raise WildrydesError(f"the local platform (pid {pid}) did not stop within 60s: kill it with `kill {pid}`")
    print("local platform stopped; state kept in " + str(data_dir))
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (stopped but not yet reaped by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


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
    import boto3

    data_dir = _data_dir(args)
    running = _running(data_dir)
    endpoint = running["endpoint"] if running else LocalSettings(data_dir).endpoint_url
    if not running or not _alive(int(running["pid"])):
        raise endpoint_not_running(endpoint)
    if running.get("starting"):
        raise WildrydesError("the local platform is still starting: try again in a few seconds")
    report = health(endpoint)
    report["endpoint"] = endpoint
    report["uptime_s"] = round(time.time() - running["started_at"])
    report["components"] = running["components"]
    settings = LocalSettings(data_dir)
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=settings.aws_env()["AWS_REGION"],
                       aws_access_key_id=settings.aws_env()["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=settings.aws_env()["AWS_SECRET_ACCESS_KEY"])
    report["processing"] = status_report.collect(data_dir, sqs)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"endpoint  {endpoint}   ({report['status']}, up {report['uptime_s']}s)")
        for name, state in report["backends"].items():
            print(f"  {name:<10} {state}")
        for name, component in running["components"].items():
            alive = component["pid"] and _alive(int(component["pid"]))
            state = "running" if alive else "down"
            if component.get("oneshot") and not alive:
                state = "finished" if component.get("exit") == 0 else f"failed (exit {component.get('exit')})"
            print(f"  process {name:<10} pid {component['pid']:<8} {state:<10} restarts {component['restarts']}")
        print("\n".join(status_report.render(report["processing"])))
    return 0 if report["status"] == "ok" else 1


def _reset(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    running = _running(data_dir)
    if running and _alive(int(running["pid"])):
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
