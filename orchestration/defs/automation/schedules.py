"""Schedules: the hourly registration (in case the sensor is off or behind) and the nightly close of
yesterday's daily marts (once the hour after midnight is in, episodes crossing midnight are whole)."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster import ScheduleEvaluationContext

from orchestration.defs.archive.partitions import hour_key
from orchestration.defs.automation.hours import floor_hour
from orchestration.defs.automation.jobs import dbt_daily_job, register_and_reconcile_job
from orchestration.defs.automation.settings import schedule_status
from orchestration.defs.platform import keys


@dg.schedule(job=register_and_reconcile_job, cron_schedule="10 * * * *", execution_timezone="UTC",
             default_status=schedule_status(),
             description="At :10 every hour, register and reconcile the previous hour unless already done.")
def hourly_registration(context: ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    moment = context.scheduled_execution_time or datetime.now(UTC)
    key = hour_key(floor_hour(moment) - timedelta(hours=1))
    if key in context.instance.get_materialized_partitions(keys.RAW):
        return dg.SkipReason(f"{key} is already registered")
    return dg.RunRequest(run_key=f"hour-{key}", partition_key=key)


@dg.schedule(job=dbt_daily_job, cron_schedule="30 1 * * *", execution_timezone="UTC",
             default_status=schedule_status(),
             description="At 01:30 UTC, rebuild yesterday's daily marts with the whole day (and its edges) in.")
def nightly_daily_marts(context: ScheduleEvaluationContext) -> dg.RunRequest:
    moment = context.scheduled_execution_time or datetime.now(UTC)
    day = f"{moment.astimezone(UTC) - timedelta(days=1):%Y-%m-%d}"
    return dg.RunRequest(run_key=f"daily-{day}", partition_key=day)
