"""The archive's lag against its goal: what the Firehose's CPU per record and its share of the machine allow.

The Firehose holds each record until its buffer closes (``BufferingHints.IntervalInSeconds``), then converts the
buffer to Parquet and writes it, at niceness 19 so that the live path goes first. So a record waits at most one
interval plus the time its buffer takes to convert and write with the CPU the Firehose gets; the goal allows one
interval more (and 5 s to invoke and write). ``archive_cpu`` measures the Firehose's CPU per record and its share
while producing, ``ceiling_lines`` does that arithmetic with them.
"""

from __future__ import annotations

from typing import Any


def archive_cpu(cpu_while_producing_s: float, producing_s: float, cpu_until_archived_s: float,
                records: int) -> dict[str, float]:
    """The Firehose's CPU (its process and the transform's worker) per record archived, and the cores it had on
    average while the producer ran."""
    return {"firehose_cpu_us_per_record": round(1e6 * cpu_until_archived_s / records, 1) if records else 0.0,
            "firehose_cores_while_producing": round(cpu_while_producing_s / producing_s, 3) if producing_s else 0.0}


def ceiling_lines(archive: dict[str, Any], rate: float, interval_s: float, goal_s: float) -> list[str]:
    """The archive's lag as the Firehose's CPU cost and share make it, next to the lag measured."""
    per_record_us = archive.get("firehose_cpu_us_per_record")
    cores = archive.get("firehose_cores_while_producing")
    if not per_record_us or not cores:
        return []
    need = rate * per_record_us / 1e6
    lines = [f"The Firehose (its process and the transform's worker, at niceness 19) used {per_record_us:.1f} µs "
             f"of CPU per record archived: at {rate:,.0f} records/s that is {need:.2f} cores, and it had "
             f"{cores:.2f} on average while producing."]
    if cores < need:
        # Keeping up is the goal: a buffer's work done in one interval makes the wait two intervals at most.
        lines.append(f"It could not keep up: at that cost and share it could process {cores / need:.0%} of what "
                     "arrived, so its lag grew for as long as the producer ran. Keeping up, which is the goal (a "
                     f"buffer's work done within one interval), needs the Firehose {need / cores:.2f}× cheaper per "
                     "record, or that many times its share of the CPU.")
        return lines
    buffer_records = rate * interval_s
    buffer_cpu = buffer_records * per_record_us / 1e6
    convert_s = buffer_cpu / cores
    allowed = goal_s - interval_s
    lines.append(
        f"A {interval_s:g}-s buffer holds {buffer_records:,.0f} records, {buffer_cpu:.1f} CPU-s of its work: "
        f"{convert_s:.0f} s at {cores:.2f} cores, so a record waits up to {interval_s:g} + {convert_s:.0f} = "
        f"{interval_s + convert_s:.0f} s (measured: at most {archive['max_lag_s']} s behind). The goal leaves the "
        f"buffer {allowed:g} s after it closes: at most {allowed * cores / buffer_records * 1e6:.1f} µs per record "
        f"with this share, or {buffer_cpu / allowed:.2f} cores at this cost.")
    return lines
