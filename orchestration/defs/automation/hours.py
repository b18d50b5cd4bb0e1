"""Which hours a tick of the complete-hours sensor requests (pure: no I/O, no clock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def latest_complete_hour(now: datetime, delay_s: float) -> datetime:
    """The last hour H with ``now >= H + 1h + delay``."""
    return floor_hour(now - timedelta(seconds=delay_s)) - HOUR


@dataclass(frozen=True)
class Plan:
    hours: list[datetime]
    cursor: datetime | None  # the last hour considered (requested or already done)
    waiting_for: datetime | None = None  # the next hour, not complete yet


def plan_hours(*, cursor: datetime | None, first_data_hour: datetime | None, partitions_start: datetime,
               latest_complete: datetime, done: set[datetime], limit: int) -> Plan:
    """Hours after the cursor (or from the first hour with data) up to the latest complete one, at most
    ``limit`` of them, skipping those already done; the cursor moves past everything considered."""
    if cursor is not None:
        hour = cursor + HOUR
    elif first_data_hour is not None:
        hour = max(floor_hour(first_data_hour), floor_hour(partitions_start))
    else:
        return Plan([], None)
    hours: list[datetime] = []
    last = cursor
    while hour <= latest_complete and len(hours) < limit:
        if hour not in done:
            hours.append(hour)
        last = hour
        hour += HOUR
    return Plan(hours, last, waiting_for=hour if hour > latest_complete else None)
