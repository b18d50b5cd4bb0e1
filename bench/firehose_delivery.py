"""Benchmark: local Firehose delivery throughput (records/s), Kinesis backlog → Parquet objects in S3.

A local stack is started (``wildrydes local up --no-producer``); a dedicated one-shard Kinesis stream
is pre-loaded with N unicorn records from the fleet simulator. Each run then creates a delivery
stream with the archive's deployed configuration (the archive-transform Lambda, dynamic partitions
dt/hour, Parquet/Snappy with the Glue table ``wildrydes.unicorn_status``), only pointed at a bench
bucket and prefix and with short buffer intervals so the tail does not wait for a timer, and times
from CreateDeliveryStream until the Parquet objects under its prefix hold all N rows. Afterwards
every sequence number is checked to be present. The figures are the medians over the runs of records/s and
of the CPU the Firehose process and its transform worker spent per record.

``--compare VAR=a,b`` starts one stack per value of a local-runtime environment variable and alternates the
runs between them (a, b, a, b, …), so both see the same machine, e.g. ``--compare WILDRYDES_FIREHOSE_BATCH=0,1``.

    python -m bench firehose                                 # 500k records, 3 runs
    python -m bench firehose --quick                         # 50k records, 1 run
    python -m bench firehose --records 200000 --runs 1 --compare WILDRYDES_FIREHOSE_BATCH=0,1

Results: ``bench/results/firehose[-compare].json`` and ``.md`` (``firehose-quick.*`` with ``--quick``), with the
command line.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
import pyarrow.parquet as pq

from bench import RESULTS_DIR, add_result_options, commit_of, host, result_stem
from bench.pipeline import variants
from streaming.producer.simulation import Fleet
from tests.support.firehose_helpers import FirehoseProcess
from tests.support.stack import LocalStack, started_stack

NAME = "firehose"
DESCRIPTION = "Firehose delivery throughput: a Kinesis backlog to Parquet in S3 through the transform Lambda"
SOURCE_STREAM = "bench-firehose-source"
BUCKET = "bench-firehose"
ARCHIVE_STREAM = "wildrydes-archive"
PUT_BATCH = 500
PUT_THREADS = 4


@dataclass
class Run:
    run: int
    records: int
    seconds: float
    records_per_s: float
    objects: int
    parquet_bytes: int
    distinct_sequence_numbers: int
    duplicates: int
    cpu_us_per_record: float


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--buffer-mb", type=int, default=64, help="BufferingHints.SizeInMBs (the template's 64)")
    parser.add_argument("--buffer-interval", type=int, default=1, help="BufferingHints.IntervalInSeconds")
    parser.add_argument("--compare", metavar="VAR=a,b",
                        help="one stack per value of the local runtime's environment variable VAR, runs alternating")
    parser.add_argument("--quick", action="store_true", help="50k records, one run")
    add_result_options(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.runs = 50_000, 1
    args.variants = variants(parser, args.compare)
    args.stem = result_stem("firehose-quick" if args.quick else "firehose-compare" if args.compare else "firehose",
                            args)
    return args


# ---- setup ---------------------------------------------------------------------------------------------
def preload(stack: LocalStack, records: int) -> float:
    """Puts ``records`` simulator readings into the source stream; returns records/s."""
    kinesis = stack.client("kinesis")
    kinesis.create_stream(StreamName=SOURCE_STREAM, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=SOURCE_STREAM, WaiterConfig={"Delay": 0.5})
    fleet = Fleet(1000, seed=42)
    clock = int(datetime(2026, 11, 25, 18, 0, tzinfo=UTC).timestamp() * 1000)
    batches: list[list[dict[str, Any]]] = []
    pending: list[dict[str, Any]] = []
    while len(batches) * PUT_BATCH + len(pending) < records:
        for reading in fleet.tick(clock):
            pending.append({"Data": reading.encode(), "PartitionKey": reading.name})
            if len(pending) == PUT_BATCH:
                batches.append(pending)
                pending = []
        clock += 1000
    if pending:
        batches.append(pending)
    excess = len(batches) * PUT_BATCH - records
    if excess > 0:
        batches[-1] = batches[-1][:-excess]
    lock = threading.Lock()

    def worker() -> None:
        client = stack.client("kinesis")
        while True:
            with lock:
                if not batches:
                    return
                batch = batches.pop()
            while batch:
                result = client.put_records(StreamName=SOURCE_STREAM, Records=batch)
                batch = [entry for entry, r in zip(batch, result["Records"], strict=True) if "ErrorCode" in r]

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(PUT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return records / (time.monotonic() - started)


def delivery_config(stack: LocalStack, run: int, buffer_mb: int, buffer_interval: int) -> dict[str, Any]:
    """The archive's deployed ExtendedS3 configuration, pointed at the bench bucket and a run prefix."""
    description = stack.client("firehose").describe_delivery_stream(
        DeliveryStreamName=ARCHIVE_STREAM)["DeliveryStreamDescription"]
    s3 = dict(description["Destinations"][0]["ExtendedS3DestinationDescription"])
    s3.pop("S3BackupDescription", None)
    s3["BucketARN"] = f"arn:aws:s3:::{BUCKET}"
    s3["Prefix"] = f"run-{run}/" + s3["Prefix"]
    s3["ErrorOutputPrefix"] = f"run-{run}/" + s3["ErrorOutputPrefix"]
    s3["BufferingHints"] = {"SizeInMBs": buffer_mb, "IntervalInSeconds": buffer_interval}
    for parameter in s3["ProcessingConfiguration"]["Processors"][0]["Parameters"]:
        if parameter["ParameterName"] == "BufferIntervalInSeconds":
            parameter["ParameterValue"] = "1"
    return s3


