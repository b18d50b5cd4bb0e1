"""Orchestration benchmarks on the local stack: the reconciliation of one hour of 1,000 unicorns
(3.6M records) through Athena and DynamoDB (goal <= 20 s), and a full ``dbt build`` over one day of
100 unicorns (8.64M records).

``python -m bench reconcile [--unicorns 1000] [--dbt-unicorns 100] [--repeat 3] [--quick]``

Data preparation (not timed) is direct, for speed: the fleet simulator's records with the history
loader's arrival times and sequence numbers are written as Parquet objects in the archive's layout
(one per minute, Firehose's naming, the Glue table's schema), and the DynamoDB items are computed
with the aggregator's own aggregation (``add_record``/``summaries``) and written with the summary
writer's ``write_summaries``. The path through the deployed handlers themselves is tested by
tests/stack/streaming/test_history.py; it costs ~0.25 ms of CPU per record, too slow for 12M records here.

Results: bench/results/orchestration.json and .md (orchestration-quick.* with --quick).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bench import RESULTS_DIR

NAME = "reconcile"
DESCRIPTION = "orchestration: reconcile one hour of 1,000 unicorns (goal <= 20 s); dbt build over a day of 100"
GOAL_S = 20.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench reconcile", description=DESCRIPTION)
    parser.add_argument("--unicorns", type=int, default=1000, help="fleet of the reconciled hour (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="reconciliations of the hour (default 3)")
    parser.add_argument("--dbt-unicorns", type=int, default=100, help="fleet of the dbt day (default 100)")
    parser.add_argument("--dbt-hours", type=int, default=24, help="hours of the dbt day (default 24)")
    parser.add_argument("--skip-dbt", action="store_true", help="only the reconciliation")
    parser.add_argument("--quick", action="store_true", help="100 unicorns; dbt over 2 hours of 10 unicorns")
    args = parser.parse_args(argv)
    if args.quick:
        args.unicorns, args.repeat, args.dbt_unicorns, args.dbt_hours = 100, 2, 10, 2
    return args


# ------------------------------------------------------------------------------------- data


@dataclass
class Prepared:
    records: int = 0
    objects: int = 0
    items: int = 0
    seconds: float = 0.0


COLUMNS = ("name", "statustime", "latitude", "longitude", "distance", "healthpoints", "magicpoints", "arrivaltime",
           "sequencenumber", "shardid")


def prepare_hours(dep: Any, clients: Any, start: datetime, hours: int, unicorns: int, seed: int,
                  with_items: bool) -> Prepared:
    """One Parquet object per window of arrivals (a minute, as the template's buffer interval), and
    optionally that window's DynamoDB items."""
    from localaws.backfill.records import LATENCY_MS
    from streaming.lambdas import aggregator
    from streaming.producer.simulation import Fleet

    started = time.monotonic()
    fleet = Fleet(unicorns, seed)
    latency = random.Random(f"{seed}/latency")
    shard = f"history-{seed}"
    start_ms = int(start.timestamp() * 1000)
    window_ms = dep.aggregator.tumbling_window_s * 1000
    out = Prepared()
    buffers: dict[int, tuple[dict[str, list[Any]], dict[str, Any]]] = {}
    for tick in range(hours * 3600):
        clock = start_ms + tick * 1000
        for index, r in enumerate(fleet.tick(clock)):
            arrival = clock + latency.randint(*LATENCY_MS)
            cols, state = buffers.setdefault(arrival // window_ms, ({c: [] for c in COLUMNS},
                                                                    {"u": {}, "_quarantined": 0}))
            for column, value in zip(COLUMNS, (r.name, r.status_time, r.latitude, r.longitude, r.distance, r.health,
                                               r.magic, arrival * 1000, f"{arrival:013d}{index:07d}", shard),
                                     strict=True):
                cols[column].append(value)
            if with_items:
                aggregator.add_record(state, {"Name": r.name, "Distance": r.distance, "HealthPoints": r.health,
                                              "MagicPoints": r.magic})
        for window in [w for w in buffers if (w + 1) * window_ms <= clock]:
            flush_window(dep, clients, window, window_ms, *buffers.pop(window), seed, with_items, out)
    for window in sorted(buffers):
        flush_window(dep, clients, window, window_ms, *buffers.pop(window), seed, with_items, out)
    out.seconds = time.monotonic() - started
    return out


