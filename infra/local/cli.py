"""`wildrydes local ...`: run, inspect and wipe the local platform."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from infra.config import DEFAULT_HOST, DEFAULT_PORT, LocalSettings, default_data_dir
from infra.errors import WildrydesError, endpoint_not_running
from infra.local import preflight
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
    up.add_argument("--parameter", "-p", action="append", default=[], metavar="KEY=VALUE",
                    help="template parameter for the deploy at start (repeatable), e.g. TumblingWindowInSeconds=5")
    up.set_defaults(func=_up)

    down = commands.add_parser("down", help="stop a running local platform (state is kept)",
                               description="Stop the local platform started by `wildrydes local up`.")
    _data_dir_option(down)
    down.set_defaults(func=_down)

    status = commands.add_parser("status", help="show each backend's health",
                                 description="Show whether the local platform runs and each backend's health.")
    _data_dir_option(status)
    status.add_argument("--json", action="store_true", help="print machine-readable JSON")
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

    def after_start(supervisor: Supervisor) -> None:
        for key, value in settings.aws_env().items():
            os.environ[key] = value
        if not args.no_deploy:
            from infra.deploy.local import deploy_local
            from infra.deploy.template import parse_parameter_overrides

            deploy_local(settings, parse_parameter_overrides(args.parameter),
                         out=lambda line: print(f"   deploy | {line}", flush=True))
        if not args.no_producer and not args.no_deploy:
            supervisor.add(Component(
                "producer", [sys.executable, "-m", "infra.cli", "produce", "--unicorns", str(args.unicorns),
                             "--report-every", "10"], env=settings.aws_env()))
        map_url = None
        if not args.no_map and not args.no_deploy:
            preflight.check_port_free(DEFAULT_HOST, args.map_port)
            map_url = f"http://127.0.0.1:{args.map_port}/"
            supervisor.add(Component(
                "map", [sys.executable, "-m", "infra.cli", "map", "--port", str(args.map_port), "--data-dir",
                        str(settings.data_dir), "--endpoint", settings.endpoint_url],
                ready_url=f"{map_url}healthz", env=settings.aws_env()))
        _banner(settings, producing=None if args.no_producer or args.no_deploy else args.unicorns, map_url=map_url)

    run_foreground(settings, after_start, echo=lambda line: print(line, flush=True))
    return 0


def _banner(settings: LocalSettings, producing: int | None, map_url: str | None) -> None:
    lines = [
        "",
        "Wild Rydes local platform is up",
        f"  AWS endpoint     {settings.endpoint_url}   (export AWS_ENDPOINT_URL={settings.endpoint_url})",
        f"  health           {settings.endpoint_url}/_wildrydes/health",
        *([f"  live map         {map_url}"] if map_url else []),
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
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"endpoint  {endpoint}   ({report['status']}, up {report['uptime_s']}s)")
        for name, state in report["backends"].items():
            print(f"  {name:<10} {state}")
        for name, component in running["components"].items():
            alive = component["pid"] and _alive(int(component["pid"]))
            print(f"  process {name:<10} pid {component['pid']:<8} {'running' if alive else 'down'}"
                  f"   restarts {component['restarts']}")
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
