"""What one window's end costs in DynamoDB writes: the summary writer's own ``write_summaries`` putting 1,000
new summaries (one per unicorn, as at the end of each minute) through the endpoint, and the CPU each process
spends per item: the writing process (boto3, as in the Lambda worker), the gateway (signature and IAM checks),
dynalite and moto. The same writes straight to dynalite, without the gateway, for comparison.

``python -m bench writes [--items 1000] [--rounds 5] [--concurrency 8,1] [--compare VAR=a,b] [--quick]``;
results: bench/results/summary-writes.json and .md (summary-writes-concurrency.* with several ``--concurrency``
values, summary-writes-compare.* with ``--compare``: a fresh stack per value of the local runtime's environment
variable VAR, one after the other), with the command line. Nothing else runs meanwhile (``--no-producer``); the
event source mappings are disabled so the runtime does not poll. The writing client is configured as the Lambda's
(``streaming.lambdas.clients``: no client-side parameter validation). Round 1 is each stack's first 1,000 writes
after a 50-item round that opens the connections: its cost is the stack's cold start.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import psutil
from botocore.config import Config

from bench import RESULTS_DIR, add_result_options, commit_of, host, result_stem
from bench.pipeline import variants
from bench.pipeline_probes import component_pids, components
from streaming.lambdas.contract import Summary
from streaming.lambdas.summary_writer import CONCURRENCY, write_summaries
from streaming.producer.simulation import unicorn_names
from tests.support.stack import LocalStack, started_stack

NAME = "writes"
DESCRIPTION = "one window's end in DynamoDB: 1,000 summaries through write_summaries, CPU per item and process"
TABLE = "UnicornSensorData"
PROCESSES = ("gateway", "dynamodb", "moto")


def summaries(names: list[str], window: datetime) -> dict[tuple[str, str], list[tuple[str, Summary]]]:
    start = window.strftime("%Y-%m-%d %H:%M:%S.000")
    end = (window + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S.000")
    return {(name, start): [(str(i), Summary(
        Name=name, StatusTime=start, Distance=123.4, MinMagicPoints=1, MaxMagicPoints=150, MinHealthPoints=2,
        MaxHealthPoints=149, RecordCount=600, WindowEnd=end, Partial="p0", DistanceParts=[123.4]))]
        for i, name in enumerate(names)}


def cpu_seconds(processes: dict[str, psutil.Process]) -> dict[str, float]:
    return {name: sum(p.cpu_times()[:2]) for name, p in processes.items()}


def one_round(client: Any, names: list[str], window: datetime, processes: dict[str, psutil.Process],
              concurrency: int = CONCURRENCY) -> dict[str, float]:
    batch = summaries(names, window)
    before, started = cpu_seconds(processes), time.perf_counter()
    failed = write_summaries(client, TABLE, batch, deadline=None, concurrency=concurrency)
    wall = time.perf_counter() - started
    after = cpu_seconds(processes)
    if failed:
        raise RuntimeError(f"{len(failed)} summaries were not written")
    per_item = {name: round((after[name] - before[name]) / len(names) * 1000, 3) for name in processes}
    return {"wall_s": round(wall, 3), **{f"{name}_ms_per_item": v for name, v in per_item.items()}}


def warmed_up(stack: LocalStack, timeout_s: float = 120.0) -> None:
    """Wait for the DynamoDB backend's warm-up (localaws/node/dynalite_warmup.js) to finish, if it runs, so
    that the rounds do not share the CPU with it."""
    if stack.extra_env.get("WILDRYDES_DYNAMODB_WARMUP_ITEMS", os.environ.get("WILDRYDES_DYNAMODB_WARMUP_ITEMS")) == "0":
        return
    log = stack.data_dir / "logs" / "dynamodb.log"
    deadline = time.monotonic() + timeout_s
    while "warmed up" not in (log.read_text() if log.exists() else ""):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the DynamoDB backend did not finish its warm-up in {timeout_s:.0f} s ({log})")
        time.sleep(0.2)


def direct_client(stack: LocalStack) -> Any:
    """A DynamoDB client straight to dynalite (no gateway): its port from the stack's run file."""
    argv = components(stack)["dynamodb"]["argv"]
    port = argv[argv.index("--port") + 1]
    return boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(max_pool_connections=16, parameter_validation=False))


