"""Producer → Kinesis → aggregator (tumbling windows) → summary stream → writer → DynamoDB, for real."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from localaws.supervisor.processes import alive
from tests.support.aggregation_oracle import actual_items, expected_items, read_stream
from tests.support.pipeline_checks import replacement, wait_for
from tests.support.stack import WILDRYDES, LocalStack, started_stack

WINDOW_S = 2
TABLE = "UnicornSensorData"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from started_stack(tmp_path_factory.mktemp("streaming"),
                             ["--no-producer", "--parameter", f"TumblingWindowInSeconds={WINDOW_S}",
                              "--parameter", "AggregatorMaximumBatchingWindowInSeconds=0"])


def produce(stack: LocalStack, count: int, seed: int, rate: float, unicorns: int = 5) -> None:
    result = stack.cli("produce", "--unicorns", str(unicorns), "--count", str(count), "--seed", str(seed),
                       "--rate", str(rate), timeout=300)
    assert result.returncode == 0, result.stderr


def wait_until_complete(stack: LocalStack, total: int, timeout: float = 120.0) -> dict:
    dynamodb = stack.client("dynamodb")
    deadline = time.monotonic() + timeout
    items: dict = {}
    while time.monotonic() < deadline:
        items = actual_items(dynamodb, TABLE)
        if sum(i["RecordCount"] for i in items.values()) >= total:
            return items
        time.sleep(0.5)
    raise AssertionError(f"only {sum(i['RecordCount'] for i in items.values())} of {total} records aggregated")


def test_produced_records_become_exact_per_window_items(stack: LocalStack) -> None:
    produce(stack, count=600, seed=11, rate=40)  # 5 unicorns × 120 ticks at 200 records/s: several windows
    items = wait_until_complete(stack, 600)
    expected = expected_items(read_stream(stack.client("kinesis"), "wildrydes"), WINDOW_S)
    assert items == expected
    assert len({start for _, start in items}) >= 2  # spans several windows

    cli = stack.cli("aggregates", "--unicorn", next(iter(expected))[0], "--format", "json")
    assert cli.returncode == 0, cli.stderr
    assert '"RecordCount"' in cli.stdout


@pytest.mark.faults
def test_kill_9_of_the_lambda_runtime_keeps_the_effect_exactly_once(stack: LocalStack) -> None:
    """SIGKILL the runtime at random moments while it aggregates; the supervisor restarts it from its
    checkpoints. DynamoDB must equal the independent aggregation of everything in the stream."""
    already = len(read_stream(stack.client("kinesis"), "wildrydes"))
    rng = random.Random(5)
    producer = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "produce", "--unicorns", "8", "--count", "2400", "--seed", "12",
         "--rate", "25"], env={**os.environ, **stack.env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    attempts = 0
    restarts: list[tuple[int, int, bool]] = []  # (killed pid, pid of its replacement, while producing), as seen
    while (producer.poll() is None or attempts < 4) and attempts < 8:
        time.sleep(rng.uniform(0.5, 2.0))  # a random moment of the aggregation
        pid = runtime_pid(stack)
        if pid is None or not alive(pid):  # the supervisor is restarting it
            continue
        producing = producer.poll() is None
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        attempts += 1
        new_pid = replacement(pid, lambda: runtime_pid(stack))
        if new_pid is not None:
            restarts.append((pid, new_pid, producing))
    assert producer.wait(120) == 0
    # every kill took effect: the killed runtime was seen gone and a new one running in its place
    assert len(restarts) == attempts, f"{attempts - len(restarts)} of {attempts} kills not seen to restart the " \
                                      f"runtime: {restarts}; stack log:\n{stack.log_tail(3000)}"
    assert any(producing for _, _, producing in restarts), "no kill fell while records were being written"
    items = wait_until_complete(stack, already + 2400, timeout=180)
    expected = expected_items(read_stream(stack.client("kinesis"), "wildrydes"), WINDOW_S)
    assert items == expected


def runtime_pid(stack: LocalStack) -> int | None:
    try:
        state = json.loads((Path(stack.data_dir) / "run" / "stack.json").read_text())
        return int(state["components"]["lambda"]["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


BAD_RECORDS = {
    b"not json at all": "JSON",
    b'{"Name": "Shadowfax", "StatusTime": "2026-11-25 18:00:00.000"': "JSON",
    b'{"Name": "Shadowfax", "StatusTime": "2026-11-25 18:00:00.000", "Latitude": 40.7, "Longitude": -73.9, '
    b'"Distance": "far", "HealthPoints": 150, "MagicPoints": 150}': "Distance",
    b'{"Name": "Shadowfax", "StatusTime": "2026-11-25 18:00:00.000", "Latitude": 40.7, "Longitude": -73.9, '
    b'"Distance": 30.0, "MagicPoints": 150}': "HealthPoints",
    b'{"Name": "Shadowfax", "StatusTime": "2026-11-25 18:00:00.000", "Latitude": 140.7, "Longitude": -73.9, '
    b'"Distance": 30.0, "HealthPoints": 150, "MagicPoints": 150}': "Latitude",
}


def test_bad_records_are_quarantined_and_good_ones_around_them_still_aggregate(stack: LocalStack) -> None:
    kinesis, sqs = stack.client("kinesis"), stack.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=_queue_name(stack))["QueueUrl"]
    good = [json.dumps({"Name": "Quarantine-Check", "StatusTime": "2026-11-25 18:00:00.000", "Latitude": 40.75,
                        "Longitude": -73.98, "Distance": 10.0 + i, "HealthPoints": 120 + i, "MagicPoints": 90 + i})
            .encode() for i in range(3)]
    batch = [good[0], *BAD_RECORDS, good[1], good[2]]
    result = kinesis.put_records(StreamName="wildrydes",
                                 Records=[{"Data": d, "PartitionKey": "Quarantine-Check"} for d in batch])
    assert result["FailedRecordCount"] == 0

    dynamodb = stack.client("dynamodb")
    deadline = time.monotonic() + 60
    items: list[dict] = []
    while time.monotonic() < deadline and sum(int(i["RecordCount"]["N"]) for i in items) < 3:
        items = dynamodb.query(TableName=TABLE, KeyConditionExpression="#n = :n",
                               ExpressionAttributeNames={"#n": "Name"},
                               ExpressionAttributeValues={":n": {"S": "Quarantine-Check"}})["Items"]
        time.sleep(0.5)
    # One put, so normally one window; should it straddle a boundary, the totals still hold.
    assert sum(int(i["RecordCount"]["N"]) for i in items) == 3
    assert sum(float(i["Distance"]["N"]) for i in items) == 33.0
    assert min(int(i["MinMagicPoints"]["N"]) for i in items) == 90

    quarantined: list[dict] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(quarantined) < len(BAD_RECORDS):
        page = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        quarantined.extend(json.loads(m["Body"]) for m in page.get("Messages", []))
    by_data = {base64.b64decode(q["data"]): q for q in quarantined}
    assert set(by_data) == set(BAD_RECORDS)
    for data, fragment in BAD_RECORDS.items():
        assert fragment in by_data[data]["reason"], by_data[data]
        assert by_data[data]["sequenceNumber"]


def _queue_name(stack: LocalStack) -> str:
    outputs = json.loads((Path(stack.data_dir) / "deploy" / "outputs.json").read_text())["Outputs"]
    return outputs["QuarantineQueueUrl"].rsplit("/", 1)[1]


AGGREGATOR_HANDLER = "streaming.lambdas.aggregator.handler"


def lambda_status(stack: LocalStack, written_after: float) -> dict | None:
    """``lambda/status.json`` if the running runtime wrote it after ``written_after`` (``time.time()``)."""
    try:
        status = json.loads((Path(stack.data_dir) / "lambda" / "status.json").read_text())
    except (OSError, ValueError):
        return None
    return status if status.get("pid") == runtime_pid(stack) and status["updated_at"] > written_after else None


def aggregator_mapping(status: dict) -> dict:
    [mapping] = [m for m in status["mappings"].values() if m["function"] == "wildrydes-aggregator"]
    return mapping


def aggregator_worker(stack: LocalStack) -> int | None:
    """The aggregator's worker process (the runtime starts one per mapping and shard, on its first invocation)."""
    pid = runtime_pid(stack)
    if pid is None:
        return None
    try:
        workers = [child.pid for child in psutil.Process(pid).children()
                   if AGGREGATOR_HANDLER in child.cmdline()]
    except psutil.Error:
        return None
    return workers[0] if len(workers) == 1 else None


