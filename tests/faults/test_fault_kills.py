"""Fault injection: kill -9 at random moments, one process at a time, several together, and the whole local
stack, while a seeded producer writes. Afterwards DynamoDB equals the aggregation computed independently
from the stream, the archive holds every record of the stream, and the reconciliation of the archive with
DynamoDB passes. ``pytest -m faults`` runs this file alone."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from localaws.supervisor.processes import alive
from tests.support.firehose_helpers import ARCHIVE_STREAM, set_destination, wait_for_version
from tests.support.orchestration_stack import environment
from tests.support.pipeline_checks import assert_aggregates_exact, assert_archive_complete, produce, wait_for
from tests.support.stack import LocalStack, started_stack

pytestmark = pytest.mark.faults

WINDOW_S = 2
SEED = 23
LONG_QUERY = ("SELECT count(*) FROM unnest(sequence(1, 30000)) AS a(x) CROSS JOIN unnest(sequence(1, 30000)) AS b(y) "
              "WHERE (x * y) % 7 = 3")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    for stack in started_stack(tmp_path_factory.mktemp("fault-kills"), [
            "--no-producer", "--parameter", f"TumblingWindowInSeconds={WINDOW_S}",
            "--parameter", "AggregatorMaximumBatchingWindowInSeconds=0",
            "--parameter", "ArchiveBufferIntervalSeconds=1", "--parameter", "ArchiveBufferSizeMB=1"]):
        # The processor buffers 60 s before invoking the transform (AWS's default); shortened as an operator would.
        version = set_destination(stack.client("firehose"), ARCHIVE_STREAM, processor_interval_s=1)
        wait_for_version(stack.data_dir, ARCHIVE_STREAM, version)
        yield stack


def components(stack: LocalStack) -> dict[str, Any]:
    return json.loads((stack.data_dir / "run" / "stack.json").read_text())["components"]


def kill_components(stack: LocalStack, names: list[str]) -> bool:
    """kill -9 the named components; True once the supervisor has restarted every one of them."""
    before = components(stack)
    for name in names:
        os.kill(before[name]["pid"], signal.SIGKILL)

    def restarted() -> bool:
        now = components(stack)
        return all(now[n]["pid"] != before[n]["pid"] and alive(now[n]["pid"]) for n in names)

    wait_for(f"restart of {names}", restarted, timeout=90, stack=stack)
    return True


def kill_athena_mid_query(stack: LocalStack) -> bool:
    """The engine is killed while a query runs: after its restart the query is FAILED (never hung) with a
    reason, and a new query succeeds."""
    athena = stack.client("athena")
    query_id = athena.start_query_execution(QueryString=LONG_QUERY, WorkGroup="wildrydes")["QueryExecutionId"]
    wait_for("the long query running", lambda: athena.get_query_execution(QueryExecutionId=query_id)[
        "QueryExecution"]["Status"]["State"] == "RUNNING", timeout=30, stack=stack)
    kill_components(stack, ["athena"])

    def state() -> dict[str, Any] | None:
        try:
            status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        except Exception:  # noqa: BLE001 - the gateway answers 503 until the engine is back
            return None
        return status if status["State"] not in ("QUEUED", "RUNNING") else None

    status = wait_for("the interrupted query's final state", state, timeout=60, stack=stack)
    assert status["State"] == "FAILED" and status.get("StateChangeReason"), status
    check = athena.start_query_execution(QueryString="SELECT 1", WorkGroup="wildrydes")["QueryExecutionId"]
    final = wait_for("a query after the restart", lambda: athena.get_query_execution(QueryExecutionId=check)[
        "QueryExecution"]["Status"]["State"] in ("SUCCEEDED", "FAILED"), timeout=60, stack=stack)
    assert final and athena.get_query_execution(QueryExecutionId=check)["QueryExecution"]["Status"][
        "State"] == "SUCCEEDED"
    return True


def restart_after_kill_all(stack: LocalStack) -> bool:
    """kill -9 of every process at once; True once a new stack serves with none of the killed processes."""
    before = {name: c["pid"] for name, c in components(stack).items()}
    stack.kill_all()
    assert not any(alive(pid) for pid in before.values())
    stack.start()
    after = components(stack)
    return stack.healthy() and all(after[name]["pid"] != pid and alive(after[name]["pid"])
                                   for name, pid in before.items())


def test_kill_9_at_random_moments_loses_nothing(stack: LocalStack) -> None:
    rng = random.Random(SEED)
    outputs = json.loads((stack.data_dir / "deploy" / "outputs.json").read_text())["Outputs"]
    bucket = outputs["ArchiveBucketName"]
    attempted: list[str] = []
    survived: list[str] = []

    def attempt(label: str, action: Any) -> None:
        attempted.append(label)
        if action():
            survived.append(label)

    # Phase 1: one process at a time and two together, at random moments while the producer writes.
    producer = produce(stack, SEED, 40)
    for label, action in [
        ("lambda runtime", lambda: kill_components(stack, ["lambda"])),
        ("firehose", lambda: kill_components(stack, ["firehose"])),
        ("athena engine mid-query", lambda: kill_athena_mid_query(stack)),
        ("lambda runtime + firehose together", lambda: kill_components(stack, ["lambda", "firehose"])),
    ]:
        time.sleep(rng.uniform(1.0, 4.0))  # a random moment, not a wait for a condition
        attempt(label, action)
    out, err = producer.communicate(timeout=300)
    assert producer.returncode == 0, err[-2000:]

    # Phase 2: the whole stack, while processing still catches up; then more data and one more kill.
    time.sleep(rng.uniform(0.0, 2.0))
    attempt("whole stack", lambda: restart_after_kill_all(stack))
    producer = produce(stack, SEED + 1, 12)
    time.sleep(rng.uniform(1.0, 5.0))
    attempt("lambda runtime after the stack restart", lambda: kill_components(stack, ["lambda"]))
    out, err = producer.communicate(timeout=300)
    assert producer.returncode == 0, err[-2000:]

    # DynamoDB equals the aggregation of everything in the stream, computed independently, and the
    # archive holds every record of the stream.
    assert assert_aggregates_exact(stack, WINDOW_S) >= 8 * 5 * 50
    partitions = assert_archive_complete(stack, bucket)

    # The reconciliation of each archived hour with DynamoDB passes.
    from orchestration.defs.archive.catalog import register_partition
    from orchestration.defs.platform.resources import AthenaResource
    from orchestration.defs.platform.stack import load_names
    from orchestration.defs.quality.reconcile import reconcile_hour

    with environment(stack.env):
        names = load_names()
        for dt, hour in sorted(partitions):
            register_partition(stack.client("glue"), names.glue_database, names.raw_table, [dt, hour])
            start = datetime.strptime(f"{dt} {hour}", "%Y-%m-%d %H").replace(tzinfo=UTC)
            outcome = reconcile_hour(AthenaResource(), stack.client("dynamodb"), stack.client("s3"), names, start,
                                     WINDOW_S)
            assert outcome.result.passed, outcome.result.mismatches[:5]
            assert outcome.result.matched > 0

    print(f"kills survived: {len(survived)} of {len(attempted)} attempted ({', '.join(attempted)})")
    assert survived == attempted