def flush_window(dep: Any, clients: Any, window: int, window_ms: int, cols: dict[str, list[Any]],
                 state: dict[str, Any], seed: int, with_items: bool, out: Prepared) -> None:
    from localaws.backfill.archive import object_key
    from streaming.lambdas import aggregator, contract, summary_writer
    from streaming.lambdas.timefmt import format_epoch_ms

    table = pa.table({
        **{k: cols[k] for k in ("name", "statustime", "latitude", "longitude", "distance")},
        "healthpoints": pa.array(cols["healthpoints"], pa.int32()),
        "magicpoints": pa.array(cols["magicpoints"], pa.int32()),
        "arrivaltime": pa.array(cols["arrivaltime"], pa.int64()).cast(pa.timestamp("us")),
        "sequencenumber": cols["sequencenumber"], "shardid": cols["shardid"],
    })
    first = cols["arrivaltime"][0] // 1000
    moment = format_epoch_ms(first)
    key = object_key(dep, moment[:10], moment[11:13], first, seed)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy", use_deprecated_int96_timestamps=True)
    clients.s3.put_object(Bucket=dep.archive.bucket, Key=key, Body=sink.getvalue())
    out.objects += 1
    out.records += table.num_rows
    if with_items:
        begin = window * window_ms
        rows = aggregator.summaries(state, format_epoch_ms(begin), format_epoch_ms(begin + window_ms))
        summaries = {(s["Name"], s["StatusTime"]): [(None, contract.validate_summary(s))] for s in rows}
        table = dep.writer.function.environment["TABLE_NAME"]
        failed = summary_writer.write_summaries(clients.dynamodb, table, summaries, None)
        if failed:
            raise RuntimeError(f"{len(failed)} items not written")
        out.items += len(summaries)


# ---------------------------------------------------------------------------------- measure


@dataclass
class Result:
    machine: str
    when: str
    unicorns: int
    hour_records: int
    hour_items: int
    reconcile_runs_s: list[float] = field(default_factory=list)
    reconcile_median_s: float = 0.0
    reconcile_breakdown_s: dict[str, float] = field(default_factory=dict)
    reconcile_passed: bool = False
    goal_s: float = GOAL_S
    dbt_unicorns: int = 0
    dbt_hours: int = 0
    dbt_records: int = 0
    dbt_build_s: float | None = None
    dbt_ok: bool | None = None
    dbt_nodes: dict[str, int] = field(default_factory=dict)
    dbt_slowest: list[tuple[str, float]] = field(default_factory=list)
    prepare_s: dict[str, float] = field(default_factory=dict)


def run_dbt_build(env: dict[str, str], repo: Path, target: Path) -> tuple[float, bool, dict[str, Any]]:
    started = time.monotonic()
    process = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", "--project-dir", "dbt_project", "--profiles-dir",
         "dbt_project", "--target-path", str(target)],
        cwd=repo, env=env, capture_output=True, text=True, timeout=7200,
    )
    elapsed = time.monotonic() - started
    results = json.loads((target / "run_results.json").read_text()) if (target / "run_results.json").exists() else {}
    if process.returncode:
        print(process.stdout[-4000:], file=sys.stderr)
    return elapsed, process.returncode == 0, results


