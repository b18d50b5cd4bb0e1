"""When an idle shard poller reads again (localaws/lambda_runtime/prompt_polling.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from localaws.kinesis_consumer.reading import IDLE_POLL_S
from localaws.lambda_runtime.checkpoints import CheckpointStore
from localaws.lambda_runtime.invoker import FunctionConfig
from localaws.lambda_runtime.mapping import MappingConfig
from localaws.lambda_runtime.prompt_polling import AFTER_WINDOW_END_S, Doorbell, enabled, idle_wait
from localaws.lambda_runtime.shard_poller import ShardPoller

GRACE = 0.5


def test_without_an_open_window_the_idle_interval_holds() -> None:
    assert idle_wait(now=100.0, window_end=None, close_grace_s=GRACE) == IDLE_POLL_S


def test_a_window_ending_within_the_interval_cuts_the_wait_to_just_after_its_end() -> None:
    assert idle_wait(now=119.7, window_end=120.0, close_grace_s=GRACE) == pytest.approx(0.3 + AFTER_WINDOW_END_S)


def test_a_window_ending_later_than_the_interval_leaves_it_whole() -> None:
    assert idle_wait(now=100.0, window_end=120.0, close_grace_s=GRACE) == IDLE_POLL_S


def test_just_after_the_end_the_next_read_is_when_the_clock_may_close_a_quiet_window() -> None:
    now = 120.0 + AFTER_WINDOW_END_S + 0.05
    assert idle_wait(now=now, window_end=120.0, close_grace_s=GRACE) == pytest.approx(120.0 + GRACE - now)


def test_past_the_grace_the_idle_interval_holds_again_so_a_quiet_shard_is_not_read_in_a_loop() -> None:
    assert idle_wait(now=121.0, window_end=120.0, close_grace_s=GRACE) == IDLE_POLL_S


def test_the_doorbell_wakes_the_other_mappings_pollers_but_not_the_ringers() -> None:
    bell = Doorbell()
    aggregator, writer = bell.subscribe("aggregator-mapping"), bell.subscribe("writer-mapping")
    bell.ring("aggregator-mapping")
    assert writer.is_set() and not aggregator.is_set()


def test_an_unsubscribed_poller_is_no_longer_woken() -> None:
    bell = Doorbell()
    writer = bell.subscribe("writer-mapping")
    bell.unsubscribe(writer)
    bell.ring("aggregator-mapping")
    assert not writer.is_set()


def test_a_ring_ends_an_idle_wait_at_once() -> None:
    bell = Doorbell()
    writer = bell.subscribe("writer-mapping")
    woken = threading.Event()
    waiter = threading.Thread(target=lambda: writer.wait(30) and woken.set())
    waiter.start()
    bell.ring("aggregator-mapping")
    waiter.join(timeout=5)
    assert woken.is_set()


def test_the_switch_turns_prompt_polling_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WILDRYDES_PROMPT_POLLING", raising=False)
    assert enabled()
    monkeypatch.setenv("WILDRYDES_PROMPT_POLLING", "0")
    assert not enabled()


def _poller(tmp_path: Path, uuid: str, doorbell: Doorbell) -> ShardPoller:
    function = FunctionConfig("fn", "arn:aws:lambda:us-east-1:123456789012:function:fn", "m.h", 3, 128, {}, "role")
    mapping = MappingConfig.from_api({"UUID": uuid, "EventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s",
                                      "FunctionArn": "f", "TumblingWindowInSeconds": 60}, function)
    return ShardPoller(mapping, "shardId-000000000000", None, None, CheckpointStore(tmp_path / f"{uuid}.sqlite"),
                       None, threading.Event(), doorbell)  # type: ignore[arg-type]


def test_an_idle_poller_reads_again_just_after_its_window_ends(tmp_path: Path) -> None:
    poller = _poller(tmp_path, "aggregator-mapping", Doorbell())
    poller.checkpoint.window_start = time.time() + 0.2 - 60
    started = time.monotonic()
    poller._idle()
    assert time.monotonic() - started < IDLE_POLL_S - 0.3


def test_another_mappings_invocation_ends_an_idle_pollers_wait(tmp_path: Path) -> None:
    bell = Doorbell()
    writer = _poller(tmp_path, "writer-mapping", bell)
    waiting = threading.Thread(target=writer._idle)
    waiting.start()
    bell.ring("aggregator-mapping")
    waiting.join(timeout=IDLE_POLL_S - 0.3)
    assert not waiting.is_alive()
