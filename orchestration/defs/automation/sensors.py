"""Sensors that keep the batch side moving.

- ``complete_hours_sensor`` (cursor = last hour considered; a few hours per tick): finds hours whose
  archive and aggregates are both complete and requests their registration and reconciliation.
- ``dbt_after_reconciliation``: when an hour's registration and (blocking) reconciliation succeeded,
  runs that hour's hourly dbt models.
- ``daily_marts_after_hourly_models``: when an hour's dbt models succeeded, refreshes its day's marts.
"""

from datetime import UTC, datetime

import dagster as dg
from dagster import RunStatusSensorContext, SensorEvaluationContext

from orchestration.defs.archive import completeness
from orchestration.defs.archive.inventory import list_common_prefixes
from orchestration.defs.archive.partitions import START, hour_key, hour_of
from orchestration.defs.automation.hours import floor_hour, latest_complete_hour, plan_hours
from orchestration.defs.automation.jobs import dbt_daily_job, dbt_hourly_job, register_and_reconcile_job
from orchestration.defs.automation.settings import sensor_status
from orchestration.defs.platform import keys
from orchestration.defs.platform.resources import FirehoseResource, LambdaResource, S3ClientResource, StackResource

HOURS_PER_TICK = 6
PARTITION_TAG = "dagster/partition"


def first_archive_hour(s3: object, bucket: str) -> datetime | None:
    days = sorted(list_common_prefixes(s3, bucket, "raw/"))
    if not days:
        return None
    hours = sorted(list_common_prefixes(s3, bucket, days[0]))
    if not hours:
        return None
    dt = days[0].removeprefix("raw/dt=").rstrip("/")
    hour = hours[0].removeprefix(days[0]).removeprefix("hour=").rstrip("/")
    return datetime.strptime(f"{dt} {hour}", "%Y-%m-%d %H").replace(tzinfo=UTC)


@dg.sensor(
    job=register_and_reconcile_job,
    minimum_interval_seconds=60,
    default_status=sensor_status(),
    description="Requests the Glue registration and the reconciliation of every hour whose archive (hour end + "
    "Firehose buffers) and DynamoDB aggregates (hour end + tumbling window + batching) are complete.",
)
def complete_hours_sensor(
    context: SensorEvaluationContext,
    stack: StackResource,
    firehose: FirehoseResource,
    lambda_: LambdaResource,
    s3: S3ClientResource,
) -> dg.SensorResult | dg.SkipReason:
    names = stack.names()
    delivery = completeness.delivery_timing(firehose.get_client(), names.delivery_stream)
    aggregation = completeness.aggregation_timing(lambda_.get_client(), names.aggregator_function)
    delay = max(delivery.delay_s, aggregation.delay_s) + completeness.grace_seconds()
    now = datetime.now(UTC)
    cursor = hour_of(context.cursor) if context.cursor else None
    first = None if cursor else first_archive_hour(s3.get_client(), names.archive_bucket)
    done = {hour_of(k) for k in context.instance.get_materialized_partitions(keys.RAW)} if cursor is None else set()
    plan = plan_hours(cursor=cursor, first_data_hour=first, partitions_start=START,
                      latest_complete=latest_complete_hour(now, delay), done=done, limit=HOURS_PER_TICK)
    if not plan.hours and plan.cursor == cursor:
        waiting = plan.waiting_for or (floor_hour(now) if cursor else None)
        return dg.SkipReason("no archive data yet" if cursor is None and first is None else
                             f"next hour {waiting:%Y-%m-%d %H}:00 is complete {delay}s after it ends" if waiting else
                             "nothing to do")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"hour-{hour_key(h)}", partition_key=hour_key(h)) for h in plan.hours],
        cursor=hour_key(plan.cursor) if plan.cursor else None,
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[register_and_reconcile_job],
    request_job=dbt_hourly_job,
    default_status=sensor_status(),
    description="Runs an hour's dbt models once its registration and reconciliation succeeded.",
)
def dbt_after_reconciliation(context: RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    partition = context.dagster_run.tags.get(PARTITION_TAG)
    if not partition:
        return dg.SkipReason("the run had no single partition")
    return dg.RunRequest(run_key=f"dbt-hourly-{partition}-{context.dagster_run.run_id}", partition_key=partition)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[dbt_hourly_job],
    request_job=dbt_daily_job,
    default_status=sensor_status(),
    description="Refreshes the day's marts (and the whole-table marts) after an hour's dbt models.",
)
def daily_marts_after_hourly_models(context: RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    partition = context.dagster_run.tags.get(PARTITION_TAG)
    if not partition:
        return dg.SkipReason("the run had no single partition")
    day = f"{hour_of(partition):%Y-%m-%d}"
    return dg.RunRequest(run_key=f"dbt-daily-{day}-{context.dagster_run.run_id}", partition_key=day)
