"""``archive_matches_dynamodb``: a partitioned, blocking asset check on ``raw_unicorn_status``.

For the hour of its partition, every unicorn and window: the archive's aggregates (through Athena) against
the DynamoDB item. Missing items, extra items and differing values fail it with severity ERROR, so the
hour's downstream dbt models do not run on an archive that disagrees with the stream's aggregates."""

from datetime import UTC

import dagster as dg
from dagster import AssetCheckExecutionContext

from orchestration.defs.archive import completeness
from orchestration.defs.archive.partitions import hourly_partitions
from orchestration.defs.platform import keys
from orchestration.defs.platform.resources import (
    AthenaResource,
    DynamoDBResource,
    LambdaResource,
    S3ClientResource,
    StackResource,
)
from orchestration.defs.quality.compare import FIELDS
from orchestration.defs.quality.dynamodb_client import reconciliation_client
from orchestration.defs.quality.reconcile import HourReconciliation, reconcile_hour
from orchestration.defs.quality.sources import QUERY_WORKERS

FIRST_MISMATCHES = 20
CHECK_NAME = "archive_matches_dynamodb"


def check_metadata(outcome: HourReconciliation) -> dict[str, dg.MetadataValue]:
    result = outcome.result
    rows = [m.row() for m in result.mismatches[:FIRST_MISMATCHES]]
    columns = ["kind", "unicorn", "window", "fields", "archive", "dynamodb"]
    return {
        "hour": dg.MetadataValue.text(f"{outcome.hour_start:%Y-%m-%d %H}:00 UTC"),
        "window_seconds": dg.MetadataValue.int(outcome.window_s),
        "archive_windows": dg.MetadataValue.int(result.archive_windows),
        "dynamodb_items": dg.MetadataValue.int(result.dynamodb_items),
        "matched": dg.MetadataValue.int(result.matched),
        "missing_in_dynamodb": dg.MetadataValue.int(result.count("missing")),
        "extra_in_dynamodb": dg.MetadataValue.int(result.count("extra")),
        "differing": dg.MetadataValue.int(result.count("differs")),
        "compared_fields": dg.MetadataValue.text(", ".join(FIELDS) + " (Distance to floating-point tolerance)"),
        "first_mismatches": dg.MetadataValue.table(
            records=[dg.TableRecord(row) for row in rows],
            schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns]),
        ),
        "seconds": dg.MetadataValue.json({k: round(v, 3) for k, v in outcome.seconds.items()}),
    }


@dg.asset_check(
    asset=keys.RAW,
    name=CHECK_NAME,
    blocking=True,
    partitions_def=hourly_partitions,
    description="Every unicorn and window of the hour: the archive's aggregates (Athena over the raw table) "
    "equal DynamoDB's item — no missing items, no extra items, no differing values (Distance to "
    "floating-point tolerance, the rest and RecordCount exactly).",
)
def archive_matches_dynamodb(
    context: AssetCheckExecutionContext,
    stack: StackResource,
    athena: AthenaResource,
    dynamodb: DynamoDBResource,
    s3: S3ClientResource,
    lambda_: LambdaResource,
) -> dg.AssetCheckResult:
    names = stack.names()
    hour_start = hourly_partitions.time_window_for_partition_key(context.partition_key).start.astimezone(UTC)
    window_s = completeness.aggregation_timing(lambda_.get_client(), names.aggregator_function).window_s
    outcome = reconcile_hour(athena, reconciliation_client(dynamodb, QUERY_WORKERS), s3.get_client(), names,
                             hour_start, window_s)
    result = outcome.result
    context.log.info(
        f"{hour_start:%Y-%m-%d %H}:00: {result.matched} matched, {result.count('missing')} missing in DynamoDB, "
        f"{result.count('extra')} extra in DynamoDB, {result.count('differs')} differing "
        f"({outcome.seconds['total_s']:.1f}s)"
    )
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=check_metadata(outcome),
        description=None if result.passed else
        f"{len(result.mismatches)} mismatches between the archive and DynamoDB for this hour",
    )
