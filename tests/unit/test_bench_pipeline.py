"""The pipeline benchmark's pure pieces: the --compare variants, the per-window delays and the goal lines."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from bench import pipeline
from bench.pipeline_probes import ItemWatcher


def test_compare_gives_one_variant_per_value() -> None:
    parser = argparse.ArgumentParser()
    assert pipeline.variants(parser, None) == [("", {})]
    assert pipeline.variants(parser, "WILDRYDES_FAST_JSON=0,1") == [
        ("WILDRYDES_FAST_JSON=0", {"WILDRYDES_FAST_JSON": "0"}),
        ("WILDRYDES_FAST_JSON=1", {"WILDRYDES_FAST_JSON": "1"})]
    with pytest.raises(SystemExit):
        pipeline.variants(parser, "lower=1")


def test_delays_are_grouped_per_window_and_only_for_windows_ended_in_time() -> None:
    watcher = ItemWatcher.__new__(ItemWatcher)  # no stack: only the bookkeeping
    watcher.settled = {("a", "w1"): 103.0, ("b", "w1"): 101.5, ("a", "w2"): 162.0, ("a", "w3"): 230.0}
    watcher.window_end = {("a", "w1"): 100.0, ("b", "w1"): 100.0, ("a", "w2"): 160.0, ("a", "w3"): 220.0}
    delays, per_window = watcher.delays(ended_by=200.0)
    assert delays == [1.5, 2.0, 3.0]
    assert [(w["window"], w["items"], w["max_s"]) for w in per_window] == [("w1", 2, 3.0), ("w2", 1, 2.0)]


def result(rate: float, p99: float, lag: float, lost: int) -> dict[str, Any]:
    return {"rate": {"achieved_per_s": rate}, "producer": {"seconds": 600.0},
            "delay_s": {"p50": 1.0, "p99": p99, "max": p99, "items": 10_000, "windows": 10},
            "archive": {"max_lag_s": lag, "complete": True, "complete_s_after_producer": 100.0},
            "identity": {"lost_in_archive": lost, "acknowledged": 6_000_000, "archive_duplicates": 0,
                         "dynamodb_items_differing": 0, "ok": lost == 0}}


def test_goal_lines_say_met_only_when_each_goal_is() -> None:
    assert [met for _, met in pipeline.goals(result(10_000, 4.9, 121.0, 0), minutes=10)] == [True] * 4
    assert [met for _, met in pipeline.goals(result(9_000, 5.1, 200.0, 3), minutes=10)] == [False] * 4
    assert not pipeline.goals(result(10_000, 4.9, 121.0, 0), minutes=3)[0][1]  # not sustained for 10 minutes
