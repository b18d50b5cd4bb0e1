"""The streaming pipeline under load: producer → Kinesis → aggregator → summary stream → writer →
DynamoDB, on one machine. Reports the sustained rate, the delay from a window's end until its item is
readable in DynamoDB (p50/p99), completeness (records counted in DynamoDB vs acknowledged), and the CPU
and memory of each process. ``python -m bench pipeline [--rate 10000] [--minutes 5] [--quick]``."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import RESULTS_DIR
from tests.support.stack import LocalStack, started_stack

NAME = "pipeline"
DESCRIPTION = "producer → aggregator → DynamoDB: sustained rate, window-end → item delay, CPU/RSS"
TABLE = "UnicornSensorData"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench pipeline", description=DESCRIPTION)
    parser.add_argument("--rate", type=float, default=10_000, help="target records/s (default 10000)")
    parser.add_argument("--unicorns", type=int, default=1000, help="fleet size (default 1000)")
    parser.add_argument("--minutes", type=float, default=5.0, help="how long to produce (default 5)")
    parser.add_argument("--window", type=int, default=60, help="tumbling window in seconds (default 60)")
    parser.add_argument("--shards", type=int, default=None,
                        help="shards of the source stream (default: rate / 1,000, AWS's write limit per shard)")
    parser.add_argument("--quick", action="store_true", help="30 s at 2,000 records/s with 10 s windows")
    args = parser.parse_args(argv)
    if args.quick:
        args.rate, args.unicorns, args.minutes, args.window = 2000, 200, 0.5, 10
    if args.shards is None:
        args.shards = max(1, math.ceil(args.rate / 1000))
    return args


class ItemWatcher(threading.Thread):
    """Scans the table a few times a second and records when each item is first readable.

    A pass reads only the windows that can still gain items: from the oldest window with fewer items
    than unicorns (every unicorn reports in every window) on, so the watcher's own cost stays flat as
    the table grows instead of competing with the pipeline it measures."""

    def __init__(self, stack: LocalStack, unicorns: int) -> None:
        super().__init__(daemon=True)
        self.dynamodb = stack.client("dynamodb")
        self.unicorns = unicorns
        self.first_seen: dict[tuple[str, str], float] = {}
        self.settled: dict[tuple[str, str], float] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self.window_end: dict[tuple[str, str], float] = {}
        self.since = ""  # StatusTime of the oldest window still incomplete
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.scan()
            self.stop.wait(0.2)

    def scan(self, everything: bool = False) -> None:
        kwargs: dict[str, Any] = {"TableName": TABLE, "ProjectionExpression": "#n, StatusTime, RecordCount, WindowEnd",
                                  "ExpressionAttributeNames": {"#n": "Name", "#t": "StatusTime"}}
        if self.since and not everything:
            kwargs["FilterExpression"] = "#t >= :since"
            kwargs["ExpressionAttributeValues"] = {":since": {"S": self.since}}
        else:
            del kwargs["ExpressionAttributeNames"]["#t"]
        now = time.time()
        while True:
            page = self.dynamodb.scan(**kwargs)
            for item in page["Items"]:
                key = (item["Name"]["S"], item["StatusTime"]["S"])
                self.first_seen.setdefault(key, now)
                count = int(item["RecordCount"]["N"])
                if self.counts.get(key) != count:  # an item merged from partials is final at its last change
                    self.settled[key] = now
                self.counts[key] = count
                end = item["WindowEnd"]["S"]
                self.window_end[key] = datetime.strptime(end[:19], "%Y-%m-%d %H:%M:%S" if " " in end[:19]
                                                         else "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        per_window = Counter(window for _, window in self.first_seen)
        incomplete = [window for window, n in per_window.items() if n < self.unicorns]
        self.since = min(incomplete) if incomplete else max(per_window, default="")


class ResourceSampler(threading.Thread):
    """CPU and RSS of each root process and its children; ``alone`` roots without their children."""

    def __init__(self, roots: dict[str, int], alone: dict[str, int] | None = None) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.alone = alone or {}
        self.samples: list[dict[str, Any]] = []
        self.stop = threading.Event()

    def _processes(self) -> dict[str, list[psutil.Process]]:
        found: dict[str, list[psutil.Process]] = {}
        for name, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                found[name] = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        for name, pid in self.alone.items():
            with contextlib.suppress(psutil.NoSuchProcess):
                found[name] = [psutil.Process(pid)]
        return found

    def run(self) -> None:
        known: dict[int, psutil.Process] = {}

        def current() -> dict[str, list[psutil.Process]]:
            # Re-discovered every sample, so that workers started later (one per shard) are counted.
            groups = self._processes()
            for procs in groups.values():
                for i, proc in enumerate(procs):
                    if proc.pid not in known:
                        known[proc.pid] = proc
                        with contextlib.suppress(psutil.NoSuchProcess):
                            proc.cpu_percent(None)
                    procs[i] = known[proc.pid]
            return groups

        current()
        while not self.stop.wait(5.0):
            sample: dict[str, Any] = {"t": time.time()}
            for name, procs in current().items():
                cpu, rss, mapped = 0.0, 0, 0
                for proc in procs:
                    try:
                        cpu += proc.cpu_percent(None)
                        memory = proc.memory_info()
                    except psutil.NoSuchProcess:
                        continue
                    rss += memory.rss
                    # resident pages of mapped files (LevelDB maps its tables): page cache the kernel
                    # can reclaim, unlike the process's own (anonymous) memory
                    mapped += getattr(memory, "shared", 0)
                sample[name] = {"cpu_percent": cpu, "rss_mb": rss / 2**20, "file_mb": mapped / 2**20}
            self.samples.append(sample)


def archive_progress(stack: LocalStack) -> dict[str, int]:
    """The Firehose's own status: records delivered to S3, and the age of its oldest record not yet in S3."""
    path = stack.data_dir / "firehose" / "status.json"
    streams = json.loads(path.read_text()).get("streams", {}) if path.exists() else {}
    shards = [s for d in streams.values() for s in d.get("shards", {}).values() if not s.get("finished")]
    return {"delivered": sum(d.get("records_delivered", 0) for d in streams.values()),
            "lag_ms": max((s.get("lag_ms", 0) for s in shards), default=0)}


