"""The streaming pipeline under load: producer → Kinesis → aggregator → summary stream → writer → DynamoDB, and
Kinesis → Firehose → S3, on one machine. Reports the sustained rate, the delay from a window's end until its item
is readable in DynamoDB (per item and per window), the consumers' lag (the archive's against two buffer
intervals), completeness by identity (bench/pipeline_identity.py) and each process's CPU and memory, each
against issue 18's goals.

``python -m bench pipeline [--rate 10000] [--minutes 10] [--shards 1] [--compare VAR=a,b] [--quick]``

``--compare`` runs the same load once per value of an environment variable of the local runtime (a fresh stack
each, one after the other), e.g. ``--compare WILDRYDES_FAST_JSON=0,1``, or of a template parameter (a CamelCase
name, deployed with ``local up --parameter``), e.g. ``--compare SummaryStreamShardCount=1,2``, and reports them
side by side.
Results: bench/results/pipeline-<rate>[-<minutes>min][-compare].json and .md (the command line is in them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import RESULTS_DIR, add_result_options, commit_of, host, pipeline_archive, result_stem
from bench.pipeline_bursts import CpuTimeline, bursts, ceiling_lines
from bench.pipeline_identity import check as identity_check
from bench.pipeline_probes import (
    ItemWatcher,
    LagSampler,
    ResourceSampler,
    archive_delivered,
    component_pids,
    component_restarts,
    restart_line,
    summarize_resources,
)
from streaming.producer.simulation import unicorn_names
from tests.support.stack import started_stack

NAME = "pipeline"
DESCRIPTION = "producer → aggregator → DynamoDB and → archive: rate, window-end → item delay, lag, loss, CPU"
GOAL_RATE = 10_000  # records/s, sustained
GOAL_P99_S = 5.0  # window end → item in DynamoDB
BUFFER_INTERVAL_S = 60  # the template's ArchiveBufferIntervalSeconds (the bench keeps the default)
# A record waits for the processor's buffer (one interval), then the destination's (another): two intervals by
# design, plus the invocation and the write of the object, for which a few seconds are allowed.
GOAL_ARCHIVE_LAG_S = 2 * BUFFER_INTERVAL_S + 5


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench pipeline", description=DESCRIPTION)
    parser.add_argument("--rate", type=float, default=10_000, help="target records/s (default 10000)")
    parser.add_argument("--unicorns", type=int, default=1000, help="fleet size (default 1000)")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to produce (default 10)")
    parser.add_argument("--window", type=int, default=60, help="tumbling window in seconds (default 60)")
    parser.add_argument("--shards", type=int, default=1, help="shards of the source stream (default 1)")
    parser.add_argument("--compare", metavar="VAR=a,b",
                        help="run once per value of the local runtime's environment variable VAR (UPPER_CASE) or of "
                             "the template parameter VAR (CamelCase), side by side")
    parser.add_argument("--quick", action="store_true", help="30 s at 2,000 records/s with 10 s windows")
    add_result_options(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.rate, args.unicorns, args.minutes, args.window = 2000, 200, 0.5, 10
    args.variants = variants(parser, args.compare)
    args.stem = result_stem("pipeline-quick" if args.quick else (
        f"pipeline-{args.rate:.0f}" + ("" if args.minutes == 10 else f"-{args.minutes:g}min")
        + ("" if args.shards == 1 else f"-{args.shards}shards") + ("-compare" if args.compare else "")), args)
    return args


def variants(parser: argparse.ArgumentParser, compare: str | None) -> list[tuple[str, dict[str, str]]]:
    if not compare:
        return [("", {})]
    name, _, values = compare.partition("=")
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*|[A-Z][A-Za-z0-9]*", name) or not values:
        parser.error("--compare takes VAR=value1,value2, e.g. WILDRYDES_FAST_JSON=0,1 or SummaryStreamShardCount=1,2")
    return [(f"{name}={value}", {name: value}) for value in values.split(",")]


def percentile(ordered: list[float], q: float) -> float | None:
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 3) if ordered else None


def is_parameter(name: str) -> bool:
    """A CamelCase name is a template parameter; an UPPER_CASE one an environment variable."""
    return any(c.islower() for c in name)


def run(args: argparse.Namespace, variant: dict[str, str] | None = None) -> dict[str, Any]:
    """One stack, one load: the figures of one variant."""
    variant = variant or {}
    env = {k: v for k, v in variant.items() if not is_parameter(k)}
    parameters = [arg for k, v in variant.items() if is_parameter(k) for arg in ("--parameter", f"{k}={v}")]
    work = Path(tempfile.mkdtemp(prefix="wildrydes-bench-pipeline-", dir="/tmp"))
    results: dict[str, Any] = {
        "settings": {k: v for k, v in vars(args).items() if k != "variants"}, "environment": env,
        "parameters": {k: v for k, v in variant.items() if is_parameter(k)},
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**host(), "memory_gb": round(psutil.virtual_memory().total / 2**30)},
    }
    for stack in started_stack(work, ["--no-producer", "--parameter", f"TumblingWindowInSeconds={args.window}",
                                      "--parameter", "AggregatorBatchSize=10000",
                                      "--parameter", f"SourceStreamShardCount={args.shards}", *parameters], env):
        watcher = ItemWatcher(stack, unicorn_names(args.unicorns), args.window)
        lags = LagSampler(stack)
        acks = work / "acks.csv"
        producer = subprocess.Popen(
            [sys.executable, "-m", "infra.cli", "produce", "--unicorns", str(args.unicorns),
             "--rate", str(args.rate / args.unicorns), "--duration", str(args.minutes * 60), "--seed", "1",
             "--in-flight", "4", "--acks", str(acks)],
            env={**os.environ, **stack.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The benchmark's own process (its DynamoDB watcher) shares the cores too: shown, not hidden.
        sampler = ResourceSampler({**component_pids(stack), "producer": producer.pid}, {"bench": os.getpid()})
        timeline = CpuTimeline({**component_pids(stack), "producer": producer.pid}, {"bench": os.getpid()})
        for thread in (watcher, lags, sampler, timeline):
            thread.start()
        started = time.time()
        out, err = producer.communicate(timeout=args.minutes * 60 + 600)
        produced_for = time.time() - started
        summary = out.strip().splitlines()[-1] if out.strip() else err.strip()[-500:]
        match = re.match(r"produce: (\d+) records acknowledged", summary)
        acknowledged = int(match.group(1)) if match else 0
        results["producer"] = {"exit": producer.returncode, "summary": summary, "seconds": round(produced_for, 1)}
        sampler.stop.set()  # CPU while producing: the load the goals are about
        results["archive_at_producer_end"] = {"delivered": archive_delivered(stack),
                                              "lag_s": lags.max_s("firehose_ms", started + produced_for)}
        # Let the last window close and reach DynamoDB.
        deadline = time.time() + args.window + 180
        while time.time() < deadline and sum(watcher.counts.values()) < acknowledged:
            time.sleep(1)
        watcher.stop.set()
        watcher.join()
        if watcher.error is not None:
            raise RuntimeError("the DynamoDB watcher failed; the delays would be wrong") from watcher.error
        watcher.scan()
        delays, per_window = watcher.delays(ended_by=started + produced_for)
        results["rate"] = {"target_per_s": args.rate, "achieved_per_s": round(acknowledged / produced_for, 1)}
        results["delay_s"] = {
            "items": len(delays), "windows": len(per_window),
            "p50": round(statistics.median(delays), 3) if delays else None,
            "p99": percentile(delays, 0.99), "max": percentile(delays, 1.0), "per_window": per_window,
            "note": "when a read every 0.2 s first saw the item with its final count (each page timed on arrival), "
                    "minus the window end; windows that ended while producing",
        }
        results["resources"] = summarize_resources(sampler.samples)
        results["bursts"] = bursts(per_window, timeline.between, os.cpu_count() or 1)
        # The archive runs at a lower priority (batch work): when it had every acknowledged record in S3.
        deadline = time.time() + 1200
        while time.time() < deadline and archive_delivered(stack) < acknowledged:
            time.sleep(1)
        lags.stop.set()
        archived_at = time.time()
        timeline.stop.set()
        timeline.join()
        results["archive"] = {"delivered": archive_delivered(stack),
                              "complete_s_after_producer": round(time.time() - started - produced_for, 1),
                              "max_lag_s": lags.max_s("firehose_ms"),
                              "lambda_max_lag_s": lags.max_s("lambda_ms")}
        results["archive"]["complete"] = results["archive"]["delivered"] >= acknowledged
        results["archive"].update(pipeline_archive.archive_cpu(
            timeline.between(started, started + produced_for).get("firehose", 0.0), produced_for,
            timeline.between(started, archived_at).get("firehose", 0.0), acknowledged))
        results["identity"] = identity_check(stack, acks, args.window, work)
        results["restarts"] = component_restarts(stack)
        identity = results["identity"]
        # "lost": what the identity check found wrong (missing, duplicated, miscounted); 0 when nothing was
        results["completeness"] = {"acknowledged": acknowledged,
                                   "counted_in_dynamodb": identity["dynamodb_records_counted"],
                                   "lost": identity["lost_in_archive"] + identity["archive_duplicates"]
                                   + identity["dynamodb_items_differing"]
                                   + abs(identity["acknowledged_distinct"] - acknowledged)}
    return results


def goals(r: dict[str, Any], minutes: float) -> list[tuple[str, bool]]:
    """Issue 18's goal lines for one variant: (text, met)."""
    rate, delay, archive, identity = r["rate"], r["delay_s"], r["archive"], r["identity"]
    sustained = rate["achieved_per_s"] >= GOAL_RATE * 0.99 and minutes >= 10
    return [
        (f"≥ {GOAL_RATE:,} records/s sustained for 10 min: {rate['achieved_per_s']:,.0f} records/s for "
         f"{r['producer']['seconds']} s", sustained),
        (f"window end → DynamoDB p99 ≤ {GOAL_P99_S:g} s: p99 {delay['p99']} s (p50 {delay['p50']} s, max "
         f"{delay['max']} s) over {delay['items']:,} items in {delay['windows']} windows",
         delay["p99"] is not None and delay["p99"] <= GOAL_P99_S),
        (f"archive lag ≤ 2 buffer intervals ({2 * BUFFER_INTERVAL_S} s + 5 s to invoke and write): at most "
         f"{archive['max_lag_s']} s behind; "
         f"every acknowledged record in S3 {archive['complete_s_after_producer']} s after the producer stopped",
         archive["complete"] and archive["max_lag_s"] <= GOAL_ARCHIVE_LAG_S),
        (f"no loss, by identity: {identity['lost_in_archive']} of {identity['acknowledged']:,} acknowledged "
         f"records missing from the archive, {identity['archive_duplicates']} duplicated, "
         f"{identity['dynamodb_items_differing']} DynamoDB items counting otherwise than the archive", identity["ok"]),
        *([restart_line(r["restarts"])] if "restarts" in r else []),  # (not recorded before 2026-12-07)
    ]


