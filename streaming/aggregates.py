"""`wildrydes aggregates`: a unicorn's per-minute rows from DynamoDB, by a Query on the key schema."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

import boto3
from boto3.dynamodb.conditions import Key

COLUMNS = ("Name", "StatusTime", "Distance", "MinHealthPoints", "MaxHealthPoints", "MinMagicPoints",
           "MaxMagicPoints", "RecordCount", "WindowEnd")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.000"


def add_aggregates_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "aggregates", help="print a unicorn's per-minute aggregates from DynamoDB",
        description="Query UnicornSensorData for one unicorn's per-minute rows (distance, min/max health "
                    "and magic, record count), oldest first.")
    parser.add_argument("--unicorn", required=True, help="the unicorn's Name, e.g. Shadowfax")
    parser.add_argument("--since", type=parse_time, help="first window start to include (UTC, e.g. '2026-11-25 18:00' "
                                                         "or '-2h' for two hours ago)")
    parser.add_argument("--until", type=parse_time, help="last window start to include (UTC)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--table", default="UnicornSensorData", help="DynamoDB table (default UnicornSensorData)")
    parser.set_defaults(func=run)


def parse_time(text: str) -> datetime:
    text = text.strip()
    if text.startswith("-") and text[-1] in "smhd":
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[text[-1]]
        return datetime.now(UTC) - timedelta(**{unit: float(text[1:-1])})
    for layout in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.rstrip("Z"), layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"not a time: {text!r} (use 'YYYY-MM-DD HH:MM[:SS]' UTC or '-2h')")


def query(table: Any, unicorn: str, since: datetime | None, until: datetime | None) -> Iterator[dict[str, Any]]:
    condition = Key("Name").eq(unicorn)
    low = since.strftime(TIME_FORMAT) if since else None
    high = until.strftime(TIME_FORMAT) if until else None
    if low and high:
        condition &= Key("StatusTime").between(low, high)
    elif low:
        condition &= Key("StatusTime").gte(low)
    elif high:
        condition &= Key("StatusTime").lte(high)
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition}
    while True:
        page = table.query(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def write(rows: list[dict[str, Any]], layout: str, out: TextIO) -> None:
    rows = [{c: _plain(r.get(c)) for c in COLUMNS} for r in rows]
    if layout == "json":
        out.write(json.dumps(rows, indent=2) + "\n")
    elif layout == "csv":
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        cells = [[f"{v:.2f}" if isinstance(v, float) else str(v) for v in r.values()] for r in rows]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(COLUMNS)]
        out.write("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip() + "\n")
        for row in cells:
            out.write("  ".join(v.rjust(w) if i >= 2 else v.ljust(w)
                                for i, (v, w) in enumerate(zip(row, widths, strict=True))).rstrip() + "\n")
        out.write(f"({len(rows)} rows)\n")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    table = boto3.resource("dynamodb").Table(args.table)
    rows = list(query(table, args.unicorn, args.since, args.until))
    write(rows, args.format, out or sys.stdout)
    return 0
