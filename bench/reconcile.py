"""Orchestration benchmarks on the local stack: the reconciliation of one hour of 1,000 unicorns
(3.6M records) through Athena and DynamoDB (goal <= 5 s, issue 18), and a full ``dbt build`` over one day of
100 unicorns (8.64M records).

``python -m bench reconcile [--unicorns 1000] [--dbt-unicorns 100] [--repeat 3] [--quick] [--skip-dbt]
[--compare] [--serial] [--sweep-workers 4,8,16,32]``

``--compare`` runs the reconciliation with each DynamoDB client alternately (ABBA) on the same data: the
DynamoDB resource's plain client (botocore parses every Query page) and the check's own client
(quality/dynamodb_client.py); ``--baseline REV`` adds the reconciliation's code as it was at git revision REV
to the rotation. ``--serial`` also times each phase alone (names query, DynamoDB, aggregates
query, row conversion, comparison); ``--sweep-workers`` times the DynamoDB phase alone per thread count. Each
run records the CPU seconds of the bench process and of the stack's dynalite, gateway, Athena engine and moto.

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
import importlib
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

from bench import RESULTS_DIR, add_result_options, result_stem

NAME = "reconcile"
DESCRIPTION = "orchestration: reconcile one hour of 1,000 unicorns (goal <= 5 s); dbt build over a day of 100"
GOAL_S = 5.0
CLIENTS = ("botocore", "json-pages")  # the DynamoDB resource's plain client; the check's (dynamodb_client.py)
CPU_COMPONENTS = ("dynamodb", "gateway", "athena", "moto")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench reconcile", description=DESCRIPTION)
    parser.add_argument("--unicorns", type=int, default=1000, help="fleet of the reconciled hour (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="reconciliations of the hour (default 3)")
    parser.add_argument("--dbt-unicorns", type=int, default=100, help="fleet of the dbt day (default 100)")
    parser.add_argument("--dbt-hours", type=int, default=24, help="hours of the dbt day (default 24)")
    parser.add_argument("--skip-dbt", action="store_true", help="only the reconciliation")
    parser.add_argument("--quick", action="store_true", help="100 unicorns; dbt over 2 hours of 10 unicorns")
    parser.add_argument("--compare", action="store_true",
                        help=f"alternate the DynamoDB clients {' and '.join(CLIENTS)} (ABBA) on the same data")
    parser.add_argument("--baseline", metavar="REV", default=None,
                        help="also run the reconciliation as it was at git revision REV (its quality modules, with "
                             "the resource's plain client), alternating with the others")
    parser.add_argument("--serial", action="store_true", help="also time each phase alone, once per repeat")
    parser.add_argument("--sweep-workers", type=lambda v: [int(x) for x in v.split(",") if x], default=[],
                        help="also time the DynamoDB phase alone with these thread counts, e.g. 4,8,16,32")
    add_result_options(parser)
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


def component_pids(stack: Any) -> dict[str, int]:
    components = stack.run_state().get("components", {})
    return {name: c["pid"] for name, c in components.items() if name in CPU_COMPONENTS and c.get("pid")}


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) so far of this process ("bench") and of the stack's components (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {"bench": time.process_time()}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[name] = (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            continue
    return out


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before[k], 2) for k in before if k in after}


def medians(samples: list[dict[str, float]]) -> dict[str, float]:
    keys = [k for k in samples[0] if all(k in s for s in samples)] if samples else []
    return {k: round(statistics.median(s[k] for s in samples), 2) for k in keys}


@dataclass
class Variant:
    """The reconciliations run with one DynamoDB client: wall seconds, the phases' seconds from the start, the
    CPU seconds per process, and the machine's 1-minute load average when each began."""

    runs_s: list[float] = field(default_factory=list)
    breakdowns_s: list[dict[str, float]] = field(default_factory=list)
    cpu_s: list[dict[str, float]] = field(default_factory=list)
    load_1m: list[float] = field(default_factory=list)
    median_s: float = 0.0
    breakdown_median_s: dict[str, float] = field(default_factory=dict)
    cpu_median_s: dict[str, float] = field(default_factory=dict)

    def finish(self) -> None:
        self.median_s = round(statistics.median(self.runs_s), 2)
        self.breakdown_median_s = medians(self.breakdowns_s)
        self.cpu_median_s = medians(self.cpu_s)