def grant_bench_access(stack: LocalStack, role_arn: str) -> None:
    """The archive's delivery role may read only the deployed stream and write only the archive bucket (the
    endpoint enforces IAM): an inline policy adds the bench stream and bucket, as a user would."""
    account, region = role_arn.split(":")[4], stack.client("kinesis").meta.region_name
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
                                       "kinesis:GetShardIterator", "kinesis:ListShards"],
         "Resource": f"arn:aws:kinesis:{region}:{account}:stream/{SOURCE_STREAM}"},
        {"Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject", "s3:PutObject",
                                       "s3:AbortMultipartUpload", "s3:ListBucketMultipartUploads"],
         "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}]}
    stack.client("iam").put_role_policy(RoleName=role_arn.rsplit("/", 1)[1], PolicyName="bench-firehose",
                                        PolicyDocument=json.dumps(policy))


# ---- one run -----------------------------------------------------------------------------------------------
def count_rows(stack: LocalStack, prefix: str, seen: dict[str, int]) -> int:
    s3 = stack.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"] not in seen:
                body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
                seen[item["Key"]] = pq.ParquetFile(io.BytesIO(body)).metadata.num_rows
    return sum(seen.values())


def verify(stack: LocalStack, prefix: str) -> tuple[int, int, int]:
    """(distinct sequence numbers, duplicate rows, Parquet bytes) under the prefix."""
    s3 = stack.client("s3")
    sequence_numbers: set[str] = set()
    rows = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            size += len(body)
            column = pq.read_table(io.BytesIO(body), columns=["sequencenumber"]).column(0).to_pylist()
            rows += len(column)
            sequence_numbers.update(column)
    return len(sequence_numbers), rows - len(sequence_numbers), size


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU of the process and its children (the transform's worker)."""
    if pid is None:
        raise RuntimeError("the Firehose process is not running")
    process = psutil.Process(pid)
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = member.cpu_times()
            total += times.user + times.system
    return total


def run_once(stack: LocalStack, run: int, records: int, args: argparse.Namespace, timeout: float,
             firehose_pid: int | None) -> Run:
    firehose = stack.client("firehose")
    name = f"bench-firehose-{run}"
    config = delivery_config(stack, run, args.buffer_mb, args.buffer_interval)
    source = stack.client("kinesis").describe_stream_summary(StreamName=SOURCE_STREAM)["StreamDescriptionSummary"]
    grant_bench_access(stack, config["RoleARN"])
    prefix = f"run-{run}/raw/"
    seen: dict[str, int] = {}
    cpu_before = cpu_seconds(firehose_pid)
    started = time.monotonic()
    firehose.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": source["StreamARN"], "RoleARN": config["RoleARN"]},
        ExtendedS3DestinationConfiguration=config)
    delivered = 0
    while delivered < records:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"run {run}: only {delivered} of {records} records delivered after {timeout:.0f}s")
        time.sleep(0.5)
        delivered = count_rows(stack, prefix, seen)
    seconds = time.monotonic() - started
    cpu = cpu_seconds(firehose_pid) - cpu_before  # the worker is spawned by the first invocation: counted
    firehose.delete_delivery_stream(DeliveryStreamName=name)
    distinct, duplicates, size = verify(stack, prefix)
    if distinct != records:
        raise RuntimeError(f"run {run}: {distinct} distinct sequence numbers, expected {records}")
    return Run(run, records, round(seconds, 2), round(records / seconds), len(seen), size, distinct, duplicates,
               round(cpu / records * 1e6, 1))


# ---- reporting -------------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    return {**host(), "cores": os.cpu_count(), "os": f"{platform.system()} {platform.release()}",
            "machine": platform.machine()}


