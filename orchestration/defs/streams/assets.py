"""The streaming half as external assets, observed (not materialized) by Dagster:

    kinesis/wildrydes ──▶ kinesis/wildrydes_summary ──▶ dynamodb/unicorn_sensor_data   (aggregator, writer)
            └──────────▶ s3/archive_raw ──▶ raw_unicorn_status                         (Firehose, Glue)
"""


import dagster as dg
from dagster import AssetExecutionContext

from orchestration.defs.automation.settings import schedule_status
from orchestration.defs.platform import keys
from orchestration.defs.platform.resources import DynamoDBResource, KinesisResource, S3ClientResource, StackResource
from orchestration.defs.streams import observe


def _spec(key: dg.AssetKey, kinds: set[str], description: str, *deps: dg.AssetKey) -> dg.AssetSpec:
    return dg.AssetSpec(key, deps=list(deps), group_name="streaming", kinds=kinds, description=description)


def _specs() -> list[dg.AssetSpec]:
    return [
        _spec(keys.SOURCE_STREAM, {"kinesis"},
              "Raw sensor records, one per unicorn per second (partition key = unicorn name)."),
        _spec(keys.SUMMARY_STREAM, {"kinesis", "lambda"},
              "Per-unicorn, per-window summaries emitted by the aggregator Lambda (tumbling windows by arrival "
              "time).", keys.SOURCE_STREAM),
        _spec(keys.AGGREGATES, {"dynamodb", "lambda"},
              "DynamoDB UnicornSensorData: one item per unicorn per window, written by the summary writer Lambda. "
              "Observed: item count and newest window.", keys.SUMMARY_STREAM),
        _spec(keys.ARCHIVE, {"firehose", "s3", "parquet"},
              "Every raw record archived by Firehose as Parquet under raw/dt=…/hour=…/ (errors under errors/). "
              "Observed: newest partition prefix.", keys.SOURCE_STREAM),
    ]


@dg.multi_observable_source_asset(specs=_specs(), name="observe_streaming", can_subset=True)
def observe_streaming(
    context: AssetExecutionContext,
    stack: StackResource,
    kinesis: KinesisResource,
    dynamodb: DynamoDBResource,
    s3: S3ClientResource,
):  # noqa: ANN201 - a generator of ObserveResult
    names = stack.names()
    selected = context.selected_asset_keys
    if keys.SOURCE_STREAM in selected:
        yield dg.ObserveResult(asset_key=keys.SOURCE_STREAM,
                               metadata=observe.stream_summary(kinesis.get_client(), names.source_stream))
    if keys.SUMMARY_STREAM in selected:
        yield dg.ObserveResult(asset_key=keys.SUMMARY_STREAM,
                               metadata=observe.stream_summary(kinesis.get_client(), names.summary_stream))
    if keys.AGGREGATES in selected:
        summary = observe.table_summary(dynamodb.get_client(), names.sensor_table)
        yield dg.ObserveResult(asset_key=keys.AGGREGATES, metadata=summary,
                               data_version=dg.DataVersion(f"{summary['item_count']}@{summary['newest_window']}"))
    if keys.ARCHIVE in selected:
        summary = observe.archive_summary(s3.get_client(), names.archive_bucket)
        yield dg.ObserveResult(asset_key=keys.ARCHIVE, metadata=summary,
                               data_version=dg.DataVersion(str(summary["newest_partition"])))


observation_schedule = dg.ScheduleDefinition(
    name="observe_streaming_every_15_minutes",
    target=dg.AssetSelection.assets(observe_streaming),
    cron_schedule="*/15 * * * *",
    default_status=schedule_status(),
)
