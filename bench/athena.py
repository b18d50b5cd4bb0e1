"""Benchmark: the local Athena engine against DuckDB run directly on the same Parquet files.

1. An aggregate over N archived-like records (default 10M, 24 hourly partitions of Parquet in the
   local S3 under the Glue table ``wildrydes.unicorn_status``) through the Athena API (boto3: start,
   poll every 20 ms, GetQueryResults), against the same SQL on DuckDB over the same files on local disk,
   runs interleaved in one process. The first API run is cold (the engine copies the objects from the
   local S3 into its cache); the ratio is taken on the warm runs' medians. Goal: <= 1.3x.
2. A 583,200-row result (per unicorn and minute: 405 unicorns x 1,440 minutes) into a pandas
   DataFrame through pyathena's PandasCursor (CSV result read from S3) and through its UNLOAD mode
   (Parquet). Goal: <= 3 s. Needs pandas (``uv run --with pandas python bench/athena.py``).

Results: bench/results/athena.json and athena.md (athena-quick.* with --quick).

    uv run --with pandas python bench/athena.py            # 10M records
    uv run --with pandas python bench/athena.py --quick    # 1M records, a smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from bench import RESULTS_DIR  # noqa: E402
from tests.support.athena_stack import AthenaStack, athena_stack  # noqa: E402

NAME = "athena"
DESCRIPTION = "Athena API (local engine) vs DuckDB on the same Parquet; a 583k-row result into pandas"
DAY = "2026-11-25"
POLL_S = 0.02  # GetQueryExecution polling interval of the API client
ARCHIVE_BUCKET = "wildrydes-archive-123456789012-us-east-1"
RESULTS_BUCKET = "wildrydes-athena-results-123456789012-us-east-1"

AGGREGATE_SQL = (
    "SELECT name, sum(distance) AS distance, min(healthpoints) AS min_health, max(healthpoints) AS max_health, "
    "min(magicpoints) AS min_magic, max(magicpoints) AS max_magic, count(*) AS records "
    "FROM unicorn_status GROUP BY name ORDER BY name"
)
SELECT_SQL = "SELECT * FROM bench_per_minute"
PER_MINUTE_SQL = (
    "SELECT name, date_trunc('minute', arrivaltime) AS minute, sum(distance) AS distance, "
    "min(healthpoints) AS min_health, max(healthpoints) AS max_health, min(magicpoints) AS min_magic, "
    "max(magicpoints) AS max_magic, count(*) AS records FROM unicorn_status GROUP BY 1, 2"
)


NOTES = [
    "Through the API a query costs, besides DuckDB's own work on the same files: StartQueryExecution, Glue "
    "GetTable, the partitions and the S3 listing (both reused while the local endpoint's mutation stamps say "
    "Glue and the bucket are unchanged: one HeadBucket instead of GetPartitions and ListObjectsV2), the "
    "result CSV and its .metadata put to S3 (in parallel), GetQueryExecution (a running query's answer waits "
    "up to 0.2 s for it to finish, so the client learns at once) and GetQueryResults; each AWS call goes "
    "through the gateway to moto (5-25 ms each on this machine, more under load). The engine log shows the "
    "split per query (resolve, plan, cache, register, bind, execute).",
    "The moto host counts mutations per scope (Glue; each S3 bucket) and stamps every Glue/S3 read with the "
    "count taken before serving it (X-Wildrydes-Mutations); the engine reuses partitions and listings read "
    "with the stamp it sees now, so a change by anyone between two queries is seen by the second "
    "(tests/stack/athena/test_caching.py).",
    "The first run copies the table's objects from the local S3 into the engine's cache (named by ETag and "
    "size, so a changed object is a new copy); later runs reuse the copies.",
    "The CSV path moves ~50 MB: the engine uploads the CSV in 16 MiB multipart parts while DuckDB still "
    "produces the rest (completed when the query succeeds), without SHA-256 payload signing or CRC32 "
    "checksums (the local endpoint needs neither); moto journals each part, writes it to a temporary file "
    "and hashes it, then concatenates the parts. pyathena reads the CSV back in 5 MB ranges (moto serves "
    "ranges of a large object from a bounded cache of bodies instead of reading the whole object per range) "
    "and pandas parses it (~0.6-1 s here). UNLOAD writes ~7 MB of Parquet that pyathena reads with pyarrow.",
]


@dataclass
class Settings:
    records: int = 10_000_000
    unicorns: int = 405
    hours: int = 24
    runs: int = 5
    pandas_runs: int = 3
    quick: bool = False


@dataclass
class Result:
    settings: dict[str, Any]
    started: str = ""
    finished: str = ""
    machine: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    aggregate: dict[str, Any] = field(default_factory=dict)
    pandas: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _machine() -> dict[str, Any]:
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "load_average_at_start": [round(x, 2) for x in load], "commit": commit}


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
def generate(directory: Path, settings: Settings) -> dict[str, Path]:
    """Archived-like Parquet (lower-case columns, Snappy), one object per hour, written by DuckDB."""
    con = duckdb.connect()
    con.execute("SELECT setseed(0.42)")
    per_hour = settings.records // settings.hours
    files: dict[str, Path] = {}
    for hour in range(settings.hours):
        hh = f"{hour:02d}"
        path = directory / f"dt={DAY}" / f"hour={hh}" / "part-00000.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        # every unicorn reports about once a second; arrival times spread over the hour
        con.execute(f"""
            COPY (
              SELECT 'Unicorn-' || lpad(CAST(i % {settings.unicorns} AS VARCHAR), 3, '0') AS name,
                     strftime(TIMESTAMP '{DAY} {hh}:00:00' + INTERVAL (i * 3600000 // {per_hour}) MILLISECOND,
                              '%Y-%m-%d %H:%M:%S.%g') AS statustime,
                     40.749167 + (random() - 0.5) / 50 AS latitude,
                     -73.985184 + (random() - 0.5) / 50 AS longitude,
                     29 + random() * 2 AS distance,
                     CAST(80 + floor(random() * 80) AS INTEGER) AS healthpoints,
                     CAST(80 + floor(random() * 80) AS INTEGER) AS magicpoints,
                     CAST(TIMESTAMP '{DAY} {hh}:00:00' + INTERVAL (i * 3600000 // {per_hour}) MILLISECOND
                          AS TIMESTAMP_MS) AS arrivaltime,
                     CAST(49600000000000000000 + {hour} * {per_hour} + i AS VARCHAR) AS sequencenumber,
                     'shardId-000000000000' AS shardid
              FROM range({per_hour}) t(i)
            ) TO '{path}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 122880)""")
        files[hh] = path
    con.close()
    return files


def load(athena: AthenaStack, files: dict[str, Path]) -> None:
    s3, glue = athena.client("s3"), athena.client("glue")
    table = glue.get_table(DatabaseName="wildrydes", Name="unicorn_status")["Table"]
    partitions = []
    for hour, path in files.items():
        key = f"raw/dt={DAY}/hour={hour}/{path.name}"
        s3.upload_file(str(path), ARCHIVE_BUCKET, key)
        descriptor = dict(table["StorageDescriptor"], Location=f"s3://{ARCHIVE_BUCKET}/raw/dt={DAY}/hour={hour}/")
        partitions.append({"Values": [DAY, hour], "StorageDescriptor": descriptor})
    for start in range(0, len(partitions), 100):
        glue.batch_create_partition(DatabaseName="wildrydes", TableName="unicorn_status",
                                    PartitionInputList=partitions[start:start + 100])


# ---------------------------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------------------------
def api_query(client: Any, sql: str) -> tuple[float, float, dict[str, Any], list[list[str | None]]]:
    """(seconds to SUCCEEDED, seconds to all rows, execution, rows) through the Athena API."""
    started = time.perf_counter()
    query_id = client.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": "wildrydes"},
                                            WorkGroup="wildrydes")["QueryExecutionId"]
    while True:
        execution = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(POLL_S)
    done = time.perf_counter() - started
    if execution["Status"]["State"] != "SUCCEEDED":
        raise RuntimeError(f"{sql}: {execution['Status']}")
    rows: list[list[str | None]] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": 1000}
        if token:
            kwargs["NextToken"] = token
        page = client.get_query_results(**kwargs)
        rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        token = page.get("NextToken")
        if not token:
            break
    return done, time.perf_counter() - started, execution, rows[1:]


def duck_query(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, list[tuple[Any, ...]]]:
    started = time.perf_counter()
    rows = con.execute(sql).fetchall()
    return time.perf_counter() - started, rows


def compare(api_rows: list[list[str | None]], duck_rows: list[tuple[Any, ...]]) -> bool:
    if len(api_rows) != len(duck_rows):
        return False
    for got, want in zip(api_rows, duck_rows, strict=True):
        if got[0] != want[0] or int(got[6] or 0) != want[6]:
            return False
        if abs(float(got[1] or 0) - want[1]) > 1e-6 * max(1.0, abs(want[1])):
            return False
    return True


def bench_aggregate(athena: AthenaStack, files: dict[str, Path], settings: Settings) -> dict[str, Any]:
    client = athena.client("athena")
    con = duckdb.connect()
    paths = ", ".join(f"'{p}'" for p in files.values())
    con.execute(f"CREATE VIEW unicorn_status AS SELECT * FROM read_parquet([{paths}], hive_partitioning = true)")
    cold_done, cold_rows_s, cold_execution, api_rows = api_query(client, AGGREGATE_SQL)
    duck_times: list[float] = []
    api_done: list[float] = []
    api_rows_s: list[float] = []
    engine_ms: list[int] = []
    duck_rows: list[tuple[Any, ...]] = []
    for _ in range(settings.runs):  # interleaved: both see the same machine load
        seconds, duck_rows = duck_query(con, AGGREGATE_SQL)
        duck_times.append(seconds)
        done, rows_s, execution, api_rows = api_query(client, AGGREGATE_SQL)
        api_done.append(done)
        api_rows_s.append(rows_s)
        engine_ms.append(int(execution["Statistics"]["EngineExecutionTimeInMillis"]))
    duck_median = statistics.median(duck_times)
    api_median = statistics.median(api_rows_s)
    return {
        "sql": AGGREGATE_SQL,
        "result_rows": len(api_rows),
        "results_equal": compare(api_rows, duck_rows),
        "data_scanned_bytes": int(cold_execution["Statistics"]["DataScannedInBytes"]),
        "cold_api_seconds_to_rows": round(cold_rows_s, 3),
        "cold_api_seconds_to_succeeded": round(cold_done, 3),
        "api_seconds_to_rows": [round(x, 3) for x in api_rows_s],
        "api_seconds_to_succeeded": [round(x, 3) for x in api_done],
        "api_engine_execution_ms": engine_ms,
        "duckdb_seconds": [round(x, 3) for x in duck_times],
        "api_median_s": round(api_median, 3),
        "duckdb_median_s": round(duck_median, 3),
        "ratio": round(api_median / duck_median, 2),
        "goal_ratio": 1.3,
    }


def _pandas_runs(athena: AthenaStack, sql: str, unload: bool, runs: int) -> dict[str, Any]:
    from pyathena import connect
    from pyathena.pandas.cursor import PandasCursor

    times: list[float] = []
    engine: list[int] = []
    shape = (0, 0)
    error = None
    with athena.environment():
        cursor = connect(work_group="wildrydes", schema_name="wildrydes", poll_interval=0.01,
                         s3_staging_dir=f"s3://{RESULTS_BUCKET}/athena-results/",
                         cursor_class=PandasCursor).cursor(unload=unload)
        for _ in range(runs):
            try:
                started = time.perf_counter()
                frame = cursor.execute(sql).as_pandas()
                times.append(time.perf_counter() - started)
                engine.append(int(cursor.engine_execution_time_in_millis or 0))
                shape = frame.shape
            except Exception as exc:  # report it, do not abort the benchmark
                error = f"{type(exc).__name__}: {exc}"
                break
    return {"seconds": [round(t, 3) for t in times], "engine_execution_ms": engine,
            "median_s": round(statistics.median(times), 3) if times else None, "rows": shape[0],
            "columns": shape[1], **({"error": error} if error else {})}


def bench_pandas(athena: AthenaStack, settings: Settings) -> dict[str, Any]:
    """The 583k-row result is materialized once (CTAS through the engine), so that the timed queries
    measure getting a 583k-row result into pandas, not the aggregation behind it."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        return {"skipped": "pandas is not installed: run `uv run --with pandas python bench/athena.py`"}
    client = athena.client("athena")
    started = time.perf_counter()
    done, _, execution, _ = api_query(
        client, f"CREATE TABLE bench_per_minute WITH (format = 'parquet', "
                f"external_location = 's3://{ARCHIVE_BUCKET}/bench/per_minute/') AS {PER_MINUTE_SQL}")
    materialize_s = time.perf_counter() - started
    out: dict[str, Any] = {"sql": SELECT_SQL, "materialized_by": PER_MINUTE_SQL,
                           "materialize_s": round(materialize_s, 2), "goal_seconds": 3.0}
    out["csv"] = _pandas_runs(athena, SELECT_SQL, False, settings.pandas_runs)
    out["unload"] = _pandas_runs(athena, SELECT_SQL, True, settings.pandas_runs)
    out["aggregate_csv"] = _pandas_runs(athena, PER_MINUTE_SQL, False, 1)
    return out


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------
def markdown(result: Result) -> str:
    s, a, p, d, m = result.settings, result.aggregate, result.pandas, result.data, result.machine
    lines = [
        f"# Local Athena engine vs DuckDB on the same Parquet{' (quick run)' if s['quick'] else ''}",
        "",
        f"Run `uv run --with pandas python bench/athena.py{' --quick' if s['quick'] else ''}` on {result.started} "
        f"(finished {result.finished}), commit `{m.get('commit')}`.",
        f"Machine: {m['cpus']} cores, {m['platform']}; load average at start {m['load_average_at_start']} "
        "(a shared machine: compare the interleaved runs side by side, not with other runs).",
        f"Versions: Python {m['python']}, DuckDB {m['duckdb']}.",
        "",
        f"Data: {d['records']:,} records, {s['unicorns']} unicorns, {s['hours']} hourly partitions of Parquet "
        f"({d['parquet_bytes'] / 1e6:.0f} MB) generated in {d['generate_s']} s and uploaded to the local S3 in "
        f"{d['upload_s']} s.",
        "",
        "## Aggregate through the Athena API vs DuckDB directly",
        "",
        f"`{a['sql']}`",
        "",
        "| | median | runs |",
        "|---|---:|---|",
        f"| DuckDB on the local files | {a['duckdb_median_s']} s | {a['duckdb_seconds']} |",
        f"| Athena API, start to all rows (warm cache) | {a['api_median_s']} s | {a['api_seconds_to_rows']} |",
        f"| Athena API, start to SUCCEEDED | | {a['api_seconds_to_succeeded']} |",
        f"| engine execution time (GetQueryExecution) | | {a['api_engine_execution_ms']} ms |",
        f"| first (cold) run, objects copied from S3 | {a['cold_api_seconds_to_rows']} s | |",
        "",
        f"**Ratio: {a['ratio']}x** (goal <= {a['goal_ratio']}x); {a['result_rows']} rows, results equal to "
        f"DuckDB's: {a['results_equal']}; data scanned {a['data_scanned_bytes'] / 1e6:.0f} MB.",
        "",
        "## A 583,200-row result into a pandas DataFrame through pyathena",
        "",
    ]
    if "skipped" in p:
        lines.append(f"Skipped: {p['skipped']}")
    else:
        lines += [f"The result, `{p['materialized_by']}` ({p['csv'].get('rows', 0):,} rows), was materialized "
                  f"once by CTAS through the engine ({p['materialize_s']} s); then `{p['sql']}` into a DataFrame:",
                  "", "| pyathena | median | runs | engine ms | rows |", "|---|---:|---|---|---:|"]
        for mode, label in (("csv", "PandasCursor (the CSV result read from S3)"),
                            ("unload", "PandasCursor(unload=True) (Parquet written by UNLOAD)"),
                            ("aggregate_csv", "PandasCursor, the aggregate itself (context)")):
            run = p.get(mode, {})
            error = f" — {run['error']}" if run.get("error") else ""
            lines.append(f"| {label} | {run.get('median_s')} s | {run.get('seconds')} | "
                         f"{run.get('engine_execution_ms')} | {run.get('rows', 0):,}{error} |")
        lines += ["", f"Goal: <= {p['goal_seconds']} s."]
    if result.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/athena.py", description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true", help="1M records and fewer runs (a smoke run)")
    parser.add_argument("--records", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    settings = Settings(records=1_000_000, runs=3, pandas_runs=2, quick=True) if args.quick else Settings()
    if args.records:
        settings.records = args.records
    if args.runs:
        settings.runs = args.runs
    result = Result(settings=asdict(settings), started=datetime.now(UTC).isoformat(timespec="seconds"),
                    machine=_machine())
    tmp = Path(tempfile.mkdtemp(prefix="wildrydes-bench-athena-"))
    stacks = athena_stack(tmp)
    try:
        athena = next(stacks)
        print(f"stack up at {athena.stack.endpoint_url}; generating {settings.records:,} records", flush=True)
        started = time.perf_counter()
        files = generate(tmp / "parquet", settings)
        result.data["generate_s"] = round(time.perf_counter() - started, 1)
        result.data["records"] = settings.hours * (settings.records // settings.hours)
        result.data["parquet_bytes"] = sum(p.stat().st_size for p in files.values())
        started = time.perf_counter()
        load(athena, files)
        result.data["upload_s"] = round(time.perf_counter() - started, 1)
        print("aggregate: Athena API vs DuckDB", flush=True)
        result.aggregate = bench_aggregate(athena, files, settings)
        print(json.dumps(result.aggregate, indent=1), flush=True)
        print("583k rows into pandas", flush=True)
        result.pandas = bench_pandas(athena, settings)
        print(json.dumps(result.pandas, indent=1), flush=True)
    finally:
        with contextlib.suppress(StopIteration):
            next(stacks)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    result.finished = datetime.now(UTC).isoformat(timespec="seconds")
    result.notes = NOTES
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = "athena-quick" if settings.quick else "athena"
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    (RESULTS_DIR / f"{stem}.md").write_text(markdown(result))
    print(f"wrote {RESULTS_DIR / stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
