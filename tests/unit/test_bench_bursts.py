"""The pipeline benchmark's burst arithmetic: CPU between two instants, the write path, the floor it implies."""

from __future__ import annotations

import os

import pytest

from bench.pipeline_bursts import CpuTimeline, bursts, ceiling_lines, cpu_between, group_of

SAMPLES = [(0.0, {"lambda": 0.0, "kinesis": 10.0}), (1.0, {"lambda": 1.0, "kinesis": 10.5}),
           (2.0, {"lambda": 3.0, "kinesis": 11.0, "new": 0.4})]


def test_cpu_between_interpolates_between_samples_and_clamps_outside_them() -> None:
    assert cpu_between(SAMPLES, 0.5, 1.5) == pytest.approx({"kinesis": 0.5, "lambda": 1.5, "new": 0.2})
    assert cpu_between(SAMPLES, -5.0, 9.0) == pytest.approx({"kinesis": 1.0, "lambda": 3.0, "new": 0.4})
    assert cpu_between([], 0.0, 1.0) == {}


def test_lambda_workers_are_grouped_by_handler_module() -> None:
    worker = ["python", "-m", "localaws.lambda_runtime.worker", "streaming.lambdas.summary_writer.handler",
              "--codec", "fast"]
    assert group_of("lambda", worker) == "lambda summary_writer"
    assert group_of("lambda", ["python", "-m", "localaws.lambda_runtime"]) == "lambda"
    assert group_of("firehose", worker) == "firehose"


def window(first: float, last: float, end: float = 60.0) -> dict[str, float | int | str]:
    return {"window": "w", "end": end, "items": 1000, "first_s": first, "max_s": last}


def test_a_cpu_bound_burst_gives_the_factor_its_work_must_shrink_by() -> None:
    # 4 s after the window's end, the machine fully busy: the write path 4 CPU-s, the others 1 core (4 CPU-s).
    def between(start: float, end: float) -> dict[str, float]:
        seconds = end - start
        return {"lambda summary_writer": 0.5 * seconds, "gateway": 0.25 * seconds, "dynamodb": 0.25 * seconds,
                "kinesis": 0.6 * seconds, "producer": 0.4 * seconds}

    summary = bursts([window(1.0, 4.0)], between, cores=2)
    row = summary["windows"][0]
    assert (row["busy_percent"], row["write_path_cpu_s"], row["others_cpu_s"]) == (200.0, 4.0, 4.0)
    text = " ".join(ceiling_lines(summary, goal_s=2.0))
    assert "4.00 CPU-s per window, 4.00 ms per item" in text
    assert "leaving it 1.00: 4.00 ÷ 1.00 = 4.00 s of work" in text
    assert "at most 2.00 CPU-s (2.00 ms per item): 2.00× less than it did; the median window's 2.00× less" in text


def test_a_burst_with_idle_cpu_is_not_called_cpu_bound() -> None:
    summary = bursts([window(1.0, 4.0)], lambda s, e: {"lambda": 0.5 * (e - s)}, cores=2)
    text = " ".join(ceiling_lines(summary, goal_s=2.0))
    assert "50 % busy of 200 %" in text and "CPU-bound" not in text


def test_the_timeline_samples_this_process_cpu() -> None:
    timeline = CpuTimeline({}, {"bench": os.getpid()}, interval=0.05)
    timeline._discover()
    timeline.sample()
    sum(i * i for i in range(2_000_000))  # some CPU to see
    timeline.sample()
    used = timeline.between(timeline.samples[0][0], timeline.samples[-1][0])
    assert used["bench"] > 0
