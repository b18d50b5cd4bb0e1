"""Producer → Kinesis → aggregator (tumbling windows) → summary stream → writer → DynamoDB, for real."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aggregation_oracle import actual_items, expected_items, read_stream
from tests.stack import LocalStack, started_stack

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


def test_kill_9_of_the_lambda_runtime_keeps_the_effect_exactly_once(stack: LocalStack) -> None:
    """SIGKILL the runtime at random moments while it aggregates; the supervisor restarts it from its
    checkpoints. DynamoDB must equal the independent aggregation of everything in the stream."""
    already = len(read_stream(stack.client("kinesis"), "wildrydes"))
    rng = random.Random(5)
    producer = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "produce", "--unicorns", "8", "--count", "2400", "--seed", "12",
         "--rate", "25"], env={**os.environ, **stack.env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kills = 0
    while producer.poll() is None or kills < 4:
        time.sleep(rng.uniform(0.5, 2.0))
        pid = runtime_pid(stack)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
                kills += 1
            except ProcessLookupError:  # killed already; the supervisor is restarting it
                pass
        if kills >= 8:
            break
    assert producer.wait(120) == 0
    assert kills >= 4
    items = wait_until_complete(stack, already + 2400, timeout=180)
    expected = expected_items(read_stream(stack.client("kinesis"), "wildrydes"), WINDOW_S)
    assert items == expected


def runtime_pid(stack: LocalStack) -> int | None:
    try:
        state = json.loads((Path(stack.data_dir) / "run" / "stack.json").read_text())
        return int(state["components"]["lambda"]["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
