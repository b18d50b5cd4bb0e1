"""What a delivery stream runs with, resolved from the control planes: its configuration, the processing
function's configuration (Lambda) and the Glue table's columns. Any change (UpdateDestination, a new
function version or handler, a table schema change) makes a different Deployment, and the stream is
restarted from its checkpoints with it, as Firehose picks up such changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localaws.firehose.config import StreamConfig
from localaws.firehose.schema import Column, table_columns
from localaws.kinesis_consumer.access import check_stream_access
from localaws.lambda_runtime.invoker import FunctionConfig, function_config


@dataclass(frozen=True)
class Deployment:
    config: StreamConfig
    function: FunctionConfig | None
    columns: tuple[Column, ...] | None


def glue_columns(glue: Any, config: StreamConfig) -> tuple[Column, ...] | None:
    conversion = config.conversion
    if conversion is None:
        return None
    kwargs: dict[str, Any] = {"DatabaseName": conversion.database, "Name": conversion.table}
    if conversion.catalog_id:
        kwargs["CatalogId"] = conversion.catalog_id
    table = glue.get_table(**kwargs)["Table"]
    # The schema is the table version the configuration names (AWS documents GetTable, GetTableVersion and
    # GetTableVersions as the calls Firehose's role needs for record format conversion): GetTableVersions
    # finds the latest version, GetTableVersion reads a pinned one.
    versions = {key: value for key, value in kwargs.items() if key != "Name"} | {"TableName": conversion.table}
    if conversion.version_id in ("LATEST", ""):
        listed = [version for page in glue.get_paginator("get_table_versions").paginate(**versions)
                  for version in page["TableVersions"]]
        if listed:
            table = max(listed, key=lambda version: _version_number(version["VersionId"]))["Table"]
    else:
        table = glue.get_table_version(**versions, VersionId=conversion.version_id)["TableVersion"]["Table"]
    return tuple(table_columns(table))


def _version_number(version_id: str) -> int:
    return int(version_id) if version_id.isdigit() else -1


def resolve(config: StreamConfig, lambda_client: Any, glue: Any, kinesis: Any = None, s3: Any = None) -> Deployment:
    """With the stream's role clients, as Firehose works: raises ClientError (missing function or table, or a
    permission the role lacks), StreamAccessDenied or SchemaError (unmappable column type)."""
    if kinesis is not None:
        check_stream_access(kinesis, config.source_stream_name, "delivery stream role")
    if s3 is not None:  # the destination, as Firehose checks it: where it is, and that the role may list it
        s3.get_bucket_location(Bucket=config.bucket)
        s3.head_bucket(Bucket=config.bucket)
    function = function_config(lambda_client, config.processor.function_name) if config.processor else None
    if function is not None:  # may the role invoke it (Lambda's DryRun checks just that)
        lambda_client.invoke(FunctionName=function.arn, InvocationType="DryRun")
    return Deployment(config, function, glue_columns(glue, config))
