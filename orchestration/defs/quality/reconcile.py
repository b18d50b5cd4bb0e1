"""Reconcile one hour: the archive's per-window aggregates (Athena) against DynamoDB's items."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestration.defs.archive.partitions import dt_hour
from orchestration.defs.platform.stack import StackNames
from orchestration.defs.quality import sources
from orchestration.defs.quality.compare import Aggregate, Key, Reconciliation, reconcile


class ReconciliationError(RuntimeError):
    """The hour cannot be reconciled (configuration, not data)."""


@dataclass
class HourReconciliation:
    hour_start: datetime
    window_s: int
    result: Reconciliation
    seconds: dict[str, float] = field(default_factory=dict)


def reconcile_hour(athena: Any, dynamodb: Any, s3: Any, names: StackNames, hour_start: datetime,
                   window_s: int) -> HourReconciliation:
    if window_s <= 0 or 3600 % window_s:
        raise ReconciliationError(f"tumbling windows of {window_s}s do not tile an hour: an hour cannot be "
                                  "reconciled on its own")
    dt, hour = dt_hour(hour_start)
    timings: dict[str, float] = {}
    started = time.monotonic()

    def timed(name: str, fn: Any, *args: Any) -> Any:
        value = fn(*args)
        timings[name] = time.monotonic() - started
        return value

    # DynamoDB is read, for the unicorns the (quick) names query finds around the hour, while the aggregates
    # query runs and its rows are converted.
    def archive_side() -> dict[Key, Aggregate]:
        rows = timed("athena_aggregates_s", athena.query_rows,
                     sources.archive_sql(names.glue_database, names.raw_table, dt, hour, window_s), s3)
        return timed("archive_rows_s", sources.archive_aggregates, rows)

    with ThreadPoolExecutor(max_workers=1) as pool:
        aggregates = pool.submit(archive_side)
        around = timed("athena_names_s", athena.query_rows,
                       sources.names_sql(names.glue_database, names.raw_table, sources.neighbour_days(hour_start)),
                       s3)
        unicorns = {str(row["name"]) for row in around}
        items = timed("dynamodb_s", sources.dynamodb_items, dynamodb, names.sensor_table, unicorns, hour_start)
        archive = aggregates.result()
    late = {name for name, _ in archive} - unicorns
    if late:  # in the hour but not in the names query's answer (a race with a late delivery): read them too
        items.update(sources.dynamodb_items(dynamodb, names.sensor_table, late, hour_start))
    compared = time.monotonic()
    result = reconcile(archive, items)
    timings["compare_s"] = time.monotonic() - compared
    timings["total_s"] = time.monotonic() - started
    return HourReconciliation(hour_start, window_s, result, timings)