def median_row(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bench writes", description=DESCRIPTION)
    parser.add_argument("--items", type=int, default=1000, help="summaries per round (one per unicorn)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", default=str(CONCURRENCY),
                        help="writes at a time, comma-separated to compare (the Lambda's: %(default)s)")
    parser.add_argument("--compare", metavar="VAR=a,b",
                        help="a fresh stack per value of the local runtime's environment variable VAR, side by side")
    parser.add_argument("--quick", action="store_true", help="200 items, 2 rounds")
    add_result_options(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.items, args.rounds = 200, 2
    if args.compare and not args.compare.partition("=")[0].isupper():
        parser.error("--compare takes an environment variable of the local runtime (UPPER_CASE)")
    concurrencies = [int(value) for value in args.concurrency.split(",")]
    name = result_stem("summary-writes" + ("-quick" if args.quick else "")
                       + ("-concurrency" if len(concurrencies) > 1 else "")
                       + ("-compare" if args.compare else ""), args)
    rounds: dict[str, list[dict[str, float]]] = {}
    for variant, env in variants(parser, args.compare):
        rounds.update(measure(args, concurrencies, variant, env))
    results = {"command": shlex.join(["python", "-m", "bench", "writes", *argv]),
               "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": host(), "items": args.items,
               "concurrency": concurrencies, "rounds": rounds,
               "median": {label: median_row(r) for label, r in rounds.items()}}
    write_results(results, name)
    return 0


def measure(args: argparse.Namespace, concurrencies: list[int], variant: str,
            env: dict[str, str]) -> dict[str, list[dict[str, float]]]:
    """One stack's rounds, alternating between the paths (and concurrencies), each round new items."""
    names = unicorn_names(args.items)
    window = datetime(2026, 12, 6, 0, 0)
    paths = ("through the endpoint", "straight to dynalite")
    labels = {(path, c): ", ".join(part for part in (variant, path, f"{c} at a time" if len(concurrencies) > 1
                                                                    else "") if part)
              for path in paths for c in concurrencies}
    rounds: dict[str, list[dict[str, float]]] = {label: [] for label in labels.values()}
    with tempfile.TemporaryDirectory(prefix="wildrydes-bench-writes-") as tmp:
        for stack in started_stack(Path(tmp), ["--no-producer"], env):
            warmed_up(stack)
            lam = stack.client("lambda")
            for mapping in lam.list_event_source_mappings()["EventSourceMappings"]:
                lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
            pids = component_pids(stack)
            processes = {"client": psutil.Process(), **{n: psutil.Process(pids[n]) for n in PROCESSES}}
            clients = {"through the endpoint": stack.client("dynamodb", max_pool_connections=16,
                                                            parameter_validation=False),
                       "straight to dynalite": direct_client(stack)}
            for path, client in clients.items():  # connections, table metadata
                one_round(client, names[:50], window - timedelta(days=1, minutes=len(path)), processes)
            minute = 0
            for i in range(args.rounds):
                for (path, concurrency), label in labels.items():
                    rounds[label].append(one_round(clients[path], names, window + timedelta(minutes=minute),
                                                   processes, concurrency))
                    minute += 1
                    print(f"{label} {i + 1}: {rounds[label][-1]}", flush=True)
    return rounds


def write_results(results: dict[str, Any], name: str) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    columns = ["wall_s", "client_ms_per_item", "gateway_ms_per_item", "dynamodb_ms_per_item", "moto_ms_per_item"]
    lines = ["# One window's end in DynamoDB: the summary writer's writes", "",
             f"`{results['command']}` ({results['date']}, commit {commit_of(results['machine'])}, "
             f"{results['machine']['cpus']} cores): {results['items']:,} new summaries per round through "
             "`streaming.lambdas.summary_writer.write_summaries` (conditional PutItem, "
             f"{' or '.join(map(str, results['concurrency']))} at a time; the Lambda writes "
             f"{CONCURRENCY}), rounds alternating between the paths; CPU per item in ms "
             "(process CPU / items).", "",
             "| path (median) | wall s | writer ms/item | gateway ms/item | dynalite ms/item | moto ms/item "
             "| round 1 wall s | round 1 dynalite ms/item |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, row in results["median"].items():
        first = results["rounds"][label][0]
        lines.append(f"| {label} | " + " | ".join(str(row[c]) for c in columns)
                     + f" | {first['wall_s']} | {first['dynamodb_ms_per_item']} |")
    lines += ["", "Every round:", "", "| path | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for label, rounds in results["rounds"].items():
        lines += [f"| {label} | " + " | ".join(str(r[c]) for c in columns) + " |" for r in rounds]
    (RESULTS_DIR / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
