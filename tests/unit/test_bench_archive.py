"""The archive lag's arithmetic in ``bench pipeline`` (bench/pipeline_archive.py)."""

from __future__ import annotations

import re

from bench.pipeline_archive import archive_cpu, ceiling_lines


def test_cpu_per_record_and_share() -> None:
    assert archive_cpu(cpu_while_producing_s=300.0, producing_s=600.0, cpu_until_archived_s=336.0,
                       records=6_000_000) == {"firehose_cpu_us_per_record": 56.0,
                                              "firehose_cores_while_producing": 0.5}
    assert archive_cpu(0.0, 0.0, 0.0, 0) == {"firehose_cpu_us_per_record": 0.0,
                                             "firehose_cores_while_producing": 0.0}


def test_a_firehose_that_keeps_up_waits_one_interval_plus_its_buffers_conversion() -> None:
    archive = {"firehose_cpu_us_per_record": 56.0, "firehose_cores_while_producing": 0.6, "max_lag_s": 118.0}
    text = " ".join(ceiling_lines(archive, rate=10_000, interval_s=60, goal_s=125))
    # 600,000 records x 56 us = 33.6 CPU-s, at 0.6 cores 56 s: 60 + 56 = 116 s
    assert "0.56 cores, and it had 0.60" in text
    assert "33.6 CPU-s of its work: 56 s at 0.60 cores" in text
    assert "up to 60 + 56 = 116 s (measured: at most 118.0 s behind)" in text
    # 65 s after the buffer closes: 65 x 0.6 / 600,000 = 65 us per record, or 33.6 / 65 = 0.52 cores
    assert re.search(r"at most 65\.0 µs per record with this share, or 0\.52 cores", text)


def test_a_firehose_short_of_cpu_falls_behind() -> None:
    archive = {"firehose_cpu_us_per_record": 80.0, "firehose_cores_while_producing": 0.4, "max_lag_s": 300.0}
    text = " ".join(ceiling_lines(archive, rate=10_000, interval_s=60, goal_s=125))
    assert "0.80 cores, and it had 0.40" in text
    assert "could not keep up: at that cost and share it could process 50% of what arrived" in text
    assert "2.00× cheaper per record" in text


def test_nothing_to_say_without_the_figures() -> None:
    assert ceiling_lines({"max_lag_s": 200.0}, rate=10_000, interval_s=60, goal_s=125) == []