def summary(runs: list[Run], preload_rate: float) -> dict[str, Any]:
    return {"preload_records_per_s": round(preload_rate), "runs": [asdict(r) for r in runs],
            "median_records_per_s": round(statistics.median(r.records_per_s for r in runs)),
            "median_cpu_us_per_record": round(statistics.median(r.cpu_us_per_record for r in runs), 1)}


def write_results(results: dict[str, Any], stem: str) -> tuple[Path, Path]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path, md_path = RESULTS_DIR / f"{stem}.json", RESULTS_DIR / f"{stem}.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    s = results["settings"]
    lines = [
        "# Firehose delivery throughput (local runtime)",
        "",
        f"`{results['command']}` · {results['finished_at']} · commit {commit_of(results['machine'])} · "
        f"{results['machine']['cores']} cores · "
        f"Python {results['machine']['python']}",
        "",
        f"{s['records']:,} records pre-loaded in a one-shard Kinesis stream (fleet simulator); each run creates a "
        "delivery stream with the archive's configuration (transform Lambda, dynamic partitions dt/hour, "
        f"Parquet/Snappy with the Glue schema), BufferingHints {s['buffer_mb']} MB / {s['buffer_interval_s']} s, "
        "Lambda buffer 1 MB / 1 s, and is timed from CreateDeliveryStream until all rows are in Parquet objects in "
        "S3. CPU: the Firehose process and its transform worker, per record delivered."
        + (" With several variants the runs alternate between their stacks." if s["compare"] else ""),
        "",
        "| variant | run | seconds | records/s | CPU µs/record | objects | Parquet MB | duplicates |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, variant in results["variants"].items():
        for r in variant["runs"]:
            lines.append(f"| {label or '-'} | {r['run']} | {r['seconds']:.1f} | {r['records_per_s']:,} | "
                         f"{r['cpu_us_per_record']} | {r['objects']} | {r['parquet_bytes'] / 1e6:.1f} | "
                         f"{r['duplicates']} |")
    lines.append("")
    for label, variant in results["variants"].items():
        lines.append(f"**Median{' ' + label if label else ''}: {variant['median_records_per_s']:,} records/s, "
                     f"{variant['median_cpu_us_per_record']} µs of CPU per record**")
        lines.append("")
    lines += ["Shared 2-core machine: the stack's other processes (kinesalite, gateway, moto) share the cores.", ""]
    md_path.write_text("\n".join(lines))
    return json_path, md_path


def start_variant(cleanup: contextlib.ExitStack, work: Path, env: dict[str, str], records: int
                  ) -> tuple[LocalStack, FirehoseProcess, float]:
    work.mkdir(parents=True)
    stacks = started_stack(work, ["--no-producer"], env)
    stack = next(stacks)
    cleanup.callback(lambda: [None for _ in stacks])  # runs the generator's cleanup: stops the stack
    firehose = FirehoseProcess(stack, work / "firehose.log")
    cleanup.callback(firehose.stop)
    stack.client("s3").create_bucket(Bucket=BUCKET)
    print(f"{work.name}: pre-loading {records:,} records ...", flush=True)
    rate = preload(stack, records)
    print(f"{work.name}: pre-loaded at {rate:,.0f} rec/s", flush=True)
    firehose.start()
    return stack, firehose, rate


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    runs: dict[str, list[Run]] = {label: [] for label, _ in args.variants}
    preloads: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-firehose-") as tmp, contextlib.ExitStack() as cleanup:
        started = {}
        for label, env in args.variants:
            started[label] = start_variant(cleanup, Path(tmp) / (label or "stack"), env, args.records)
            preloads[label] = started[label][2]
        for run in range(1, args.runs + 1):
            for label, (stack, firehose, _) in started.items():
                try:
                    result = run_once(stack, run, args.records, args, max(600.0, args.records / 200), firehose.pid())
                except BaseException:
                    print(firehose.log_tail(), file=sys.stderr)
                    raise
                runs[label].append(result)
                print(f"{label or 'run'} {run}: {result.seconds:.1f} s, {result.records_per_s:,} rec/s, "
                      f"{result.cpu_us_per_record} µs CPU/record, {result.objects} objects", flush=True)
    results = {
        "benchmark": NAME,
        "command": shlex.join(["python", "-m", "bench", "firehose", *argv]),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {"records": args.records, "runs": args.runs, "buffer_mb": args.buffer_mb,
                     "buffer_interval_s": args.buffer_interval, "shards": 1, "lambda_buffer": "1 MB / 1 s",
                     "compare": args.compare},
        "variants": {label: summary(runs[label], preloads[label]) for label in runs},
    }
    json_path, md_path = write_results(results, args.stem)
    for label, variant in results["variants"].items():
        print(f"{label or 'median'}: {variant['median_records_per_s']:,} records/s, "
              f"{variant['median_cpu_us_per_record']} µs CPU/record")
    print(f"results in {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
