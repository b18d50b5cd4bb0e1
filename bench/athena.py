"""Benchmark: the local Athena engine against DuckDB run directly on the same Parquet files.

1. An aggregate over N archived-like records (default 10M, 24 hourly partitions of Parquet in the
   local S3 under the Glue table ``wildrydes.unicorn_status``) through the Athena API (boto3: start,
   poll every 20 ms, GetQueryResults), against the same SQL on DuckDB over the same files on local disk,
   runs interleaved in one process. The first API run is cold (the engine copies the objects from the
   local S3 into its cache); the ratio is taken on the warm runs' medians. Goal: <= 1.3x.
2. A 583,200-row result (per unicorn and minute: 405 unicorns x 1,440 minutes) into a pandas
   DataFrame through pyathena's PandasCursor (CSV result read from S3) and through its UNLOAD mode
   (Parquet). Goal: <= 3 s. Needs pandas (``uv run --with pandas python bench/athena.py``).

The aggregate runs against the stack's endpoint (the headline), the same engine directly, and a second
engine started with ``WILDRYDES_ATHENA_FAST_PATHS=0`` (the engine as before its fast paths), all
interleaved with DuckDB; the engine's phases per query come from its log line (medians reported).

Results: bench/results/athena.json and athena.md (athena-quick.* with --quick).

    uv run --with pandas python bench/athena.py            # 10M records
    uv run --with pandas python bench/athena.py --quick    # 1M records, a smoke run
    python -m bench athena --no-compare                    # without the second engine
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3  # noqa: E402
import duckdb  # noqa: E402
from botocore.config import Config  # noqa: E402

from bench import RESULTS_DIR, add_result_options, commit_of, host, result_stem  # noqa: E402
from localaws.athena.switches import SWITCH  # noqa: E402
from localaws.settings import DEFAULT_REGION, LOCAL_CREDENTIALS  # noqa: E402
from tests.support.athena_stack import AthenaStack, athena_stack, start_engine, stop_engine  # noqa: E402

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
    "Through the API a query costs, besides DuckDB's own work on the same files: StartQueryExecution, the "
    "tables (Glue GetTable), partitions and S3 listings, the result CSV and its .metadata put to S3 (in "
    "parallel), GetQueryExecution (a running query's answer waits up to 0.2 s for it to finish, so the client "
    "learns at once) and GetQueryResults (~3.5 ms of it is botocore parsing the 405-row page); each AWS call "
    "goes through the gateway to moto. The engine's log line splits each query into phases (parse, resolve, "
    "plan, cache, register, bind, execute, verify; results written), reported above as medians.",
    "With the fast paths (switches.py) a query run again (same text, parameters, database) is not parsed, "
    "resolved or transpiled again: it runs on the tables, partitions and listings read before, after checking "
    "that Glue's and the bucket's mutation stamps are still the ones those were read with (if not, its "
    "result is discarded and it is planned again from fresh reads; tests/stack/athena/test_caching.py). The "
    "engine the stack starts reads the stamps from the moto host's counts file, without a request; an engine "
    "started without it (--moto-counts) checks with a GetDatabase and a HeadBucket through the endpoint, "
    "which on 2 cores take CPU from DuckDB. The engine with the fast paths off, run side by side (its own "
    "process, its own data directory, on the same endpoint), is the before.",
    "The moto host counts mutations per scope (Glue; each S3 bucket) in a file it maps into memory "
    "(localaws/moto/counters.py) and stamps every Glue/S3 read with the counts taken before serving it "
    "(X-Wildrydes-Mutations).",
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
    runs: int = 15
    pandas_runs: int = 3
    quick: bool = False


@dataclass
class Result:
    settings: dict[str, Any]
    command: str = ""
    started: str = ""
    finished: str = ""
    machine: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    aggregate: dict[str, Any] = field(default_factory=dict)
    pandas: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _machine() -> dict[str, Any]:
    return {**host(), "duckdb": duckdb.__version__}


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
@dataclass
class ApiRun:
    """One query through the Athena API, with the client's time per call."""

    query_id: str
    start_s: float  # StartQueryExecution
    succeeded_s: float  # start to SUCCEEDED seen
    rows_s: float  # start to all rows
    results_s: float  # the GetQueryResults calls
    polls: int  # GetQueryExecution calls
    execution: dict[str, Any]
    rows: list[list[str | None]]


