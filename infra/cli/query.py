"""`wildrydes query "SQL"`: run one statement through the Athena API (boto3, AWS_ENDPOINT_URL) and print
its rows as a table, CSV or JSON, with the data scanned and the time taken.

Works the same against the local engine and against AWS Athena. Until the command is registered in
infra/cli/app.py it also runs as ``python -m infra.cli.query "SQL"``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from typing import Any, TextIO

import boto3
from botocore.config import Config

from infra.errors import WildrydesError

NUMERIC = frozenset({"tinyint", "smallint", "integer", "bigint", "float", "real", "double", "decimal"})
FINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


def add_query_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "query", help="run SQL through Athena and print the result",
        description="Run one SQL statement through the Athena API (the local engine, or AWS) and print its "
                    "result, the data it scanned and the time it took.")
    parser.add_argument("sql", help="the statement, e.g. \"SELECT name, sum(distance) FROM unicorn_status GROUP BY "
                                    "name\"; '-' reads it from stdin")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table",
                        help="table (default), csv (Athena's result file layout) or json (a list of objects)")
    parser.add_argument("--database", default="wildrydes", help="default database (default wildrydes)")
    parser.add_argument("--workgroup", default="wildrydes", help="Athena workgroup (default wildrydes)")
    parser.add_argument("--output-location", help="s3:// folder for results when the workgroup does not enforce one")
    parser.add_argument("--max-rows", type=int, default=None, help="print at most this many rows")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for the query (default 1800)")
    parser.set_defaults(func=run)
    return parser


def _client() -> Any:
    return boto3.client("athena", config=Config(retries={"max_attempts": 5, "mode": "standard"}))


def execute(athena: Any, sql: str, database: str, workgroup: str, output_location: str | None,
            timeout: float) -> dict[str, Any]:
    """Start the query and wait for a final state; Ctrl-C stops it."""
    request: dict[str, Any] = {"QueryString": sql, "QueryExecutionContext": {"Database": database},
                               "WorkGroup": workgroup}
    if output_location:
        request["ResultConfiguration"] = {"OutputLocation": output_location}
    query_id = athena.start_query_execution(**request)["QueryExecutionId"]
    deadline = time.monotonic() + timeout
    delay = 0.05
    try:
        while True:
            execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            if execution["Status"]["State"] in FINAL:
                return execution
            if time.monotonic() > deadline:
                athena.stop_query_execution(QueryExecutionId=query_id)
                raise WildrydesError(f"query {query_id} did not finish in {timeout:.0f}s; stopped it")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
    except KeyboardInterrupt:
        athena.stop_query_execution(QueryExecutionId=query_id)
        raise


def fetch(athena: Any, execution: dict[str, Any], max_rows: int | None) -> tuple[list[dict[str, Any]],
                                                                                 list[list[str | None]]]:
    """ColumnInfo and the data rows (Athena's header row dropped)."""
    query_id = execution["QueryExecutionId"]
    header = execution.get("StatementType") == "DML" and execution.get("SubstatementType") in ("SELECT", None)
    columns: list[dict[str, Any]] = []
    rows: list[list[str | None]] = []
    token = None
    first = True
    while True:
        kwargs: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": 1000}
        if token:
            kwargs["NextToken"] = token
        page = athena.get_query_results(**kwargs)
        columns = columns or page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        page_rows = [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        if first and header and page_rows:
            page_rows = page_rows[1:]
        first = False
        rows += page_rows
        token = page.get("NextToken")
        if not token or (max_rows is not None and len(rows) >= max_rows):
            return columns, rows[:max_rows] if max_rows is not None else rows


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    return f"{count} B"


def _typed(value: str | None, athena_type: str) -> Any:
    if value is None:
        return None
    try:
        if athena_type in ("tinyint", "smallint", "integer", "bigint"):
            return int(value)
        if athena_type in ("float", "real", "double"):
            return float(value)
        if athena_type == "boolean":
            return value == "true"
    except ValueError:
        return value
    return value


def write(columns: list[dict[str, Any]], rows: list[list[str | None]], layout: str, out: TextIO) -> None:
    names = [str(c["Name"]) for c in columns]
    types = [str(c.get("Type", "varchar")) for c in columns]
    if layout == "json":
        out.write(json.dumps([{n: _typed(v, t) for n, v, t in zip(names, row, types, strict=False)} for row in rows],
                             indent=2) + "\n")
        return
    if layout == "csv":
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
        return
    cells = [["NULL" if v is None else v for v in row] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    out.write("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        out.write("  ".join(v.rjust(w) if t in NUMERIC else v.ljust(w)
                            for v, w, t in zip(row, widths, types, strict=True)).rstrip() + "\n")


def summary(execution: dict[str, Any], rows: int, elapsed: float) -> str:
    statistics = execution.get("Statistics", {})
    scanned = human_bytes(int(statistics.get("DataScannedInBytes", 0)))
    engine = statistics.get("EngineExecutionTimeInMillis", 0) / 1000
    return (f"({rows} row{'s' if rows != 1 else ''}; data scanned: {scanned}; time: {elapsed:.2f} s, engine "
            f"{engine:.2f} s; query id {execution['QueryExecutionId']})")


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    athena = _client()
    started = time.monotonic()
    execution = execute(athena, sql, args.database, args.workgroup, args.output_location, args.timeout)
    status = execution["Status"]
    if status["State"] != "SUCCEEDED":
        raise WildrydesError(f"query {status['State'].lower()}: {status.get('StateChangeReason', 'no reason given')}")
    columns, rows = fetch(athena, execution, args.max_rows)
    elapsed = time.monotonic() - started
    if columns:
        write(columns, rows, args.format, out)
    line = summary(execution, len(rows), elapsed)
    print(line, file=out if args.format == "table" else err)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.cli.query")
    subparsers = parser.add_subparsers(dest="command")
    query_parser = add_query_command(subparsers)
    args = query_parser.parse_args(argv)
    try:
        return run(args)
    except WildrydesError as error:
        print(f"wildrydes: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