def host_line(machine: dict[str, Any]) -> str:
    """The commit and host of a run (results saved before they were recorded have neither)."""
    known = [f"commit {commit_of(machine)}" if machine.get("commit") else "",
             f"host {machine['platform']}" if machine.get("platform") else ""]
    return " " + ", ".join(k for k in known if k) + "." if any(known) else ""


def render_markdown(results: dict[str, Any]) -> str:
    s = results["settings"]
    runs = results["runs"]
    lines = [f"# Pipeline benchmark ({results['date']}, {results['machine']['cpus']} cores)", "",
             f"`{results['command']}`: {s['rate']:,.0f} records/s from {s['unicorns']} unicorns for "
             f"{s['minutes']} min, "
             f"{s['window']} s windows, {s['shards']} shard(s)"
             + (", a fresh stack per variant, one after the other." if len(runs) > 1 else ".")
             + host_line(results["machine"]), ""]
    for label, r in runs.items():
        lines += [f"## {label or 'this commit'}" if len(runs) > 1 else "## Goals", "",
                  f"Load average at start {r['machine']['load_average_at_start']}; "
                  f"producer: {r['producer']['summary']}",
                  ""]
        goal_lines = goals(r, s["minutes"])
        lines += [f"- {'met' if met else '**NOT met**'}: {text}" for text, met in goal_lines]
        lines.append("")
        if r.get("bursts") and not goal_lines[1][1]:
            lines += ["The window-end delay's floor on this machine (bench/pipeline_bursts.py):", "",
                      *ceiling_lines(r["bursts"], GOAL_P99_S), ""]
        if not goal_lines[2][1] and r["archive"].get("firehose_cpu_us_per_record"):
            lines += ["The archive's lag on this machine (bench/pipeline_archive.py):", "",
                      *pipeline_archive.ceiling_lines(r["archive"], r["rate"]["achieved_per_s"], BUFFER_INTERVAL_S,
                                                      GOAL_ARCHIVE_LAG_S), ""]
    names = sorted({name for r in runs.values() for name in r["resources"]})
    header = " | ".join(label or "CPU %" for label in runs)
    lines += ["## CPU while producing (% of one core, mean; the machine has 200 %)", "",
              f"| process | {header} |", "| --- |" + " ---: |" * len(runs)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(str(r["resources"].get(name, {}).get("cpu_percent_mean", ""))
                                                 for r in runs.values()) + " |")
    lines.append("| **total** | " + " | ".join(
        str(round(sum(v["cpu_percent_mean"] for v in r["resources"].values()), 1)) for r in runs.values()) + " |")
    lines += ["", "## Delay per window (window end → last item final, s)", "",
              "| window | " + " | ".join(label or "max s" for label in runs) + " |", "| --- |" + " ---: |" * len(runs)]
    by_window = [{w["window"]: w["max_s"] for w in r["delay_s"]["per_window"]} for r in runs.values()]
    for index in range(max(len(w) for w in by_window)):
        cells = [str(list(w.values())[index]) if index < len(w) else "" for w in by_window]
        lines.append(f"| {index + 1} | " + " | ".join(cells) + " |")
    for label, r in runs.items():
        lines += burst_table(label, r.get("bursts"))
    return "\n".join(lines) + "\n"


