"""More than one shard, exactly: the source stream resharded 1 -> 2 -> 4 -> 2 while a seeded fleet writes,
with kill -9 of the Lambda runtime in the middle; windows Lambda ends early because their state passed its
limit; and a window's final invoke that keeps failing longer than the old retry limit. In each, DynamoDB
equals the aggregation computed independently from the stream, item for item, whichever shards and parts a
unicorn-minute was aggregated in; the archive holds every record once and the reconciliation passes."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from localaws.supervisor.preflight import free_port
from localaws.supervisor.processes import alive
from tests.support.firehose_helpers import ARCHIVE_STREAM, set_destination, wait_for_version
from tests.support.orchestration_stack import environment
from tests.support.pipeline_checks import (
    STREAM,
    TABLE,
    archived_rows,
    assert_aggregates_exact,
    assert_archive_complete,
    produce,
    stream_sequence_numbers,
    wait_for,
)
from tests.support.stack import LocalStack

pytestmark = pytest.mark.faults

WINDOW_S = 2
# Resharding pauses the producer while the stream updates (longer on a loaded machine): a window longer
# than that pause is what lets a parent and its child each hold part of one unicorn's window.
RESHARD_WINDOW_S = 10
# Long enough that the fault is in place before the window the fleet wrote in ends.
FAILING_FINAL_WINDOW_S = 30


def pipeline(window_s: int) -> list[str]:
    return ["--no-producer", "--parameter", f"TumblingWindowInSeconds={window_s}",
            "--parameter", "AggregatorMaximumBatchingWindowInSeconds=0",
            "--parameter", "ArchiveBufferIntervalSeconds=1", "--parameter", "ArchiveBufferSizeMB=1"]


def stack_with_windows(tmp_path: Path, window_s: int) -> Iterator[LocalStack]:
    stack = LocalStack(data_dir=tmp_path / "data", port=free_port(), log_path=tmp_path / "stack.log",
                       extra_args=pipeline(window_s))
    yield stack
    if stack.process is not None and stack.process.poll() is None:
        stack.stop()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    yield from stack_with_windows(tmp_path, WINDOW_S)


def start(stack: LocalStack) -> str:
    stack.start()
    version = set_destination(stack.client("firehose"), ARCHIVE_STREAM, processor_interval_s=1)
    wait_for_version(stack.data_dir, ARCHIVE_STREAM, version)
    return stack.outputs["ArchiveBucketName"]


def aggregator(stack: LocalStack) -> dict[str, Any]:
    """The aggregator mapping's status as the Lambda runtime writes it (per shard included)."""
    try:
        status = json.loads((stack.data_dir / "lambda" / "status.json").read_text())
    except (OSError, ValueError):
        return {}
    return next((m for m in status.get("mappings", {}).values() if m["function"] == "wildrydes-aggregator"), {})


def open_shards(stack: LocalStack) -> list[str]:
    shards = stack.client("kinesis").list_shards(StreamName=STREAM)["Shards"]
    return [s["ShardId"] for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]


def reshard(stack: LocalStack, target: int) -> None:
    """UpdateShardCount, then wait until the aggregator has processed records of every new open shard."""
    stack.client("kinesis").update_shard_count(StreamName=STREAM, TargetShardCount=target,
                                               ScalingType="UNIFORM_SCALING")
    shards = open_shards(stack)
    assert len(shards) == target

    def reading_them() -> bool:
        per_shard = aggregator(stack).get("shards", {})
        return all(per_shard.get(s, {}).get("records_processed", 0) > 0 for s in shards)

    wait_for(f"the aggregator processing the {target} new shards", reading_them, 120, stack)


def kill_the_lambda_runtime(stack: LocalStack) -> None:
    before = stack.run_state()["components"]["lambda"]["pid"]
    os.kill(before, signal.SIGKILL)
    wait_for("the Lambda runtime restarted", lambda: (now := stack.run_state()["components"]["lambda"]["pid"])
             != before and alive(now), 90, stack)


def merged_items(stack: LocalStack) -> list[dict[str, Any]]:
    """The DynamoDB items aggregated from more than one part."""
    items = stack.client("dynamodb").scan(TableName=TABLE, ProjectionExpression="PartCount")["Items"]
    return [i for i in items if int(i.get("PartCount", {"N": "1"})["N"]) > 1]


def reconcile(stack: LocalStack, partitions: set[tuple[str, str]], window_s: int) -> None:
    from orchestration.defs.archive.catalog import register_partition
    from orchestration.defs.platform.resources import AthenaResource
    from orchestration.defs.platform.stack import load_names
    from orchestration.defs.quality.reconcile import reconcile_hour

    with environment(stack.env):
        names = load_names()
        for dt, hour in sorted(partitions):
            register_partition(stack.client("glue"), names.glue_database, names.raw_table, [dt, hour])
            moment = datetime.strptime(f"{dt} {hour}", "%Y-%m-%d %H").replace(tzinfo=UTC)
            outcome = reconcile_hour(AthenaResource(), stack.client("dynamodb"), stack.client("s3"), names, moment,
                                     window_s)
            assert outcome.result.passed and outcome.result.matched > 0, outcome.result.mismatches[:5]


