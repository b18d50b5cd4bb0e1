"""A local stack with history loaded, shared by the history, orchestration and dbt tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from localaws.backfill.loader import Report, load_history
from orchestration.defs.dbt.project import environment
from tests.support.stack import LocalStack, started_stack

HOURS = 2
UNICORNS = 5
SEED = 7


def history_end(hours: int, now: datetime | None = None) -> datetime:
    """The loaded hours end an hour before the current one, so every one of them is complete, and lie in one
    UTC day (earlier if need be), so the daily models see all of them in one partition."""
    now = now or datetime.now(UTC)
    end = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    return end.replace(hour=0) if 0 < end.hour < hours else end


@dataclass
class HistoryStack:
    stack: LocalStack
    report: Report

    @property
    def env(self) -> dict[str, str]:
        return {**self.stack.env, "DAGSTER_IS_DEV_CLI": ""}

    def hour_keys(self) -> list[str]:
        return [f"{self.report.start + timedelta(hours=h):%Y-%m-%d-%H}:00" for h in range(HOURS)]


def started_history_stack(tmp: Path, extra: list[str] | None = None, hours: int = HOURS,
                          unicorns: int = UNICORNS) -> Iterator[HistoryStack]:
    for stack in started_stack(tmp, ["--no-producer", *(extra or [])]):
        end = history_end(hours)
        start = end - timedelta(hours=hours)
        with environment({**stack.env, "WILDRYDES_START_DATE": f"{start - timedelta(days=1):%Y-%m-%d}"}):
            report = load_history(hours, unicorns, SEED, end)
            yield HistoryStack(stack, report)


def code_location_resources() -> dict:
    """Every resource the code location binds (the platform's and dbt's), for materializing assets in a test."""
    from orchestration.defs.dbt.definitions import resources as dbt
    from orchestration.defs.platform.definitions import resources as platform

    return {**platform.load_fn().resources, **dbt.load_fn().resources}