def put_named(stack: LocalStack, name: str, count: int) -> None:
    records = [json.dumps({"Name": name, "StatusTime": "2026-11-25 18:00:00.000", "Latitude": 40.75,
                           "Longitude": -73.98, "Distance": 10.0, "HealthPoints": 120 + i, "MagicPoints": 90 + i})
               .encode() for i in range(count)]
    result = stack.client("kinesis").put_records(StreamName="wildrydes",
                                                 Records=[{"Data": d, "PartitionKey": name} for d in records])
    assert result["FailedRecordCount"] == 0


@pytest.mark.faults
def test_status_lag_is_the_age_of_the_oldest_record_read_and_not_processed(stack: LocalStack) -> None:
    """The aggregator's worker is stopped (SIGSTOP) while records of two windows are read: the first window's
    invocation hangs, the second window's records wait in the poller. The mapping's lag is their age while they
    wait, bounded by when they were put; once the worker runs again, every record is processed once and the lag is
    back to MillisBehindLatest (0 at the tip)."""
    warm_up = aggregator_worker(stack) is None  # no invocation since the runtime started (the test alone)
    if warm_up:
        put_named(stack, "Lag-Warmup", 1)
    worker = wait_for("the aggregator's worker process", lambda: aggregator_worker(stack), 60, stack)
    asked = time.time()

    def idle() -> dict | None:
        status = lambda_status(stack, asked)
        mapping = aggregator_mapping(status) if status else None
        return mapping if mapping and mapping["lag_ms"] == 0 and mapping["records_processed"] >= warm_up else None

    processed = wait_for("the aggregator idle at the stream's tip", idle, 60, stack)["records_processed"]

    runtime = runtime_pid(stack)
    assert runtime is not None
    os.kill(runtime, signal.SIGSTOP)  # nothing is read while both windows' records are put
    try:
        first_put = time.time()
        put_named(stack, "Lag-Check", 5)
        window_of_first = time.time() // WINDOW_S
        while time.time() // WINDOW_S <= window_of_first:  # into the next window (the clock decides, not a process)
            time.sleep(0.05)
        put_named(stack, "Lag-Check", 5)
        last_put = time.time()
        os.kill(worker, signal.SIGSTOP)
    finally:
        os.kill(runtime, signal.SIGCONT)
    try:
        def waiting() -> dict | None:  # a status written 3 s after the last put, none of the records processed
            status = lambda_status(stack, last_put + 3)
            return status if status and aggregator_mapping(status)["records_processed"] == processed else None

        held = wait_for("a status 3 s after the put, the records not processed", waiting, 30, stack)
    finally:
        os.kill(worker, signal.SIGCONT)
    lag = aggregator_mapping(held)["lag_ms"]
    # The oldest record read and not processed arrived between the first put and the last one.
    at_least = (held["updated_at"] - last_put) * 1000
    at_most = (held["updated_at"] - first_put) * 1000
    assert lag >= 3000 and at_least - 5 <= lag <= at_most + 5, (lag, at_least, at_most)

    resumed = time.time()

    def caught_up() -> dict | None:
        status = lambda_status(stack, resumed)
        mapping = aggregator_mapping(status) if status else None
        return mapping if mapping and mapping["records_processed"] >= processed + 10 and mapping["lag_ms"] == 0 \
            else None

    after = wait_for("the 10 records processed and the lag back to 0", caught_up, 90, stack)
    assert after["records_processed"] == processed + 10 and after["errors"] == 0, after
    dynamodb = stack.client("dynamodb")

    def aggregated() -> list[dict] | None:
        items = [item for key, item in actual_items(dynamodb, TABLE).items() if key[0] == "Lag-Check"]
        return items if sum(i["RecordCount"] for i in items) >= 10 else None

    items = wait_for("the Lag-Check items in DynamoDB", aggregated, 60, stack)
    assert sum(i["RecordCount"] for i in items) == 10 and len(items) >= 2  # each record once, in its window


