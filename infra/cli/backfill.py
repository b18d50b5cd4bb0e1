"""``wildrydes backfill-history``: load past hours of simulated fleet data (``localaws.backfill``)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from localaws.backfill.deployment import DEFAULT_AGGREGATOR, DEFAULT_DELIVERY_STREAM, DEFAULT_WRITER, Clients, discover
from localaws.backfill.loader import load_history


def add_backfill_command(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "backfill-history",
        help="load past hours of simulated fleet data into DynamoDB and the archive",
        description="Generate N past hours of fleet data (seeded) and push it through the deployed Lambda "
        "handlers (aggregator, summary writer, archive transform) and the Parquet conversion, so that "
        "closed, complete hours exist in DynamoDB and in the S3 archive.",
    )
    parser.add_argument("--hours", type=_positive_int, default=3, help="how many whole hours (default 3)")
    parser.add_argument("--unicorns", type=_positive_int, default=20, help="fleet size (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1; same seed => same data)")
    parser.add_argument("--end", type=_utc_hour, default=None, metavar="TIME",
                        help="end of the last hour, UTC, e.g. '2026-11-25 18:00' (default: start of this hour)")
    parser.add_argument("--force", action="store_true",
                        help="write even into hours whose archive already holds other data")
    parser.add_argument("--marker", type=Path, default=None, metavar="FILE",
                        help="do nothing if FILE exists; write it (a JSON summary) once the history is loaded — "
                        "for loading history once, on a fresh platform")
    parser.add_argument("--aggregator", default=DEFAULT_AGGREGATOR, help=argparse.SUPPRESS)
    parser.add_argument("--writer", default=DEFAULT_WRITER, help=argparse.SUPPRESS)
    parser.add_argument("--delivery-stream", default=DEFAULT_DELIVERY_STREAM, help=argparse.SUPPRESS)
    parser.set_defaults(func=run_backfill)
    return parser


def run_backfill(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if args.marker and args.marker.exists():
        out.write(f"backfill-history: already loaded ({args.marker} exists)\n")
        return 0
    clients = Clients.from_environment()
    end = args.end or datetime.now(UTC)
    dep = discover(clients, args.aggregator, args.writer, args.delivery_stream)
    report = load_history(args.hours, args.unicorns, args.seed, end, clients, dep, args.force, sys.stderr)
    out.write(f"backfill-history: {report.records} records of {args.unicorns} unicorns, "
              f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC: {report.windows} windows, "
              f"{report.items} DynamoDB items, {report.objects} archive objects\n")
    if args.marker:
        args.marker.parent.mkdir(parents=True, exist_ok=True)
        args.marker.write_text(json.dumps({
            "hours": report.hours, "unicorns": args.unicorns, "seed": args.seed, "records": report.records,
            "items": report.items, "objects": report.objects, "loaded_at": datetime.now(UTC).isoformat(),
        }, indent=2) + "\n")
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _utc_hour(text: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"not a UTC time like '2026-11-25 18:00': {text!r}")
