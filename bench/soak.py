"""Soak: the whole local platform for 30 minutes at a steady rate. Reports the achieved rate, the delay from
a window's end to its item in DynamoDB (p50/p99, sampled unicorns), the map's data latency (a reader at the
stream's tip, as the map reads it), the delivery delay to S3 (object written − its oldest record's arrival),
each process's CPU and memory over time (an SVG plot) and completeness at the end (records acknowledged vs
counted in DynamoDB vs rows archived).

``python -m bench soak [--rate 4000] [--minutes 30] [--unicorns 1000] [--quick]``
Results: bench/results/soak-<rate>-<minutes>min.json, .md and .svg (soak-quick.* with --quick), with the
command line; loss is counted by identity (bench/pipeline_identity.py: the producer's acknowledged sequence
numbers against the archive's, and DynamoDB's counts against the archive's per unicorn and window).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from bench import RESULTS_DIR, add_result_options, commit_of, host, result_stem
from bench.pipeline_identity import check as identity_check
from bench.pipeline_probes import ResourceSampler, component_pids, component_restarts, restart_line
from tests.support.stack import LocalStack, started_stack

NAME = "soak"
DESCRIPTION = "30 minutes of the whole platform: rate, delays (DynamoDB, map, S3), CPU/memory over time, completeness"
TABLE = "UnicornSensorData"
SAMPLED_UNICORNS = 20


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=DESCRIPTION)
    parser.add_argument("--rate", type=float, default=4000, help="records/s (default 4000)")
    parser.add_argument("--unicorns", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="3 minutes at 1,000 records/s")
    add_result_options(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.rate, args.unicorns, args.minutes = 1000, 200, 3.0
    return args


def percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 3),
            "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3), "max": round(ordered[-1], 3)}


class Watcher(threading.Thread):
    """Runs ``probe`` every ``every`` seconds until stopped."""

    def __init__(self, probe: Any, every: float) -> None:
        super().__init__(daemon=True)
        self.probe, self.every = probe, every
        self.stop = threading.Event()
        self.errors = 0

    def run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self.probe()
            except Exception:  # noqa: BLE001 - a probe error is counted, the soak goes on
                self.errors += 1


class ItemDelays:
    """Queries a sample of unicorns for new items; delay = first seen − the item's WindowEnd."""

    def __init__(self, stack: LocalStack, names: list[str], since: str) -> None:
        self.dynamodb = stack.client("dynamodb")
        self.names, self.since = names, since
        self.seen: dict[tuple[str, str], float] = {}
        self.delays: list[float] = []

    def probe(self) -> None:
        for name in self.names:
            page = self.dynamodb.query(
                TableName=TABLE, KeyConditionExpression="#n = :n AND StatusTime >= :t",
                ExpressionAttributeNames={"#n": "Name"},
                ExpressionAttributeValues={":n": {"S": name}, ":t": {"S": self.since}})
            now = time.time()
            for item in page["Items"]:
                key = (name, item["StatusTime"]["S"])
                if key in self.seen:
                    continue
                self.seen[key] = now
                end = item["WindowEnd"]["S"][:19].replace("T", " ")
                self.delays.append(now - datetime.strptime(end, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())


MAP_STREAM = "wildrydes-map"


class MapLatency:
    """Reads the map's stream (``wildrydes-map``, the aggregator's relay of each unicorn's latest reading) as the
    live map's reader does (streaming/map/src/reader.js): up to 5,000 records a call, again after 250 ms while
    more than 1 s behind, a jump to LATEST when more than 60 s behind; latency = read time − the sensor time
    (StatusTime) of the newest reading read, what a viewer sees."""

    LIMIT, CATCH_UP_S, BEHIND_MS, MAX_BEHIND_MS = 5000, 0.25, 1000, 60_000

    def __init__(self, stack: LocalStack) -> None:
        self.kinesis = stack.client("kinesis")
        self.iterators: dict[str, str] = {}
        self.latencies: list[float] = []
        self.relay: list[float] = []  # arrival in wildrydes-map − sensor time: the aggregator's side
        self.reader: list[float] = []  # read − arrival: the reader's side
        self.skipped_to_latest = 0

    def latest(self, shard_id: str) -> str:
        return self.kinesis.get_shard_iterator(StreamName=MAP_STREAM, ShardId=shard_id,
                                               ShardIteratorType="LATEST")["ShardIterator"]

    def probe(self) -> None:
        if not self.iterators:
            for shard in self.kinesis.list_shards(StreamName=MAP_STREAM)["Shards"]:
                self.iterators[shard["ShardId"]] = self.latest(shard["ShardId"])
        for shard_id in list(self.iterators):
            while True:
                page = self.kinesis.get_records(ShardIterator=self.iterators[shard_id], Limit=self.LIMIT)
                now = time.time()
                if page["Records"]:
                    record = page["Records"][-1]
                    newest = json.loads(record["Data"])["StatusTime"]
                    sensed = datetime.strptime(newest, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()
                    arrived = record["ApproximateArrivalTimestamp"].timestamp()
                    self.latencies.append(now - sensed)
                    self.relay.append(arrived - sensed)
                    self.reader.append(now - arrived)
                self.iterators[shard_id] = page["NextShardIterator"]
                behind = page.get("MillisBehindLatest", 0)
                if behind > self.MAX_BEHIND_MS:
                    self.skipped_to_latest += 1
                    self.iterators[shard_id] = self.latest(shard_id)
                    break
                if not page["Records"] or behind <= self.BEHIND_MS:
                    break
                time.sleep(self.CATCH_UP_S)


class DeliveryDelays:
    """New archive objects: delay = object written − the arrival of its oldest and newest records."""

    def __init__(self, stack: LocalStack, bucket: str) -> None:
        self.s3, self.bucket = stack.client("s3"), bucket
        self.known: set[str] = set()
        self.oldest: list[float] = []
        self.newest: list[float] = []
        self.rows = 0

    def probe(self) -> None:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix="raw/"):
            for obj in page.get("Contents", []):
                if obj["Key"] in self.known:
                    continue
                self.known.add(obj["Key"])
                body = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                arrivals = pq.read_table(io.BytesIO(body), columns=["arrivaltime"]).column(0)
                self.rows += len(arrivals)
                written = obj["LastModified"].timestamp()
                times = [(t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()
                         for t in arrivals.to_pylist() if t is not None]
                if times:
                    self.oldest.append(written - min(times))
                    self.newest.append(written - max(times))


def count_items(stack: LocalStack) -> int:
    dynamodb = stack.client("dynamodb")
    kwargs: dict[str, Any] = {"TableName": TABLE, "ProjectionExpression": "RecordCount"}
    total = 0
    while True:
        page = dynamodb.scan(**kwargs)
        total += sum(int(i["RecordCount"]["N"]) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run(args: argparse.Namespace) -> dict[str, Any]:
    from streaming.producer.simulation import unicorn_names

    work = Path(tempfile.mkdtemp(prefix="wildrydes-bench-soak-", dir="/tmp"))
    results: dict[str, Any] = {"settings": vars(args), "date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "cpus": os.cpu_count()}
    # The template's defaults (60-s windows and buffers), except batches as large as the stream allows.
    for stack in started_stack(work, ["--no-producer", "--parameter", "AggregatorBatchSize=10000"]):
        bucket = stack.outputs["ArchiveBucketName"]
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        items = ItemDelays(stack, unicorn_names(args.unicorns)[:SAMPLED_UNICORNS], since)
        tip = MapLatency(stack)
        delivery = DeliveryDelays(stack, bucket)
        watchers = [Watcher(items.probe, 1.0), Watcher(tip.probe, 1.0), Watcher(delivery.probe, 15.0)]
        producer = subprocess.Popen(
            [sys.executable, "-m", "infra.cli", "produce", "--unicorns", str(args.unicorns),
             "--rate", str(args.rate / args.unicorns), "--duration", str(args.minutes * 60), "--seed", "5",
             "--in-flight", "4", "--acks", str(work / "acks.csv")], env={**os.environ, **stack.env},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        sampler = ResourceSampler({**component_pids(stack), "producer": producer.pid}, {"bench": os.getpid()})
        for thread in [sampler, *watchers]:
            thread.start()
        started = time.time()
        out, err = producer.communicate(timeout=args.minutes * 60 + 900)
        produced_for = time.time() - started
        summary = out.strip().splitlines()[-1] if out.strip() else err.strip()[-500:]
        match = re.match(r"produce: (\d+) records acknowledged", summary)
        acknowledged = int(match.group(1)) if match else None
        # Drain: the last windows close, the last Firehose buffer is written.
        deadline = time.time() + 300
        counted = 0
        while time.time() < deadline:
            counted = count_items(stack)
            with contextlib.suppress(Exception):
                delivery.probe()
            if acknowledged is not None and counted >= acknowledged and delivery.rows >= acknowledged:
                break
            time.sleep(10)
        sampler.stop.set()
        for watcher in watchers:
            watcher.stop.set()
        results["identity"] = identity_check(stack, work / "acks.csv", 60, work)
        results["restarts"] = component_restarts(stack)
        results.update({
            "producer": {"exit": producer.returncode, "summary": summary, "seconds": round(produced_for, 1)},
            "rate": {"target_per_s": args.rate, "achieved_per_s": round((acknowledged or 0) / produced_for, 1)},
            "completeness": {"acknowledged": acknowledged, "counted_in_dynamodb": counted,
                             "archived_rows": delivery.rows,
                             "lost_in_dynamodb": None if acknowledged is None else acknowledged - counted,
                             "missing_in_archive": None if acknowledged is None else acknowledged - delivery.rows},
            "window_end_to_dynamodb_s": percentiles(items.delays),
            "map_latency_s": percentiles(tip.latencies),
            "map_relay_s": percentiles(tip.relay),
            "map_reader_s": percentiles(tip.reader),
            "map_skipped_to_latest": tip.skipped_to_latest,
            "s3_delivery_oldest_record_s": percentiles(delivery.oldest),
            "s3_delivery_newest_record_s": percentiles(delivery.newest),
            "probe_errors": sum(w.errors for w in watchers),
            "samples": sampler.samples,
        })
    return results


def svg_plot(samples: list[dict[str, Any]], metric: str, title: str, unit: str) -> str:
    """A small line chart of one metric per process over time (no plotting library needed)."""
    names = sorted({k for s in samples for k in s if k != "t"})
    if not samples:
        return ""
    t0 = samples[0]["t"]
    width, height, left, bottom = 760, 260, 60, 30
    top = max((s[n][metric] for s in samples for n in names if n in s), default=1.0) or 1.0
    span = max(samples[-1]["t"] - t0, 1.0)
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
              "#17becf"]
    parts = [f'<g><text x="{left}" y="16" font-size="14">{title}</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#444"/>',
             f'<line x1="{left}" y1="24" x2="{left}" y2="{height - bottom}" stroke="#444"/>',
             f'<text x="4" y="30" font-size="11">{top:.0f} {unit}</text>',
             f'<text x="4" y="{height - bottom}" font-size="11">0</text>',
             f'<text x="{width - 90}" y="{height - 8}" font-size="11">{span / 60:.0f} min</text>']
    for i, name in enumerate(names):
        points = " ".join(
            f"{left + (s['t'] - t0) / span * (width - left - 10):.1f},"
            f"{height - bottom - s[name][metric] / top * (height - bottom - 24):.1f}" for s in samples if name in s)
        color = colors[i % len(colors)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/>')
        parts.append(f'<text x="{width - 130}" y="{36 + 13 * i}" font-size="11" fill="{color}">{name}</text>')
    parts.append("</g>")
    return "\n".join(parts)


def render_svg(samples: list[dict[str, Any]]) -> str:
    cpu = svg_plot(samples, "cpu_percent", "CPU per process (% of one core)", "%")
    rss = svg_plot(samples, "rss_mb", "Memory per process (RSS, MB)", "MB")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="760" height="540" font-family="sans-serif">\n{cpu}\n'
            f'<g transform="translate(0,275)">\n{rss}\n</g>\n</svg>\n')


def render_markdown(r: dict[str, Any], svg_name: str) -> str:
    def fmt(p: dict[str, Any]) -> str:
        return f"p50 {p['p50']} s, p99 {p['p99']} s, max {p['max']} s (n={p['n']})"

    lines = [f"# Soak ({r['date']}, {r['cpus']} cores)", "", f"`{r.get('command', 'python -m bench soak')}`"
             + (f", commit {commit_of(r['machine'])}." if "machine" in r else ""), "",
             f"- target {r['rate']['target_per_s']:,.0f} records/s for {r['settings']['minutes']} min, achieved "
             f"{r['rate']['achieved_per_s']:,.0f} records/s ({r['settings']['unicorns']} unicorns)",
             f"- completeness (counts): {r['completeness']}",
             f"- completeness by identity: {r['identity']}" if "identity" in r else "- (identity not checked)",
             f"- {restart_line(r['restarts'])[0]}" if "restarts" in r else "- (restarts not recorded)",
             f"- window end → item in DynamoDB ({SAMPLED_UNICORNS} sampled unicorns): "
             f"{fmt(r['window_end_to_dynamodb_s'])}",
             f"- map data latency (a reader at the stream's tip, as the map's): {fmt(r['map_latency_s'])}; "
             f"jumps to LATEST after falling {MapLatency.MAX_BEHIND_MS // 1000} s behind: "
             f"{r.get('map_skipped_to_latest', 'not counted')}",
             f"  - of which the aggregator's relay (arrival in the map stream − sensor time): "
             f"{fmt(r['map_relay_s'])}; the reader's (read − arrival): {fmt(r['map_reader_s'])}"
             if "map_relay_s" in r else "  - (not split in this run)",
             f"- delivery to S3, object written − oldest record's arrival: {fmt(r['s3_delivery_oldest_record_s'])}",
             f"- delivery to S3, object written − newest record's arrival: {fmt(r['s3_delivery_newest_record_s'])}",
             f"- probe errors: {r['probe_errors']}", "", f"![CPU and memory per process]({svg_name})", "",
             "| process | CPU % mean | CPU % max | RSS MB first | RSS MB last | RSS MB max | mapped files MB, last |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    samples = r["samples"]
    for name in sorted({k for s in samples for k in s if k != "t"}):
        series = [s[name] for s in samples if name in s]
        cpu = [x["cpu_percent"] for x in series]
        rss = [x["rss_mb"] for x in series]
        mapped = series[-1].get("file_mb")
        lines.append(f"| {name} | {statistics.mean(cpu):.1f} | {max(cpu):.1f} | {rss[0]:.0f} | {rss[-1]:.0f} | "
                     f"{max(rss):.0f} | {'' if mapped is None else f'{mapped:.0f}'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    stem = result_stem("soak-quick" if args.quick else f"soak-{args.rate:.0f}-{args.minutes:g}min", args)
    machine = host()
    results = run(args)
    results["command"] = shlex.join(["python", "-m", "bench", "soak", *(sys.argv[1:] if argv is None else argv)])
    results["machine"] = machine
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(results, indent=2))
    (RESULTS_DIR / f"{stem}.svg").write_text(render_svg(results["samples"]))
    (RESULTS_DIR / f"{stem}.md").write_text(render_markdown(results, f"{stem}.svg"))
    print(render_markdown(results, f"{stem}.svg"))
    return 0 if results["identity"]["ok"] and not results["restarts"] else 1


if __name__ == "__main__":
    sys.exit(main())
