"""The Athena benchmark's ceiling arithmetic, from a run's medians."""

from __future__ import annotations

from typing import Any

from bench.athena import ceiling


def aggregate(ratio: float) -> dict[str, Any]:
    return {"ratio": ratio, "goal_ratio": 1.3, "duckdb_median_s": 0.1, "targets": {"api": {
        "label": "through the endpoint",
        "client_ms": {"StartQueryExecution": 5.0, "GetQueryResults": 10.0},
        "engine_phases_ms": {"results written": 15.0},
        "statistics_ms": {"EngineExecutionTimeInMillis": 125}}}}


def test_the_ceiling_adds_the_kept_round_trips_to_duckdb() -> None:
    text = " ".join(ceiling(aggregate(1.5)))
    assert "1.3× leaves 30.0 ms" in text
    assert "take 30.0 ms: StartQueryExecution 5.0" in text
    assert "that is 1.30×; the engine's own time over DuckDB's was 10.0 ms more (1.40×)" in text


def test_no_ceiling_is_argued_when_the_goal_is_met() -> None:
    assert ceiling(aggregate(1.2)) == []
