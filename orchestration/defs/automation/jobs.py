"""The jobs the schedules and sensors run."""

import dagster as dg

from orchestration.defs.archive.partitions import daily_partitions, hourly_partitions
from orchestration.defs.platform import keys
from orchestration.defs.platform.run_tags import DBT_RUNS_TAG, DBT_RUNS_VALUE

REGISTER_AND_RECONCILE = "register_and_reconcile_hour"
DBT_HOURLY = "dbt_hourly"
DBT_DAILY = "dbt_daily"
DBT_TAGS = {DBT_RUNS_TAG: DBT_RUNS_VALUE}  # one dbt run at a time (run_tags.py)

# The hour's Glue partition and its blocking reconciliation check.
register_and_reconcile_job = dg.define_asset_job(
    REGISTER_AND_RECONCILE, selection=dg.AssetSelection.assets(keys.RAW), partitions_def=hourly_partitions,
    description="Register an hour's Glue partition and reconcile the hour's archive with DynamoDB.",
)
dbt_hourly_job = dg.define_asset_job(
    DBT_HOURLY, selection=dg.AssetSelection.tag("dbt_cadence", "hourly"), partitions_def=hourly_partitions,
    tags=DBT_TAGS, description="The hourly dbt models (staging, fct_unicorn_minute) for an hour.",
)
dbt_daily_job = dg.define_asset_job(
    DBT_DAILY, selection=dg.AssetSelection.tag("dbt_cadence", "daily")
    | dg.AssetSelection.tag("dbt_cadence", "current"), partitions_def=daily_partitions,
    tags=DBT_TAGS, description="The daily marts for a day, and the whole-table marts (dim_unicorn, fct_unicorn_trips).",
)
