"""``raw_unicorn_status``: one hourly partition = the Glue partition (dt, hour) over the archive's objects
for that hour, registered once the hour is complete in the archive."""


from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.defs.archive import catalog, completeness, inventory
from orchestration.defs.archive.partitions import dt_hour, hourly_partitions
from orchestration.defs.platform import keys
from orchestration.defs.platform.resources import FirehoseResource, GlueResource, S3ClientResource, StackResource


@dg.asset(
    key=keys.RAW,
    deps=[keys.ARCHIVE],
    partitions_def=hourly_partitions,
    group_name="archive",
    kinds={"glue", "s3", "parquet"},
    description="The Glue table over the archive (raw sensor records as Firehose wrote them, Parquet): one "
    "partition per arrival hour, registered once the hour is complete in the archive (the hour has "
    "ended and Firehose's buffer interval has passed). Metadata: the hour's objects, bytes, rows "
    "(from the Parquet footers) and the records Firehose sent to errors/.",
    metadata={"partition_columns": "dt, hour", "table": "unicorn_status"},
    # A new hour is registered a few minutes after it ends.
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=3), warn_window=timedelta(hours=2)),
)
def raw_unicorn_status(
    context: AssetExecutionContext,
    stack: StackResource,
    glue: GlueResource,
    s3: S3ClientResource,
    firehose: FirehoseResource,
) -> dg.MaterializeResult:
    names = stack.names()
    hour_start = context.partition_time_window.start.astimezone(UTC)
    timing = completeness.delivery_timing(firehose.get_client(), names.delivery_stream)
    complete_at = completeness.archive_complete_at(hour_start, timing)
    now = datetime.now(UTC)
    if now < complete_at:
        raise dg.Failure(
            description=f"the archive of {hour_start:%Y-%m-%d %H}:00 is not complete before {complete_at:%H:%M:%S} "
            f"UTC (hour end + Firehose buffer {timing.buffer_interval_s}s + processor buffer "
            f"{timing.processor_interval_s}s + grace); try again then",
            allow_retries=False,
        )
    dt, hour = dt_hour(hour_start)
    action = catalog.register_partition(glue.get_client(), names.glue_database, names.raw_table, [dt, hour])
    found = inventory.hour_inventory(s3.get_client(), names.archive_bucket, dt, hour)
    context.log.info(f"partition dt={dt}/hour={hour} {action}: {found.object_count} objects, {found.rows} rows, "
                     f"{found.error_total} error records")
    return dg.MaterializeResult(
        metadata={
            "partition": f"dt={dt}/hour={hour}",
            "glue_action": action,
            "location": dg.MetadataValue.path(f"{names.raw_location}dt={dt}/hour={hour}/"),
            "objects": found.object_count,
            "bytes": found.bytes,
            "rows": dg.MetadataValue.int(found.rows),
            "dagster/row_count": dg.MetadataValue.int(found.rows),
            "error_records": found.error_total,
            "error_records_by_type": dg.MetadataValue.json(found.error_records),
            "complete_at": complete_at.isoformat(),
        }
    )