def api_query(client: Any, sql: str) -> ApiRun:
    """A query through the Athena API: start, poll every POLL_S, all rows by GetQueryResults."""
    started = time.perf_counter()
    query_id = client.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": "wildrydes"},
                                            WorkGroup="wildrydes")["QueryExecutionId"]
    start_s = time.perf_counter() - started
    polls = 0
    while True:
        execution = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        polls += 1
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
    finished = time.perf_counter() - started
    return ApiRun(query_id, start_s, done, finished, finished - done, polls, execution, rows[1:])


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


@dataclass
class Target:
    """An Athena endpoint the aggregate runs against, and the log its engine writes its phase lines to."""

    key: str
    label: str
    client: Any
    log: Path | None


PHASE_LINE = re.compile(r"query (?P<id>\S+) \S+: ran in (?P<ran>[\d.]+)s \((?P<phases>[^)]*)\), "
                        r"results written in (?P<written>[\d.]+)s")


def engine_phases(log: Path | None, ids: set[str]) -> dict[str, dict[str, float]]:
    """Per query id, the engine's phases in seconds (its log line: resolve, plan, cache, register, bind,
    execute; ``ran`` in all; ``results written`` after)."""
    if log is None or not log.exists():
        return {}
    out: dict[str, dict[str, float]] = {}
    for line in log.read_text(errors="replace").splitlines():
        match = PHASE_LINE.search(line)
        if match is None or match["id"] not in ids:
            continue
        parts = match["phases"].split()
        phases = {parts[i]: float(parts[i + 1]) for i in range(0, len(parts) - 1, 2)}
        out[match["id"]] = {**phases, "ran": float(match["ran"]), "results written": float(match["written"])}
    return out


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1) if values else 0.0


def summarize(runs: list[ApiRun], log: Path | None) -> dict[str, Any]:
    """Medians of a target's warm runs: end to end, the client's calls, the engine's statistics and phases."""
    phases = engine_phases(log, {r.query_id for r in runs})
    keys = list(dict.fromkeys(k for p in phases.values() for k in p))
    stats = [r.execution["Statistics"] for r in runs]
    return {
        "median_s": round(statistics.median(r.rows_s for r in runs), 3),
        "seconds_to_rows": [round(r.rows_s, 3) for r in runs],
        "seconds_to_succeeded": [round(r.succeeded_s, 3) for r in runs],
        "engine_execution_ms": [int(s["EngineExecutionTimeInMillis"]) for s in stats],
        "client_ms": {
            "StartQueryExecution": _median_ms([r.start_s for r in runs]),
            "start returned to SUCCEEDED seen": _median_ms([r.succeeded_s - r.start_s for r in runs]),
            "GetQueryResults": _median_ms([r.results_s for r in runs]),
            "start to all rows": _median_ms([r.rows_s for r in runs]),
            "GetQueryExecution calls": statistics.median(r.polls for r in runs),
        },
        "statistics_ms": {k: statistics.median(int(s[k]) for s in stats) for k in (
            "QueryQueueTimeInMillis", "QueryPlanningTimeInMillis", "EngineExecutionTimeInMillis",
            "TotalExecutionTimeInMillis")},
        "engine_phases_ms": {k: _median_ms([p.get(k, 0.0) for p in phases.values()]) for k in keys},
    }


