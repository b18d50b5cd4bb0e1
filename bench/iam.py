"""What the endpoint's IAM checks cost per request: the same calls, by the same principals, against one stack
whose gateway is switched between ``--iam enforce`` and ``--iam off`` round after round (interleaved, so both
modes share the machine's conditions). Calls: a Lambda role session's Kinesis PutRecords (to the map stream) and
GetRecords (each read with the iterator the one before returned, as consumers read: the gateway decrypts every
new kinesalite iterator to learn the stream it authorizes), the summary writer's DynamoDB GetItem, the Firehose
role's S3 PutObject (1 KiB), and the admin's PutRecords (signature check only).
``python -m bench iam [--calls 300] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench import RESULTS_DIR, add_result_options, commit_of, host, result_stem
from localaws.settings import DEFAULT_REGION
from tests.support.stack import LocalStack, started_stack

NAME = "iam"
DESCRIPTION = "per-request cost of the endpoint's SigV4 and IAM policy checks, --iam enforce vs off"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench iam", description=DESCRIPTION)
    parser.add_argument("--calls", type=int, default=300, help="calls per workload, mode and round (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of enforce and off (default 5)")
    parser.add_argument("--quick", action="store_true", help="50 calls, 2 rounds")
    add_result_options(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.rounds = 50, 2
    return args


def set_mode(stack: LocalStack, mode: str) -> None:
    request = urllib.request.Request(f"{stack.endpoint_url}/_wildrydes/iam", method="PUT",
                                     data=json.dumps({"mode": mode}).encode())
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["mode"] == mode


def role_client(stack: LocalStack, service: str, role_arn: str, principal: str, external_id: str | None = None) -> Any:
    sts = boto3.client("sts", endpoint_url=stack.endpoint_url, region_name=DEFAULT_REGION,
                       aws_access_key_id=principal, aws_secret_access_key="test")
    found = sts.assume_role(RoleArn=role_arn, RoleSessionName="bench",
                            **({"ExternalId": external_id} if external_id else {}))["Credentials"]
    return boto3.client(service, endpoint_url=stack.endpoint_url, region_name=DEFAULT_REGION,
                        aws_access_key_id=found["AccessKeyId"], aws_secret_access_key=found["SecretAccessKey"],
                        aws_session_token=found["SessionToken"], config=Config(retries={"max_attempts": 1}))


def workloads(stack: LocalStack) -> dict[str, Callable[[str], None]]:
    outputs = stack.outputs
    account = outputs["AccountId"]
    role = outputs["MapUnauthenticatedRoleArn"].rsplit("/", 1)[0] + "/" + "wildrydes-{}"
    aggregator = role_client(stack, "kinesis", role.format("AggregatorRole"), "lambda.amazonaws.com")
    writer = role_client(stack, "dynamodb", role.format("SummaryWriterRole"), "lambda.amazonaws.com")
    delivery = role_client(stack, "s3", role.format("ArchiveDeliveryRole"), "firehose.amazonaws.com", account)
    admin = stack.client("kinesis")
    # PutRecords go to the map stream, which the aggregator relays to and nothing reads here (--no-map): on the
    # summary stream the summary writer would quarantine each "{}" in SQS, and moto's SQS counts a queue's
    # messages on every send, which kept moto busy for minutes and slowed every other call
    relay, table, bucket = outputs["MapStreamName"], outputs["SensorTableName"], outputs["ArchiveBucketName"]
    body = b"x" * 1024
    reader = role_client(stack, "kinesis", role.format("AggregatorRole"), "lambda.amazonaws.com")
    source = outputs["SourceStreamName"]
    shard = reader.list_shards(StreamName=source)["Shards"][0]["ShardId"]
    iterator = [reader.get_shard_iterator(StreamName=source, ShardId=shard,
                                          ShardIteratorType="LATEST")["ShardIterator"]]

    def get_records(_: str) -> None:
        iterator[0] = reader.get_records(ShardIterator=iterator[0], Limit=100)["NextShardIterator"]

    key = {"Name": {"S": "bench"}, "StatusTime": {"S": "2026-01-01T00:00:00.000Z"}}
    return {
        "Kinesis PutRecords (aggregator's role session)":
            lambda i: aggregator.put_records(StreamName=relay, Records=[{"Data": b"{}", "PartitionKey": "b"}]),
        "Kinesis GetRecords, a new iterator each call (aggregator's role session)": get_records,
        "DynamoDB GetItem (summary writer's role session)": lambda i: writer.get_item(TableName=table, Key=key),
        "S3 PutObject 1 KiB (Firehose's role session)":
            lambda i: delivery.put_object(Bucket=bucket, Key=f"bench/iam/{i}", Body=body),  # a new key each time
        "Kinesis PutRecords (admin: signature only)":
            lambda i: admin.put_records(StreamName=relay, Records=[{"Data": b"{}", "PartitionKey": "b"}]),
    }


def timed(call: Callable[[str], None], calls: int, label: str) -> float:
    """The median latency of ``calls`` sequential calls, in milliseconds."""
    latencies = []
    for i in range(calls):
        started = time.perf_counter()
        call(f"{label}/{i}")
        latencies.append((time.perf_counter() - started) * 1000)
    return statistics.median(latencies)


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="wildrydes-bench-iam-"))
    samples: dict[str, dict[str, list[float]]] = {}
    for stack in started_stack(work, ["--no-producer", "--no-map", "--history-hours", "0"]):
        loads = workloads(stack)
        for name, call in loads.items():  # warm: sessions resolved, connections open
            timed(call, 20, "warm")
            samples[name] = {"enforce": [], "off": []}
        for round_ in range(args.rounds):  # which mode goes first alternates, so a drift favours neither
            for mode in ("enforce", "off") if round_ % 2 == 0 else ("off", "enforce"):
                set_mode(stack, mode)
                for name, call in loads.items():
                    samples[name][mode].append(timed(call, args.calls, f"{round_}/{mode}"))
        set_mode(stack, "enforce")
    rows = []
    for name, by_mode in samples.items():
        enforce, off = statistics.median(by_mode["enforce"]), statistics.median(by_mode["off"])
        rows.append({"workload": name, "enforce_ms": round(enforce, 3), "off_ms": round(off, 3),
                     "cost_ms": round(enforce - off, 3), "ratio": round(enforce / off, 3),
                     "rounds": {mode: [round(v, 3) for v in values] for mode, values in by_mode.items()}})
    return {"rows": rows}


def render_markdown(results: dict[str, Any]) -> str:
    s = results["settings"]
    lines = [f"# IAM enforcement cost ({results['date']})", "",
             f"`{results['command']}`: median latency of {s['calls']} sequential calls per workload, mode and "
             f"round; {s['rounds']} rounds of `enforce` and `off` on one stack (the first mode alternating); the "
             "figure is the median of the rounds' medians.", "",
             f"Commit {commit_of(results['machine'])}; load average at start "
             f"{results['machine']['load_average_at_start']}.", "",
             "| workload | enforce ms | off ms | cost per request ms | ratio |", "| --- | ---: | ---: | ---: | ---: |"]
    for r in results["rows"]:
        lines.append(f"| {r['workload']} | {r['enforce_ms']} | {r['off_ms']} | {r['cost_ms']} | {r['ratio']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    name = result_stem("iam-quick" if args.quick else "iam", args)
    results = {"command": shlex.join(["python", "-m", "bench", "iam", *argv]),
               "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": host(),
               "settings": {"calls": args.calls, "rounds": args.rounds}, **run(args)}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(results, indent=2))
    markdown = render_markdown(results)
    (RESULTS_DIR / f"{name}.md").write_text(markdown)
    print(markdown)
    return 0
