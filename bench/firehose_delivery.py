"""Benchmark: local Firehose delivery throughput (records/s), Kinesis backlog → Parquet objects in S3.

A local stack is started (``wildrydes local up --no-producer``); a dedicated one-shard Kinesis stream
is pre-loaded with N unicorn records from the fleet simulator. Each run then creates a delivery
stream with the archive's deployed configuration (the archive-transform Lambda, dynamic partitions
dt/hour, Parquet/Snappy with the Glue table ``wildrydes.unicorn_status``), only pointed at a bench
bucket and prefix and with short buffer intervals so the tail does not wait for a timer, and times
from CreateDeliveryStream until the Parquet objects under its prefix hold all N rows. Afterwards
every sequence number is checked to be present. The figure is the median over the runs.

    uv run python bench/firehose_delivery.py                 # 500k records, 3 runs
    uv run python bench/firehose_delivery.py --quick         # 50k records, 1 run
    uv run python bench/firehose_delivery.py --records 200000 --runs 1

Results: ``bench/results/firehose.json`` and ``firehose.md`` (``firehose-quick.*`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
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

import pyarrow.parquet as pq

from streaming.producer.simulation import Fleet
from tests.support.firehose_helpers import FirehoseProcess
from tests.support.stack import LocalStack, started_stack

NAME = "firehose"
DESCRIPTION = "Firehose delivery throughput: a Kinesis backlog to Parquet in S3 through the transform Lambda"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--buffer-mb", type=int, default=64, help="BufferingHints.SizeInMBs (the template's 64)")
    parser.add_argument("--buffer-interval", type=int, default=1, help="BufferingHints.IntervalInSeconds")
    parser.add_argument("--quick", action="store_true", help="50k records, one run")
    args = parser.parse_args(argv)
    if args.quick:
        args.records, args.runs = 50_000, 1
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


def run_once(stack: LocalStack, run: int, records: int, args: argparse.Namespace, timeout: float) -> Run:
    firehose = stack.client("firehose")
    name = f"bench-firehose-{run}"
    config = delivery_config(stack, run, args.buffer_mb, args.buffer_interval)
    source = stack.client("kinesis").describe_stream_summary(StreamName=SOURCE_STREAM)["StreamDescriptionSummary"]
    grant_bench_access(stack, config["RoleARN"])
    prefix = f"run-{run}/raw/"
    seen: dict[str, int] = {}
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
    firehose.delete_delivery_stream(DeliveryStreamName=name)
    distinct, duplicates, size = verify(stack, prefix)
    if distinct != records:
        raise RuntimeError(f"run {run}: {distinct} distinct sequence numbers, expected {records}")
    return Run(run, records, round(seconds, 2), round(records / seconds), len(seen), size, distinct, duplicates)


# ---- reporting -------------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "python": platform.python_version(), "os": f"{platform.system()} "
            f"{platform.release()}", "machine": platform.machine()}


def write_results(results: dict[str, Any], quick: bool) -> tuple[Path, Path]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = "firehose-quick" if quick else "firehose"
    json_path, md_path = RESULTS_DIR / f"{stem}.json", RESULTS_DIR / f"{stem}.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    s = results["settings"]
    lines = [
        "# Firehose delivery throughput (local runtime)",
        "",
        f"{results['finished_at']} · {results['machine']['cores']} cores · Python {results['machine']['python']}",
        "",
        f"{s['records']:,} records pre-loaded in a one-shard Kinesis stream (fleet simulator, "
        f"{results['preload_records_per_s']:,.0f} rec/s to load); each run creates a delivery stream with the "
        f"archive's configuration (transform Lambda, dynamic partitions dt/hour, Parquet/Snappy with the Glue "
        f"schema), BufferingHints {s['buffer_mb']} MB / {s['buffer_interval_s']} s, Lambda buffer 1 MB / 1 s, "
        "and is timed from CreateDeliveryStream until all rows are in Parquet objects in S3.",
        "",
        "| run | seconds | records/s | objects | Parquet MB | duplicates |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["runs"]:
        lines.append(f"| {r['run']} | {r['seconds']:.1f} | {r['records_per_s']:,} | {r['objects']} | "
                     f"{r['parquet_bytes'] / 1e6:.1f} | {r['duplicates']} |")
    lines += ["", f"**Median: {results['median_records_per_s']:,} records/s**", "",
              "Shared 2-core machine: the stack's other processes (kinesalite, gateway, moto) and the transform's "
              "worker process share the cores; treat the figure as an order of magnitude.", ""]
    md_path.write_text("\n".join(lines))
    return json_path, md_path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-firehose-") as tmp:
        stacks = started_stack(Path(tmp), ["--no-producer"])
        stack = next(stacks)
        firehose = FirehoseProcess(stack, Path(tmp) / "firehose.log")
        try:
            stack.client("s3").create_bucket(Bucket=BUCKET)
            print(f"pre-loading {args.records:,} records ...", flush=True)
            preload_rate = preload(stack, args.records)
            print(f"pre-loaded at {preload_rate:,.0f} rec/s", flush=True)
            firehose.start()
            runs = []
            for run in range(1, args.runs + 1):
                result = run_once(stack, run, args.records, args, timeout=max(600.0, args.records / 200))
                runs.append(result)
                print(f"run {run}: {result.seconds:.1f} s, {result.records_per_s:,} rec/s, {result.objects} objects",
                      flush=True)
        except BaseException:
            print(firehose.log_tail(), file=sys.stderr)
            raise
        finally:
            firehose.stop()
            for _ in stacks:
                pass
    results = {
        "benchmark": NAME,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {"records": args.records, "runs": args.runs, "buffer_mb": args.buffer_mb,
                     "buffer_interval_s": args.buffer_interval, "shards": 1, "lambda_buffer": "1 MB / 1 s"},
        "preload_records_per_s": round(preload_rate),
        "runs": [asdict(r) for r in runs],
        "median_records_per_s": round(statistics.median(r.records_per_s for r in runs)),
    }
    json_path, md_path = write_results(results, args.quick)
    print(f"median {results['median_records_per_s']:,} records/s; results in {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