@dataclass
class Result:
    machine: str
    when: str
    unicorns: int
    hour_records: int
    hour_items: int
    command: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    commit: str = ""
    reconcile_runs_s: list[float] = field(default_factory=list)
    reconcile_median_s: float = 0.0
    reconcile_breakdown_s: dict[str, float] = field(default_factory=dict)
    reconcile_passed: bool = False
    goal_s: float = GOAL_S
    variants: dict[str, Variant] = field(default_factory=dict)
    serial_s: list[dict[str, float]] = field(default_factory=list)
    serial_median_s: dict[str, float] = field(default_factory=dict)
    sweep_s: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    sweep_cpu_s: dict[str, dict[str, list[dict[str, float]]]] = field(default_factory=dict)
    dbt_unicorns: int = 0
    dbt_hours: int = 0
    dbt_records: int = 0
    dbt_build_s: float | None = None
    dbt_ok: bool | None = None
    dbt_nodes: dict[str, int] = field(default_factory=dict)
    dbt_slowest: list[tuple[str, float]] = field(default_factory=list)
    dbt_from: str | None = None  # another run's dbt figures (kept with --skip-dbt): when it ran
    prepare_s: dict[str, float] = field(default_factory=dict)


def serial_phases(athena: Any, dynamodb: Any, s3: Any, names: Any, hour: datetime, window_s: int) -> dict[str, float]:
    """Each phase of a reconciliation alone, one after the other (the check overlaps the two sides)."""
    from orchestration.defs.archive.partitions import dt_hour
    from orchestration.defs.quality import sources
    from orchestration.defs.quality.compare import reconcile

    dt, hour_label = dt_hour(hour)
    out: dict[str, float] = {}

    def timed(name: str, fn: Any, *args: Any) -> Any:
        started = time.monotonic()
        value = fn(*args)
        out[name] = round(time.monotonic() - started, 2)
        return value

    around = timed("names_query_s", athena.query_rows,
                   sources.names_sql(names.glue_database, names.raw_table, sources.neighbour_days(hour)), s3)
    items = timed("dynamodb_s", sources.dynamodb_items, dynamodb, names.sensor_table,
                  {str(row["name"]) for row in around}, hour)
    rows = timed("aggregates_query_s", athena.query_rows,
                 sources.archive_sql(names.glue_database, names.raw_table, dt, hour_label, window_s), s3)
    archive = timed("archive_rows_s", sources.archive_aggregates, rows)
    timed("compare_s", reconcile, archive, items)
    return out


def sweep_workers(result: Result, clients: dict[str, Any], counts: list[int], pids: dict[str, int], names: Any,
                  hour: datetime, unicorns: set[str]) -> None:
    from orchestration.defs.quality import sources

    for workers in counts:
        for name, client in clients.items():
            before, started = cpu_seconds(pids), time.monotonic()
            sources.dynamodb_items(client, names.sensor_table, unicorns, hour, workers=workers)
            seconds = round(time.monotonic() - started, 2)
            result.sweep_s.setdefault(str(workers), {}).setdefault(name, []).append(seconds)
            result.sweep_cpu_s.setdefault(str(workers), {}).setdefault(name, []).append(
                cpu_used(before, cpu_seconds(pids)))


def git_commit(repo: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "bench/reconcile.py", "orchestration")
    return git("rev-parse", "--short", "HEAD") + (" (+ uncommitted changes)" if dirty else "")


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


def baseline_reconcile(repo: Path, rev: str) -> Any:
    """``reconcile_hour`` as it was at ``rev``: quality/{compare,sources,reconcile}.py from git, imported as a
    package of their own, to run old and new alternately on the same data."""
    package = Path(tempfile.mkdtemp(prefix="reconcile-baseline-")) / "baseline_quality"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module in ("compare", "sources", "reconcile"):
        text = subprocess.run(["git", "show", f"{rev}:orchestration/defs/quality/{module}.py"], cwd=repo, check=True,
                              capture_output=True, text=True).stdout
        (package / f"{module}.py").write_text(text.replace("orchestration.defs.quality", "baseline_quality"))
    sys.path.insert(0, str(package.parent))
    return importlib.import_module("baseline_quality.reconcile").reconcile_hour


