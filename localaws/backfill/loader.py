"""Loading the history: records in arrival order, cut into the aggregator's windows and the archive's buffer
intervals, each handed on when it closes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TextIO

from localaws.backfill.aggregation import aggregate_window, write_summaries
from localaws.backfill.archive import archive_buffer, check_hours_free
from localaws.backfill.deployment import Clients, Deployment, discover
from localaws.backfill.records import StreamRecord, generate


@dataclass
class Report:
    start: datetime
    end: datetime
    records: int = 0
    windows: int = 0
    items: int = 0
    objects: int = 0
    hours: list[str] = field(default_factory=list)


def load_history(hours: int, unicorns: int, seed: int, end: datetime, clients: Clients | None = None,
                 dep: Deployment | None = None, force: bool = False, progress: TextIO | None = None) -> Report:
    clients = clients or Clients.from_environment()
    dep = dep or discover(clients)
    end = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    if not force:
        check_hours_free(dep, clients.s3, start, end)
    shard = f"history-{seed}"
    window_ms = dep.aggregator.tumbling_window_s * 1000
    buffer_ms = max(1, int(dep.archive.buffer_interval_s)) * 1000
    report = Report(start, end, hours=[f"{start + timedelta(hours=h):%Y-%m-%d %H}:00" for h in range(hours)])
    window: list[StreamRecord] = []
    buffer: list[StreamRecord] = []

    def close_window() -> None:
        summaries = aggregate_window(dep, shard, window[0].arrival_ms // window_ms * window_ms / 1000, window)
        closing = (window[0].arrival_ms // window_ms + 1) * window_ms
        report.items += write_summaries(dep, summaries, closing, clients.dynamodb)
        report.windows += 1

    for tick in generate(unicorns, seed, start, end):
        for record in tick:
            if window and record.arrival_ms // window_ms != window[0].arrival_ms // window_ms:
                close_window()
                window = []
            if buffer and record.arrival_ms // buffer_ms != buffer[0].arrival_ms // buffer_ms:
                report.objects += archive_buffer(dep, shard, buffer, seed, clients.s3)
                buffer = []
            window.append(record)
            buffer.append(record)
            report.records += 1
        if progress and tick and tick[0].arrival_ms % 3_600_000 < 1000 and report.records > len(tick):
            progress.write(f"backfill-history: {tick[0].arrival_ms // 1000 - int(start.timestamp())}s of "
                           f"{hours * 3600}s loaded, {report.items} items, {report.objects} objects\n")
    if window:
        close_window()
    if buffer:
        report.objects += archive_buffer(dep, shard, buffer, seed, clients.s3)
    return report