def component_pids(stack: LocalStack) -> dict[str, int]:
    state = json.loads((stack.data_dir / "run" / "stack.json").read_text())
    return {name: c["pid"] for name, c in state["components"].items() if c["pid"]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="wildrydes-bench-pipeline-", dir="/tmp"))
    results: dict[str, Any] = {
        "settings": vars(args), "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30)},
    }
    for stack in started_stack(work, ["--no-producer", "--parameter", f"TumblingWindowInSeconds={args.window}",
                                      "--parameter", "AggregatorBatchSize=10000",
                                      "--parameter", f"SourceStreamShardCount={args.shards}"]):
        watcher = ItemWatcher(stack, args.unicorns)
        watcher.start()
        producer = subprocess.Popen(
            [sys.executable, "-m", "infra.cli", "produce", "--unicorns", str(args.unicorns),
             "--rate", str(args.rate / args.unicorns), "--duration", str(args.minutes * 60), "--seed", "1",
             "--in-flight", "4"],
            env={**os.environ, **stack.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The benchmark's own process (its DynamoDB watcher) shares the cores too: shown, not hidden.
        sampler = ResourceSampler({**component_pids(stack), "producer": producer.pid}, {"bench": os.getpid()})
        sampler.start()
        started = time.time()
        out, err = producer.communicate(timeout=args.minutes * 60 + 600)
        produced_for = time.time() - started
        summary = out.strip().splitlines()[-1] if out.strip() else err.strip()[-500:]
        match = re.match(r"produce: (\d+) records acknowledged", summary)
        acknowledged = int(match.group(1)) if match else None
        results["producer"] = {"exit": producer.returncode, "summary": summary, "seconds": round(produced_for, 1)}
        results["archive_at_producer_end"] = archive_progress(stack)
        # Let the last window close and reach DynamoDB.
        deadline = time.time() + args.window + 120
        while time.time() < deadline and (acknowledged is None or sum(watcher.counts.values()) < acknowledged):
            time.sleep(1)
        watcher.stop.set()
        sampler.stop.set()
        watcher.join()
        watcher.scan(everything=True)
        delays = sorted(watcher.settled[k] - watcher.window_end[k] for k in watcher.settled
                        if watcher.window_end[k] <= started + produced_for)
        counted = sum(watcher.counts.values())
        results["completeness"] = {"acknowledged": acknowledged, "counted_in_dynamodb": counted,
                                   "lost": None if acknowledged is None else acknowledged - counted}
        results["rate"] = {"target_per_s": args.rate,
                           "achieved_per_s": round((acknowledged or 0) / produced_for, 1)}
        results["delay_s"] = {
            "items": len(delays),
            "p50": round(statistics.median(delays), 3) if delays else None,
            "p99": round(delays[min(len(delays) - 1, int(len(delays) * 0.99))], 3) if delays else None,
            "max": round(delays[-1], 3) if delays else None,
            "note": "when a 0.2 s scan loop first saw the item with its final count, minus the window end",
        }
        results["resources"] = summarize_resources(sampler.samples)
        # The archive runs at a lower priority (batch work): how long after the producer stopped it had
        # every acknowledged record in S3.
        deadline = time.time() + 900
        while time.time() < deadline and archive_progress(stack)["delivered"] < (acknowledged or 0):
            time.sleep(1)
        archived = archive_progress(stack)
        results["archive"] = {**archived, "complete": archived["delivered"] >= (acknowledged or 0),
                              "complete_s_after_producer": round(time.time() - started - produced_for, 1)}
    return results


def summarize_resources(samples: list[dict[str, Any]]) -> dict[str, Any]:
    names = {k for s in samples for k in s if k != "t"}
    out: dict[str, Any] = {}
    for name in sorted(names):
        cpu = [s[name]["cpu_percent"] for s in samples if name in s]
        rss = [s[name]["rss_mb"] for s in samples if name in s]
        out[name] = {"cpu_percent_mean": round(statistics.mean(cpu), 1), "cpu_percent_max": round(max(cpu), 1),
                     "rss_mb_max": round(max(rss), 1)}
    return out


def render_markdown(results: dict[str, Any]) -> str:
    lines = [f"# Pipeline benchmark ({results['date']}, {results['machine']['cpus']} cores)", "",
             f"- target {results['rate']['target_per_s']:,.0f} records/s, achieved "
             f"{results['rate']['achieved_per_s']:,.0f} records/s over {results['producer']['seconds']} s "
             f"({results['settings']['unicorns']} unicorns, {results['settings']['window']} s windows, "
             f"{results['settings']['shards']} shards)",
             f"- completeness: {results['completeness']}",
             f"- window end → item readable in DynamoDB: p50 {results['delay_s']['p50']} s, "
             f"p99 {results['delay_s']['p99']} s, max {results['delay_s']['max']} s "
             f"over {results['delay_s']['items']} items",
             f"- archive: {results['archive_at_producer_end']['lag_ms']:,} ms behind the stream when the "
             f"producer stopped; every acknowledged record in S3 "
             f"{results['archive']['complete_s_after_producer']} s after it stopped "
             f"(complete: {results['archive']['complete']})", "",
             "| process | CPU % mean | CPU % max | RSS MB max |", "| --- | ---: | ---: | ---: |"]
    for name, r in results["resources"].items():
        lines.append(f"| {name} | {r['cpu_percent_mean']} | {r['cpu_percent_max']} | {r['rss_mb_max']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    results = run(args)
    suffix = "-quick" if args.quick else f"-{args.rate:.0f}"
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"pipeline{suffix}.json").write_text(json.dumps(results, indent=2))
    (RESULTS_DIR / f"pipeline{suffix}.md").write_text(render_markdown(results))
    print(render_markdown(results))
    return 0 if results["completeness"]["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