def burst_table(label: str, summary: dict[str, Any] | None) -> list[str]:
    """Each window from its end to its last item: when items appeared, how busy the machine was, CPU by process."""
    if not summary or not summary["windows"]:
        return []
    groups = sorted({g for w in summary["windows"] for g in w["cpu_s"]})
    lines = ["", f"## Each window's burst{f' ({label})' if label else ''}: window end → last item, CPU-s by process",
             "", "| window | items | first item s | last item s | busy % | " + " | ".join(groups) + " |",
             "| --- |" + " ---: |" * (len(groups) + 4)]
    for i, w in enumerate(summary["windows"], 1):
        lines.append(f"| {i} | {w['items']} | {w['first_s']} | {w['last_s']} | {w['busy_percent']} | "
                     + " | ".join(str(w["cpu_s"].get(g, "")) for g in groups) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    results: dict[str, Any] = {"command": shlex.join(["python", "-m", "bench", "pipeline", *argv]),
                               "date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "settings": {k: v for k, v in vars(args).items() if k != "variants"}, "runs": {}}
    for label, env in args.variants:
        if label:
            print(f"-- {label}", flush=True)
        results["runs"][label] = run(args, env)
        results["machine"] = results["runs"][label]["machine"]
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{args.stem}.json").write_text(json.dumps(results, indent=2))
    (RESULTS_DIR / f"{args.stem}.md").write_text(render_markdown(results))
    print(render_markdown(results))
    return 0 if all(r["identity"]["ok"] and not r["restarts"] for r in results["runs"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