def main(argv: list[str] | None = None) -> int:  # noqa: C901 - one linear script
    args = parse_args(list(argv or []))
    repo = Path(__file__).resolve().parent.parent
    from localaws.backfill.deployment import Clients, discover
    from orchestration.defs.archive.catalog import register_partition
    from orchestration.defs.archive.partitions import dt_hour
    from orchestration.defs.platform.resources import AthenaResource
    from orchestration.defs.platform.stack import load_names
    from orchestration.defs.quality.reconcile import reconcile_hour
    from tests.support.orchestration_stack import environment
    from tests.support.stack import started_stack

    result = Result(machine=f"{platform.node()} {os.cpu_count()} CPUs", when=datetime.now(UTC).isoformat(),
                    unicorns=args.unicorns, hour_records=0, hour_items=0)
    with tempfile.TemporaryDirectory() as tmp:
        for stack in started_stack(Path(tmp), ["--no-producer"]):
            with environment({**stack.env, "WILDRYDES_DBT_THREADS": "2"}):
                clients = Clients.from_environment()
                dep = discover(clients)
                names = load_names()
                hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
                print(f"preparing {args.unicorns} unicorns x 1 hour ...", flush=True)
                prepared = prepare_hours(dep, clients, hour, 1, args.unicorns, seed=11, with_items=True)
                result.hour_records, result.hour_items = prepared.records, prepared.items
                result.prepare_s["reconcile_hour"] = round(prepared.seconds, 1)
                register_partition(clients.glue, names.glue_database, names.raw_table, list(dt_hour(hour)))
                athena = AthenaResource()
                for run in range(args.repeat):
                    outcome = reconcile_hour(athena, clients.dynamodb, clients.s3, names, hour,
                                             dep.aggregator.tumbling_window_s)
                    result.reconcile_runs_s.append(round(outcome.seconds["total_s"], 2))
                    result.reconcile_breakdown_s = {k: round(v, 2) for k, v in outcome.seconds.items()}
                    result.reconcile_passed = outcome.result.passed and outcome.result.matched == prepared.items
                    print(f"reconcile run {run + 1}: {outcome.seconds['total_s']:.2f}s "
                          f"({outcome.result.matched} matched, {len(outcome.result.mismatches)} mismatches)",
                          flush=True)
                result.reconcile_median_s = statistics.median(result.reconcile_runs_s)

                if not args.skip_dbt:
                    day = (hour - timedelta(days=2)).replace(hour=0)
                    print(f"preparing {args.dbt_unicorns} unicorns x {args.dbt_hours} hours for dbt ...", flush=True)
                    prepared = prepare_hours(dep, clients, day, args.dbt_hours, args.dbt_unicorns, seed=12,
                                             with_items=False)
                    result.prepare_s["dbt_day"] = round(prepared.seconds, 1)
                    result.dbt_unicorns, result.dbt_hours, result.dbt_records = (args.dbt_unicorns, args.dbt_hours,
                                                                                 prepared.records)
                    for h in range(args.dbt_hours):
                        register_partition(clients.glue, names.glue_database, names.raw_table,
                                           list(dt_hour(day + timedelta(hours=h))))
                    print("dbt build ...", flush=True)
                    env = {**os.environ, **names.dbt_env()}
                    elapsed, ok, run_results = run_dbt_build(env, repo, Path(tmp) / "dbt-target")
                    result.dbt_build_s, result.dbt_ok = round(elapsed, 1), ok
                    nodes = run_results.get("results", [])
                    for node in nodes:
                        kind = node["unique_id"].split(".")[0]
                        result.dbt_nodes[kind] = result.dbt_nodes.get(kind, 0) + 1
                    slowest = sorted(nodes, key=lambda n: n.get("execution_time", 0), reverse=True)[:8]
                    result.dbt_slowest = [(_node_name(n["unique_id"]), round(n["execution_time"], 1))
                                          for n in slowest]
                    print(f"dbt build: {elapsed:.1f}s ok={ok}", flush=True)

    stem = "orchestration-quick" if args.quick else "orchestration"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    (RESULTS_DIR / f"{stem}.md").write_text(markdown(result))
    print(f"wrote {RESULTS_DIR / stem}.json and .md")
    return 0 if result.reconcile_passed and result.dbt_ok is not False else 1


def _node_name(unique_id: str) -> str:
    """``model.wildrydes.fct_x`` -> ``fct_x``; tests keep their kind: ``unit_test fct_x_does_y``."""
    kind, _, rest = unique_id.partition(".")
    name = rest.split(".")[1] if kind == "test" else rest.split(".")[-1]
    return name if kind == "model" else f"{kind} {name}"


def markdown(r: Result) -> str:
    verdict = "meets" if r.reconcile_median_s <= r.goal_s else "misses"
    lines = [
        "# Orchestration benchmark",
        "",
        f"{r.when}, {r.machine}, local stack (`wildrydes local up`, Athena engine on DuckDB, dynalite).",
        "",
        "## Reconciliation of one hour",
        "",
        f"{r.unicorns} unicorns, {r.hour_records:,} archived records, {r.hour_items:,} DynamoDB items "
        f"(one per unicorn per minute). Check passed: {r.reconcile_passed}.",
        "",
        f"- runs: {', '.join(f'{s:.2f} s' for s in r.reconcile_runs_s)}; median **{r.reconcile_median_s:.2f} s** "
        f"({verdict} the goal of {r.goal_s:.0f} s)",
        "- breakdown of the last run, seconds from the start (the Athena aggregates query runs while the names "
        "query and then the DynamoDB queries run): "
        + ", ".join(f"{k} {v}" for k, v in r.reconcile_breakdown_s.items()),
        "",
    ]
    if r.dbt_build_s is not None:
        lines += [
            "## Full dbt build over one day",
            "",
            f"{r.dbt_unicorns} unicorns x {r.dbt_hours} hours = {r.dbt_records:,} records; "
            f"`dbt build` (all models, data tests and unit tests, first build): **{r.dbt_build_s:.1f} s**, "
            f"success: {r.dbt_ok}.",
            "",
            f"- nodes: {', '.join(f'{n} {k}' for k, n in r.dbt_nodes.items())}",
            "- slowest: " + ", ".join(f"{name} {s} s" for name, s in r.dbt_slowest),
            "",
        ]
    lines += [f"Data preparation (not timed above): {r.prepare_s} s.", ""]
    return "\n".join(lines)