def measure(result: Result, args: argparse.Namespace, athena: Any, dynamodb: dict[str, Any], s3: Any, names: Any,
            hour: datetime, window_s: int, pids: dict[str, int], items: int, baseline: Any = None) -> None:
    """The timed reconciliations (alternating the variants, ABBA), then --serial and the sweep."""
    from orchestration.defs.quality import sources
    from orchestration.defs.quality.reconcile import reconcile_hour

    runners = {name: (reconcile_hour, dynamodb[name]) for name in (CLIENTS if args.compare else ("json-pages",))}
    if baseline is not None:
        runners = {f"baseline {args.baseline}": (baseline, dynamodb["botocore"]), **runners}
    order = tuple(runners)
    result.variants = {name: Variant() for name in order}
    passed = True
    for run in range(args.repeat):
        for name in order if run % 2 == 0 else tuple(reversed(order)):
            variant = result.variants[name]
            variant.load_1m.append(round(os.getloadavg()[0], 2))
            before = cpu_seconds(pids)
            run_hour, client = runners[name]
            outcome = run_hour(athena, client, s3, names, hour, window_s)
            variant.cpu_s.append(cpu_used(before, cpu_seconds(pids)))
            variant.runs_s.append(round(outcome.seconds["total_s"], 2))
            variant.breakdowns_s.append({k: round(v, 2) for k, v in outcome.seconds.items()})
            passed = passed and outcome.result.passed and outcome.result.matched == items
            print(f"reconcile run {run + 1} ({name}): {outcome.seconds['total_s']:.2f}s "
                  f"({outcome.result.matched} matched, {len(outcome.result.mismatches)} mismatches) "
                  f"cpu {variant.cpu_s[-1]}", flush=True)
        if args.serial:
            result.serial_s.append(serial_phases(athena, dynamodb["json-pages"], s3, names, hour, window_s))
            print(f"serial phases: {result.serial_s[-1]}", flush=True)
        if args.sweep_workers:
            unicorns = {str(r["name"]) for r in athena.query_rows(
                sources.names_sql(names.glue_database, names.raw_table, sources.neighbour_days(hour)), s3)}
            clients = dynamodb if args.compare else {"json-pages": dynamodb["json-pages"]}
            sweep_workers(result, clients, args.sweep_workers, pids, names, hour, unicorns)
            print(f"workers sweep: {result.sweep_s}", flush=True)
    for variant in result.variants.values():
        variant.finish()
    mine = result.variants["json-pages"]
    result.reconcile_runs_s, result.reconcile_median_s = mine.runs_s, mine.median_s
    result.reconcile_breakdown_s = mine.breakdown_median_s
    result.reconcile_passed = passed
    result.serial_median_s = medians(result.serial_s)


def main(argv: list[str] | None = None) -> int:  # noqa: C901 - one linear script
    args = parse_args(list(argv or []))
    stem = result_stem("orchestration-quick" if args.quick else "orchestration", args)
    repo = Path(__file__).resolve().parent.parent
    from localaws.backfill.deployment import Clients, discover
    from orchestration.defs.archive.catalog import register_partition
    from orchestration.defs.archive.partitions import dt_hour
    from orchestration.defs.platform.resources import AthenaResource, DynamoDBResource
    from orchestration.defs.platform.stack import load_names
    from orchestration.defs.quality.dynamodb_client import reconciliation_client
    from orchestration.defs.quality.sources import QUERY_WORKERS
    from tests.support.orchestration_stack import environment
    from tests.support.stack import started_stack

    result = Result(machine=f"{platform.node()} {os.cpu_count()} CPUs", when=datetime.now(UTC).isoformat(),
                    unicorns=args.unicorns, hour_records=0, hour_items=0,
                    command=" ".join(["python -m bench reconcile", *(argv or [])]), parameters=vars(args),
                    commit=git_commit(repo))
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
                pids = component_pids(stack)
                window_s = dep.aggregator.tumbling_window_s
                reconcile_s = {"botocore": DynamoDBResource().get_client(),
                               "json-pages": reconciliation_client(DynamoDBResource(), QUERY_WORKERS)}
                baseline = baseline_reconcile(repo, args.baseline) if args.baseline else None
                measure(result, args, athena, reconcile_s, clients.s3, names, hour, window_s, pids, prepared.items,
                        baseline)

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

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    if args.skip_dbt:
        keep_dbt(result, RESULTS_DIR / f"{stem}.json")
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    (RESULTS_DIR / f"{stem}.md").write_text(markdown(result))
    print(f"wrote {RESULTS_DIR / stem}.json and .md")
    return 0 if result.reconcile_passed and result.dbt_ok is not False else 1


