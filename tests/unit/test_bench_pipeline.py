"""The pipeline benchmark's pure pieces: the --compare variants, the per-window delays and the goal lines."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from bench import host as bench_host
from bench import pipeline
from bench.pipeline_probes import ItemWatcher


def test_compare_gives_one_variant_per_value() -> None:
    parser = argparse.ArgumentParser()
    assert pipeline.variants(parser, None) == [("", {})]
    assert pipeline.variants(parser, "WILDRYDES_FAST_JSON=0,1") == [
        ("WILDRYDES_FAST_JSON=0", {"WILDRYDES_FAST_JSON": "0"}),
        ("WILDRYDES_FAST_JSON=1", {"WILDRYDES_FAST_JSON": "1"})]
    assert pipeline.variants(parser, "SummaryStreamShardCount=1,2")[1] == (
        "SummaryStreamShardCount=2", {"SummaryStreamShardCount": "2"})
    assert pipeline.is_parameter("SummaryStreamShardCount") and not pipeline.is_parameter("WILDRYDES_FAST_JSON")
    with pytest.raises(SystemExit):
        pipeline.variants(parser, "lower=1")


def test_delays_are_grouped_per_window_and_only_for_windows_ended_in_time() -> None:
    watcher = ItemWatcher.__new__(ItemWatcher)  # no stack: only the bookkeeping
    watcher.settled = {("a", "w1"): 103.0, ("b", "w1"): 101.5, ("a", "w2"): 162.0, ("a", "w3"): 230.0}
    watcher.first_seen = {("a", "w1"): 102.0, ("b", "w1"): 101.5, ("a", "w2"): 161.0, ("a", "w3"): 230.0}
    watcher.window_end = {("a", "w1"): 100.0, ("b", "w1"): 100.0, ("a", "w2"): 160.0, ("a", "w3"): 220.0}
    delays, per_window = watcher.delays(ended_by=200.0)
    assert delays == [1.5, 2.0, 3.0]
    assert [(w["window"], w["items"], w["max_s"]) for w in per_window] == [("w1", 2, 3.0), ("w2", 1, 2.0)]
    # first item: the earliest first sighting (a count seen before it settled counts), from the window's end
    assert [(w["end"], w["first_s"]) for w in per_window] == [(100.0, 1.5), (160.0, 1.0)]


def watcher(names: list[str], window_s: int = 60, began: float = 120.0) -> ItemWatcher:
    watcher = ItemWatcher.__new__(ItemWatcher)  # no stack: only the bookkeeping
    watcher.names, watcher.window_s, watcher.next_window = names, window_s, began
    watcher.first_seen, watcher.settled, watcher.counts, watcher.window_end, watcher.missing = {}, {}, {}, {}, {}
    watcher.cursor = {}
    return watcher


def item(name: str, window: str, count: int) -> dict[str, Any]:
    return {"Name": {"S": name}, "StatusTime": {"S": window}, "RecordCount": {"N": str(count)},
            "WindowEnd": {"S": "1970-01-01 00:03:00.000"}}


def test_the_watcher_reads_a_sample_of_an_ended_window_then_every_key_still_missing() -> None:
    names = [f"u{i:03d}" for i in range(250)]
    w = watcher(names)
    w.open_ended_windows(179.9)
    w.close_complete_windows()
    assert w.keys_to_read() == []  # the window 120-180 has not ended
    w.open_ended_windows(180.0)
    assert list(w.missing) == ["1970-01-01 00:02:00.000"]
    assert w.keys_to_read() == [(n, "1970-01-01 00:02:00.000") for n in ("u000", "u100", "u200")]
    w.record(item("u007", "1970-01-01 00:02:00.000", 60), now=181.0)  # the window's output has started
    window = "1970-01-01 00:02:00.000"
    passes = [w.keys_to_read() for _ in range(3)]  # at most PER_PASS missing keys a pass, the next ones in turn
    assert [len(keys) for keys in passes] == [100, 100, 100]
    assert sorted(set(k for keys in passes for k in keys)) == [(n, window) for n in names if n != "u007"]
    assert passes[0][0] == ("u000", window) and passes[2][49] == ("u000", window)  # and round again
    for name in names[:200]:
        w.record(item(name, window, 60), now=181.5)
    assert w.keys_to_read() == [(n, window) for n in names[200:]]  # few left: every one, every pass
    for name in names:
        w.record(item(name, "1970-01-01 00:02:00.000", 60), now=182.0)
    w.close_complete_windows()
    assert w.missing == {} and w.keys_to_read() == []
    assert w.first_seen[("u007", "1970-01-01 00:02:00.000")] == 181.0
    assert w.settled[("u000", window)] == 181.5 and w.settled[("u249", window)] == 182.0


def test_a_count_that_changes_later_is_timed_when_it_is_seen() -> None:
    w = watcher(["a"])
    w.record(item("a", "w", 30), now=181.0)
    w.record(item("a", "w", 30), now=182.0)
    w.record(item("a", "w", 60), now=190.0)  # a partial window merged into the item
    assert w.first_seen[("a", "w")] == 181.0 and w.settled[("a", "w")] == 190.0 and w.counts[("a", "w")] == 60


def test_an_empty_window_is_dropped_only_once_its_successor_is_complete() -> None:
    w = watcher(["a", "b"])
    w.open_ended_windows(300.0)  # windows 120-180 and 180-240 ended; 240-300 too
    first, second, third = sorted(w.missing)
    w.record(item("a", second, 60), now=301.0)
    w.close_complete_windows()
    assert sorted(w.missing) == [first, second, third]  # the successor is not complete yet
    w.record(item("b", second, 60), now=302.0)
    w.close_complete_windows()
    assert sorted(w.missing) == [third]  # the first held no records; the second is complete


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


def test_a_restarted_process_is_a_goal_not_met_and_named() -> None:
    steady = pipeline.goals({**result(10_000, 4.9, 121.0, 0), "restarts": {}}, minutes=10)
    assert [met for _, met in steady] == [True] * 5
    crashed = pipeline.goals({**result(10_000, 4.9, 121.0, 0), "restarts": {"kinesis": 2}}, minutes=10)
    assert not crashed[-1][1] and "restarted kinesis 2×" in crashed[-1][0]


def test_a_result_names_its_commit_and_host() -> None:
    machine = bench_host()
    assert machine["cpus"] >= 1 and machine["platform"] and len(machine["load_average_at_start"]) == 3
    assert pipeline.host_line({"commit": "abc1234", "platform": "Linux-6.1-x86_64"}) == (
        " commit `abc1234`, host Linux-6.1-x86_64.")
    assert pipeline.host_line({"platform": "Linux-6.1-x86_64"}) == " host Linux-6.1-x86_64."
    assert pipeline.host_line({"cpus": 2}) == ""
