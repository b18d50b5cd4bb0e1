"""Time partitions of the platform: hourly (the archive's ``dt``/``hour``) and daily (the marts' ``dt``).

They start at ``WILDRYDES_START_DATE`` (``YYYY-MM-DD`` or ``YYYY-MM-DD HH:MM``, UTC); without it, three
days before today (UTC) — set it once per platform so that the partition set does not move."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import dagster as dg

START_DATE_ENV = "WILDRYDES_START_DATE"
DEFAULT_DAYS_BACK = 3
HOUR_FORMAT = "%Y-%m-%d-%H:%M"


def start_date(now: datetime | None = None) -> datetime:
    text = os.environ.get(START_DATE_ENV, "").strip()
    if text:
        for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=UTC, minute=0)
            except ValueError:
                continue
        raise ValueError(f"{START_DATE_ENV}={text!r} is not YYYY-MM-DD or YYYY-MM-DD HH:MM")
    today = (now or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=DEFAULT_DAYS_BACK)


START = start_date()

hourly_partitions = dg.HourlyPartitionsDefinition(start_date=START.strftime(HOUR_FORMAT), timezone="UTC")
# The current day is a partition too: the hourly refresh keeps today's marts up to date.
daily_partitions = dg.DailyPartitionsDefinition(start_date=START.strftime("%Y-%m-%d"), timezone="UTC",
                                                end_offset=1)


def hour_of(partition_key: str) -> datetime:
    return datetime.strptime(partition_key, HOUR_FORMAT).replace(tzinfo=UTC)


def hour_key(hour: datetime) -> str:
    return hour.astimezone(UTC).strftime(HOUR_FORMAT)


def dt_hour(hour: datetime) -> tuple[str, str]:
    """The Hive partition values of an hour: ``("2026-11-25", "18")``."""
    hour = hour.astimezone(UTC)
    return hour.strftime("%Y-%m-%d"), hour.strftime("%H")