DBT_FIELDS = ("dbt_unicorns", "dbt_hours", "dbt_records", "dbt_build_s", "dbt_ok", "dbt_nodes", "dbt_slowest")


def keep_dbt(result: Result, path: Path) -> None:
    """With --skip-dbt, the previous result's dbt build figures stay in the file (``dbt_from`` says when)."""
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if previous.get("dbt_build_s") is None:
        return
    for name in DBT_FIELDS:
        setattr(result, name, previous.get(name, getattr(result, name)))
    result.dbt_from = previous.get("dbt_from") or previous.get("when")
    if "dbt_day" in previous.get("prepare_s", {}):
        result.prepare_s["dbt_day"] = previous["prepare_s"]["dbt_day"]


def variants_markdown(r: Result) -> list[str]:
    lines = ["| variant | runs (s) | median (s) | phases, median s from the start | CPU s per run, median "
             "| load 1 min |", "|---|---|---:|---|---|---|"]
    for name, v in r.variants.items():
        lines.append(f"| {name} | {', '.join(f'{s:.2f}' for s in v.runs_s)} | **{v.median_s:.2f}** | "
                     + ", ".join(f"{k} {x}" for k, x in v.breakdown_median_s.items()) + " | "
                     + ", ".join(f"{k} {x}" for k, x in v.cpu_median_s.items()) + f" | {v.load_1m} |")
    lines += ["", "*baseline REV*: the reconciliation's code at git revision REV with the resource's client; "
              "*botocore*: today's code with the DynamoDB resource's client (botocore walks every Query page through "
              "the model); *json-pages*: today's code with the check's client (quality/dynamodb_client.py: a Query "
              "page is its JSON). Runs alternate ABBA on the same data; CPU: this process (*bench*: the "
              "reconciliation's Python) and the stack's processes (*dynamodb* = dynalite, *athena* = the DuckDB "
              "engine).", ""]
    if r.serial_s:
        lines += ["Each phase alone (median of the repeats, seconds): "
                  + ", ".join(f"{k} {v}" for k, v in r.serial_median_s.items()) + ".", ""]
    if r.sweep_s:
        lines += ["DynamoDB phase alone per thread count (median s; median CPU s of bench / dynalite / gateway):", "",
                  "| threads | " + " | ".join(next(iter(r.sweep_s.values()))) + " |",
                  "|---:|" + "---|" * len(next(iter(r.sweep_s.values())))]
        for workers, by_client in r.sweep_s.items():
            cells = []
            for name, runs in by_client.items():
                cpu = medians(r.sweep_cpu_s[workers][name])
                cells.append(f"{statistics.median(runs):.2f} ({cpu.get('bench')} / {cpu.get('dynamodb')} / "
                             f"{cpu.get('gateway')})")
            lines.append(f"| {workers} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


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
        f"Command: `{r.command}` at commit {r.commit}; parameters: {r.parameters}.",
        "",
        f"- runs with the check's DynamoDB client: {', '.join(f'{s:.2f} s' for s in r.reconcile_runs_s)}; "
        f"median **{r.reconcile_median_s:.2f} s** ({verdict} the goal of ≤ {r.goal_s:.0f} s)",
        "- phases, seconds from the start (median of the runs; the aggregates query and the conversion of its rows "
        "run while the names query and then the DynamoDB queries run): "
        + ", ".join(f"{k} {v}" for k, v in r.reconcile_breakdown_s.items()),
        "",
        *variants_markdown(r),
    ]
    if r.dbt_build_s is not None:
        lines += [
            "## Full dbt build over one day",
            "",
            *([f"(Not rerun here: the figures of the run of {r.dbt_from}.)", ""] if r.dbt_from else []),
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