def bench_aggregate(targets: list[Target], files: dict[str, Path], settings: Settings) -> dict[str, Any]:
    """DuckDB and every target, interleaved (the targets in a rotating order), so that all see the same load."""
    con = duckdb.connect()
    paths = ", ".join(f"'{p}'" for p in files.values())
    con.execute(f"CREATE VIEW unicorn_status AS SELECT * FROM read_parquet([{paths}], hive_partitioning = true)")
    cold = {t.key: api_query(t.client, AGGREGATE_SQL) for t in targets}
    duck_times: list[float] = []
    runs: dict[str, list[ApiRun]] = {t.key: [] for t in targets}
    duck_rows: list[tuple[Any, ...]] = []
    for index in range(settings.runs):
        seconds, duck_rows = duck_query(con, AGGREGATE_SQL)
        duck_times.append(seconds)
        for target in targets[index % len(targets):] + targets[:index % len(targets)]:
            runs[target.key].append(api_query(target.client, AGGREGATE_SQL))
    duck_median = statistics.median(duck_times)
    headline = targets[0].key
    summaries = {t.key: {"label": t.label, **summarize(runs[t.key], t.log),
                         "ratio": round(statistics.median(r.rows_s for r in runs[t.key]) / duck_median, 2),
                         "results_equal": compare(runs[t.key][-1].rows, duck_rows),
                         "cold_seconds_to_rows": round(cold[t.key].rows_s, 3)} for t in targets}
    main = summaries[headline]
    return {
        "sql": AGGREGATE_SQL,
        "result_rows": len(runs[headline][-1].rows),
        "results_equal": all(s["results_equal"] for s in summaries.values()),
        "data_scanned_bytes": int(cold[headline].execution["Statistics"]["DataScannedInBytes"]),
        "cold_api_seconds_to_rows": main["cold_seconds_to_rows"],
        "api_seconds_to_rows": main["seconds_to_rows"],
        "api_seconds_to_succeeded": main["seconds_to_succeeded"],
        "api_engine_execution_ms": main["engine_execution_ms"],
        "duckdb_seconds": [round(x, 3) for x in duck_times],
        "api_median_s": main["median_s"],
        "duckdb_median_s": round(duck_median, 3),
        "ratio": main["ratio"],
        "goal_ratio": 1.3,
        "targets": summaries,
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
    api_query(
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
def breakdown(targets: dict[str, Any]) -> list[str]:
    """Where the time goes, per target: medians of the client's calls, the engine's statistics and phases."""
    if not targets:
        return []
    columns = list(targets.values())
    lines = ["Where the time goes (medians of the warm runs, ms; phases from the engine's log line):", "",
             "| | " + " | ".join(t["label"] for t in columns) + " |", "|---|" + "---:|" * len(columns)]
    for group in ("client_ms", "statistics_ms", "engine_phases_ms"):
        names = list(dict.fromkeys(k for t in columns for k in t.get(group, {})))
        for name in names:
            lines.append(f"| {group.split('_')[0]}: {name} | "
                         + " | ".join(str(t.get(group, {}).get(name, "")) for t in columns) + " |")
    return [*lines, ""]


def ceiling(aggregate: dict[str, Any]) -> list[str]:
    """The ratio an engine costing nothing beyond DuckDB would still have, from this run's medians: the round
    trips Athena's contract keeps (the start, the result CSV and its metadata in S3 before SUCCEEDED, the results
    page) added to DuckDB's own time."""
    targets = aggregate.get("targets") or {}
    if not targets or aggregate["ratio"] <= aggregate["goal_ratio"]:
        return []
    headline = next(iter(targets.values()))
    duck = aggregate["duckdb_median_s"] * 1000
    client, phases = headline["client_ms"], headline["engine_phases_ms"]
    start, written, page = (client["StartQueryExecution"], phases.get("results written", 0.0),
                            client["GetQueryResults"])
    kept = start + written + page
    engine = headline["statistics_ms"]["EngineExecutionTimeInMillis"] - written - duck
    allowed = (aggregate["goal_ratio"] - 1) * duck
    return [
        f"The ceiling, from this run's medians ({headline['label']}): DuckDB takes {duck:.1f} ms, so "
        f"{aggregate['goal_ratio']}× leaves {allowed:.1f} ms for all the Athena API adds. The round trips its "
        f"contract keeps take {kept:.1f} ms: StartQueryExecution {start:.1f}, the result CSV and its `.metadata` "
        f"written to S3 before the state may say SUCCEEDED {written:.1f}, GetQueryResults {page:.1f}. With an "
        f"engine that cost nothing beyond DuckDB that is {(duck + kept) / duck:.2f}×; the engine's own time over "
        f"DuckDB's was {engine:.1f} ms more ({(duck + kept + engine) / duck:.2f}×).",
        "",
    ]


def markdown(result: Result) -> str:
    s, a, p, d, m = result.settings, result.aggregate, result.pandas, result.data, result.machine
    lines = [
        f"# Local Athena engine vs DuckDB on the same Parquet{' (quick run)' if s['quick'] else ''}",
        "",
        f"Run `{result.command}` on {result.started} "
        f"(finished {result.finished}), commit {commit_of(m)}.",
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
        "| | median | ratio to DuckDB | runs |",
        "|---|---:|---:|---|",
        f"| DuckDB on the local files | {a['duckdb_median_s']} s | | {a['duckdb_seconds']} |",
        *[f"| {t['label']}: start to all rows | {t['median_s']} s | {t['ratio']}x | {t['seconds_to_rows']} |"
          for t in a.get("targets", {}).values()],
        f"| through the endpoint: start to SUCCEEDED | | | {a['api_seconds_to_succeeded']} |",
        f"| through the endpoint: engine execution time | | | {a['api_engine_execution_ms']} ms |",
        f"| first (cold) run, objects copied from S3 | {a['cold_api_seconds_to_rows']} s | | |",
        "",
        f"**Ratio: {a['ratio']}x** (through the endpoint; goal <= {a['goal_ratio']}x); {a['result_rows']} rows, "
        f"results equal to DuckDB's: {a['results_equal']}; data scanned {a['data_scanned_bytes'] / 1e6:.0f} MB.",
        "",
        *breakdown(a.get("targets", {})),
        *ceiling(a),
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


def _direct_client(url: str) -> Any:
    return boto3.client("athena", endpoint_url=url, region_name=DEFAULT_REGION,
                        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"max_attempts": 2, "mode": "standard"}))


@contextlib.contextmanager
def targets_of(athena: AthenaStack, tmp: Path, compare_off: bool) -> Iterator[list[Target]]:
    """The stack's endpoint (the headline), the same engine addressed directly, and with ``compare_off`` a
    second engine on the same endpoint with its caches switched off (``SWITCH=0``), addressed directly."""
    log = athena.engine_log or athena.stack.data_dir / "logs" / "athena.log"
    targets = [Target("endpoint", "Athena API through the endpoint", athena.client("athena"), log),
               Target("engine", "Athena API, the engine directly", _direct_client(athena.engine_url), log)]
    process = None
    if compare_off:
        off_log = tmp / "athena-engine-off.log"
        saved = os.environ.get(SWITCH)
        os.environ[SWITCH] = "0"
        try:
            process, url = start_engine(athena.stack, off_log, data_dir=tmp / "engine-off")
        finally:
            if saved is None:
                os.environ.pop(SWITCH, None)
            else:
                os.environ[SWITCH] = saved
        targets.append(Target("engine_off", f"Athena API, a second engine directly, {SWITCH}=0",
                              _direct_client(url), off_log))
    try:
        yield targets
    finally:
        if process is not None:
            stop_engine(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/athena.py", description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true", help="1M records and fewer runs (a smoke run)")
    parser.add_argument("--records", type=int)
    parser.add_argument("--runs", type=int)
    parser.add_argument("--no-compare", action="store_true",
                        help=f"no second engine with {SWITCH}=0 (the before/after side by side)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    add_result_options(parser)
    args = parser.parse_args(argv)
    stem = result_stem("athena-quick" if args.quick else "athena", args)
    settings = Settings(records=1_000_000, runs=5, pandas_runs=2, quick=True) if args.quick else Settings()
    if args.records:
        settings.records = args.records
    if args.runs:
        settings.runs = args.runs
    result = Result(settings=asdict(settings), started=datetime.now(UTC).isoformat(timespec="seconds"),
                    machine=_machine(), command=" ".join(sys.orig_argv))
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
        with targets_of(athena, tmp, not args.no_compare) as targets:
            result.aggregate = bench_aggregate(targets, files, settings)
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
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    (RESULTS_DIR / f"{stem}.md").write_text(markdown(result))
    print(f"wrote {RESULTS_DIR / stem}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