def test_status_shows_lag_processed_and_quarantined_records(stack: LocalStack) -> None:
    """Runs after the tests above: the aggregator processed their records, the quarantine holds the bad ones."""

    def report() -> dict:
        result = stack.cli("local", "status", "--json", "--data-dir", str(stack.data_dir))
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["processing"]

    deadline = time.monotonic() + 30
    processing = report()
    while time.monotonic() < deadline and not (processing["lambda"] and processing["firehose"]):
        time.sleep(0.5)
        processing = report()
    mappings = {m["function"]: m for m in processing["lambda"]["mappings"].values()}
    aggregator = mappings["wildrydes-aggregator"]
    assert not processing["lambda"]["stale"]
    # Counters are the runtime process's own: the kill test above restarted it, the quarantine test then
    # put 8 records through it.
    assert aggregator["stream"] == "wildrydes" and aggregator["records_processed"] >= 8
    assert aggregator["lag_ms"] == 0 and aggregator["invocations"] > 0  # idle at the tip (the lag test: above)
    assert mappings["wildrydes-summary-writer"]["records_processed"] > 0
    assert "wildrydes-archive" in processing["firehose"]["streams"]
    assert processing["queues"]["quarantine (malformed records)"]["messages"] >= len(BAD_RECORDS)

    text = stack.cli("local", "status", "--data-dir", str(stack.data_dir))
    assert text.returncode == 0, text.stderr
    assert "wildrydes-aggregator" in text.stdout and "lag" in text.stdout and "wildrydes-quarantine" in text.stdout

    watch = subprocess.Popen([*WILDRYDES, "local", "status", "--watch", "0.5", "--data-dir", str(stack.data_dir)],
                             stdout=subprocess.PIPE, text=True, env={**os.environ, **stack.env})
    try:
        assert watch.stdout is not None
        refreshes = 0
        for line in watch.stdout:
            refreshes += line.startswith("(every 0.5s")
            if refreshes == 2:
                break
        assert refreshes == 2
    finally:
        watch.terminate()
        watch.wait(60)