def test_resharding_1_2_4_2_with_a_kill_keeps_every_minute_exact(stack: LocalStack) -> None:
    stack.extra_args = pipeline(RESHARD_WINDOW_S)
    bucket = start(stack)
    fleet = produce(stack, seed=51, seconds=70, unicorns=16, rate=5)
    wait_for("the aggregator consuming the fleet", lambda: aggregator(stack).get("records_processed", 0) > 200,
             120, stack)
    reshard(stack, 2)
    reshard(stack, 4)
    kill_the_lambda_runtime(stack)
    reshard(stack, 2)
    _, err = fleet.communicate(timeout=300)
    assert fleet.returncode == 0, err[-2000:]
    closing = produce(stack, seed=52, seconds=RESHARD_WINDOW_S + 4, unicorns=16, rate=5)  # closes the last windows
    _, err = closing.communicate(timeout=300)
    assert closing.returncode == 0, err[-2000:]

    shards = stack.client("kinesis").list_shards(StreamName=STREAM)["Shards"]
    assert len(shards) == 9  # 1, its 2 children, their 4, the 2 merged
    assert assert_aggregates_exact(stack, RESHARD_WINDOW_S) > 16 * 5 * 70
    # A parent and its child each aggregated part of some unicorn-minutes, and the parts were merged.
    assert merged_items(stack)
    partitions = assert_archive_complete(stack, bucket)
    copies = Counter(archived_rows(stack, bucket))
    assert set(copies) == stream_sequence_numbers(stack.client("kinesis")) and set(copies.values()) == {1}
    reconcile(stack, partitions, RESHARD_WINDOW_S)


def test_windows_ended_early_by_their_state_size_add_up_exactly(stack: LocalStack) -> None:
    """Lambda ends a window early when its state passes 1 MB; here the local runtime's limit is lowered so
    that every window of 24 unicorns ends early several times."""
    stack.extra_env = {"WILDRYDES_LAMBDA_STATE_LIMIT_BYTES": "1500"}
    start(stack)
    fleet = produce(stack, seed=61, seconds=20, unicorns=24, rate=5)
    _, err = fleet.communicate(timeout=300)
    assert fleet.returncode == 0, err[-2000:]
    closing = produce(stack, seed=62, seconds=4, unicorns=24, rate=5)
    closing.communicate(timeout=300)
    assert assert_aggregates_exact(stack, WINDOW_S) >= 24 * 5 * 20
    assert len(merged_items(stack)) > 10


@pytest.fixture
def long_window_stack(tmp_path: Path) -> Iterator[LocalStack]:
    yield from stack_with_windows(tmp_path, FAILING_FINAL_WINDOW_S)


def test_a_final_invoke_failing_longer_than_the_old_retry_limit_loses_no_window(
        long_window_stack: LocalStack) -> None:
    """The summary stream refuses the next 10 PutRecords with an error nothing retries (access denied, as a
    missing permission would): the aggregator's final invokes fail more than the 5 retries the template used
    to allow, are retried until they succeed, and no window goes to the dead-letter queue. The fleet writes
    for 8 s from just after a window's start, so that window is still open when the fault is added (with 2-s
    windows the last one could close first: the runtime closes a quiet window 0.5 s after its end)."""
    stack = long_window_stack
    start(stack)
    window_start = time.time() // FAILING_FINAL_WINDOW_S * FAILING_FINAL_WINDOW_S
    time.sleep(max(0.0, window_start + FAILING_FINAL_WINDOW_S + 1 - time.time()))  # 1 s into the next window
    fleet = produce(stack, seed=71, seconds=8, unicorns=8, rate=5)
    _, err = fleet.communicate(timeout=300)
    assert fleet.returncode == 0, err[-2000:]
    added = stack.cli("local", "faults", "add", "--service", "kinesis", "--operation", "PutRecords", "--error",
                      "AccessDeniedException", "--status", "400", "--count", "10", "--data-dir", str(stack.data_dir))
    assert added.returncode == 0, added.stderr
    wait_for("more failed final invokes than the old limit", lambda: aggregator(stack).get("errors", 0) > 6, 180,
             stack)
    closing = produce(stack, seed=72, seconds=4, unicorns=8, rate=5)  # its PutRecords wait out the rest
    closing.communicate(timeout=300)
    assert assert_aggregates_exact(stack, FAILING_FINAL_WINDOW_S, timeout=300) >= 8 * 5 * 8
    dead_letters = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.outputs["AggregatorDeadLetterQueueUrl"], AttributeNames=["ApproximateNumberOfMessages"])
    assert dead_letters["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert aggregator(stack)["records_to_failure_destination"] == 0
