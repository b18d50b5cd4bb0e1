"""`wildrydes local logs`: the platform's logs, merged in time order across components, like
`docker compose logs` (``localaws/supervisor/logs.py`` writes them)."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from localaws.errors import LocalError
from localaws.settings import default_data_dir
from localaws.supervisor.logs import LEVELS, Entry, Follower, components, read

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_logs_command(commands: argparse._SubParsersAction) -> None:
    logs = commands.add_parser("logs", help="the platform's logs, merged in time order",
                               description="Print the logs of the local platform's components, merged in time "
                                           "order (all components unless some are named).")
    logs.add_argument("components", nargs="*", metavar="COMPONENT",
                      help="e.g. lambda, firehose, dagster, daemon, gateway, supervisor (default: all)")
    logs.add_argument("--data-dir", type=Path, default=None,
                      help="data directory of the platform (default .wildrydes/ or WILDRYDES_DATA_DIR)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until Ctrl-C")
    logs.add_argument("--since", type=since_time, default=None, metavar="WHEN",
                      help="only lines from then on: a duration back from now (30s, 10m, 2h, 1d) or a UTC time "
                           "(2026-12-04T17:00)")
    logs.add_argument("--level", choices=[level.lower() for level in LEVELS], default="debug",
                      help="only lines of this level or above (default debug: all)")
    logs.set_defaults(func=run_logs)


def since_time(text: str) -> float:
    match = _DURATION.match(text.strip())
    if match:
        return time.time() - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration like 10m or a time like 2026-12-04T17:00: {text!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def format_entry(entry: Entry) -> str:
    stamp = datetime.fromtimestamp(entry.time, UTC).strftime("%H:%M:%S.%f")[:12]
    return f"{entry.component:>10} | {stamp} {entry.level:<8}{entry.text}"


def run_logs(args: argparse.Namespace) -> int:
    logs_dir = (args.data_dir or default_data_dir()).resolve() / "logs"
    known = components(logs_dir)
    if not known:
        raise LocalError(f"no logs in {logs_dir}: has `wildrydes local up` run with this data directory?")
    unknown = [name for name in args.components if name not in known]
    if unknown:
        raise LocalError(f"no log of {', '.join(unknown)} in {logs_dir}; there are: {', '.join(known)}")
    level = args.level.upper()
    follower = Follower(logs_dir, args.components, level) if args.follow else None
    until = follower.started if follower else None
    try:
        for entry in read(logs_dir, args.components, since=args.since, until=until, min_level=level):
            print(format_entry(entry))
        if follower:
            sys.stdout.flush()
            for entry in follower.entries():
                if entry.time > follower.started:
                    print(format_entry(entry), flush=True)
    except (KeyboardInterrupt, BrokenPipeError):
        return 0
    return 0
