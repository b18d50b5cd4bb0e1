"""The dbt models as three asset definitions, by refresh cadence (the models' dbt tags):

- ``tag:hourly`` (stg_unicorn_status, fct_unicorn_minute): hourly partitions, like the raw table;
- ``tag:daily`` (fct_unicorn_daily, fct_low_vitals_episodes): daily partitions (today's included);
- ``tag:current`` (dim_unicorn, fct_unicorn_trips): whole-table rebuilds from the minute facts.

A partitioned run passes its time window to dbt as ``--vars {window_start, window_end}``; incremental
models rewrite only that window's partitions. A backfill runs as few dbt invocations as Athena allows:
one per run of at most 96 hours (four days of ``dt``/``hour`` partitions) or 100 days, because one
Athena query writes at most 100 partitions — a day's backfill is one invocation.
"""

import json
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.archive.partitions import daily_partitions, hourly_partitions
from orchestration.defs.dbt.project import ensure_manifest, environment, project
from orchestration.defs.dbt.translator import WildrydesTranslator
from orchestration.defs.platform.resources import StackResource

MANIFEST = ensure_manifest()
ATHENA_MAX_PARTITIONS_PER_QUERY = 100
HOURLY_BACKFILL = dg.BackfillPolicy.multi_run(max_partitions_per_run=96)  # whole days, <= 100 partitions
DAILY_BACKFILL = dg.BackfillPolicy.multi_run(max_partitions_per_run=ATHENA_MAX_PARTITIONS_PER_QUERY)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def window_vars(context: AssetExecutionContext) -> dict[str, Any]:
    if not context.has_partition_key and not context.has_partition_key_range:
        return {}
    window = context.partition_time_window
    return {"window_start": window.start.astimezone(UTC).strftime(TIME_FORMAT),
            "window_end": window.end.astimezone(UTC).strftime(TIME_FORMAT)}


def run_dbt(context: AssetExecutionContext, dbt: DbtCliResource, stack: StackResource) -> Iterator[Any]:
    variables = window_vars(context)
    args = ["build", *(["--vars", json.dumps(variables)] if variables else [])]
    context.log.info(f"dbt {' '.join(args)}")
    with environment(stack.names().dbt_env()):
        yield from dbt.cli(args, context=context).stream()


@dbt_assets(manifest=MANIFEST, select="tag:hourly", name="dbt_hourly_models", partitions_def=hourly_partitions,
            backfill_policy=HOURLY_BACKFILL, dagster_dbt_translator=WildrydesTranslator(), project=project)
def dbt_hourly_models(context: AssetExecutionContext, dbt: DbtCliResource, stack: StackResource):  # noqa: ANN201
    yield from run_dbt(context, dbt, stack)


@dbt_assets(manifest=MANIFEST, select="tag:daily", name="dbt_daily_models", partitions_def=daily_partitions,
            backfill_policy=DAILY_BACKFILL, dagster_dbt_translator=WildrydesTranslator(), project=project)
def dbt_daily_models(context: AssetExecutionContext, dbt: DbtCliResource, stack: StackResource):  # noqa: ANN201
    yield from run_dbt(context, dbt, stack)


@dbt_assets(manifest=MANIFEST, select="tag:current", name="dbt_current_models",
            dagster_dbt_translator=WildrydesTranslator(), project=project)
def dbt_current_models(context: AssetExecutionContext, dbt: DbtCliResource, stack: StackResource):  # noqa: ANN201
    yield from run_dbt(context, dbt, stack)
