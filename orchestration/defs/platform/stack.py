"""The names of the deployed stack (buckets, tables, streams), looked up the same way everywhere.

For each CloudFormation output the first of these that has it wins:

1. the environment variable ``WILDRYDES_<OUTPUT>`` (e.g. ``WILDRYDES_ARCHIVE_BUCKET_NAME``): what
   `wildrydes local up` hands to Dagster after its deploy, and what a container on AWS may be given;
2. the outputs of the CloudFormation stack ``WILDRYDES_STACK_NAME`` (default ``wildrydes``), as
   ``wildrydes deploy --aws`` created it.

Where AWS is (endpoint, region, credentials) is never decided here: boto3 reads it from the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_STACK_NAME = "wildrydes"

OUTPUTS = (
    "ArchiveBucketName",
    "AthenaResultsBucketName",
    "AthenaOutputLocation",
    "AthenaWorkGroupName",
    "GlueDatabaseName",
    "RawTableName",
    "SensorTableName",
    "SourceStreamName",
    "SummaryStreamName",
    "ArchiveDeliveryStreamName",
    "AggregatorFunctionName",
    "Region",
)


class StackLookupError(RuntimeError):
    """An output of the stack that none of the sources has."""


def env_name(output: str) -> str:
    """``ArchiveBucketName`` -> ``WILDRYDES_ARCHIVE_BUCKET_NAME``."""
    return "WILDRYDES_" + re.sub(r"(?<!^)(?=[A-Z])", "_", output).upper()


def cloudformation_outputs(stack_name: str) -> dict[str, Any]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError):
        return {}
    return {o["OutputKey"]: o["OutputValue"] for s in stacks for o in s.get("Outputs", [])}


@dataclass(frozen=True)
class StackNames:
    """The stack outputs the orchestration needs."""

    archive_bucket: str
    athena_results_bucket: str
    athena_output_location: str
    athena_workgroup: str
    glue_database: str
    raw_table: str
    sensor_table: str
    source_stream: str
    summary_stream: str
    delivery_stream: str
    aggregator_function: str

    @property
    def raw_location(self) -> str:
        return f"s3://{self.archive_bucket}/raw/"

    def dbt_env(self) -> dict[str, str]:
        """The variables dbt_project/profiles.yml reads, so dbt uses the same names as the assets."""
        return {
            "WILDRYDES_GLUE_DATABASE_NAME": self.glue_database,
            "WILDRYDES_RAW_TABLE_NAME": self.raw_table,
            "WILDRYDES_ATHENA_WORK_GROUP_NAME": self.athena_workgroup,
            "WILDRYDES_ATHENA_OUTPUT_LOCATION": self.athena_output_location,
            "WILDRYDES_DBT_S3_DATA_DIR": f"s3://{self.archive_bucket}/curated/",
        }


def resolve(
    environ: Mapping[str, str] | None = None,
    fallback: Callable[[str], dict[str, Any]] = cloudformation_outputs,
) -> dict[str, str]:
    """Every output of ``OUTPUTS`` that some source has, by output name."""
    environ = os.environ if environ is None else environ
    found: dict[str, str] = {}
    stack_outputs: dict[str, Any] | None = None
    for output in OUTPUTS:
        value = environ.get(env_name(output))
        if not value:
            if stack_outputs is None:
                stack_outputs = fallback(environ.get("WILDRYDES_STACK_NAME") or DEFAULT_STACK_NAME)
            value = stack_outputs.get(output)
        if value:
            found[output] = str(value)
    return found


def load_names(environ: Mapping[str, str] | None = None,
               fallback: Callable[[str], dict[str, Any]] = cloudformation_outputs) -> StackNames:
    found = resolve(environ, fallback)
    missing = [o for o in OUTPUTS if o not in found and o != "Region"]
    if missing:
        raise StackLookupError(
            f"stack outputs not found: {', '.join(missing)}; set {', '.join(env_name(m) for m in missing)} "
            "(`wildrydes local up` sets them for the processes it starts), or deploy the CloudFormation stack "
            f"{(environ or os.environ).get('WILDRYDES_STACK_NAME') or DEFAULT_STACK_NAME}"
        )
    return StackNames(
        archive_bucket=found["ArchiveBucketName"],
        athena_results_bucket=found["AthenaResultsBucketName"],
        athena_output_location=found["AthenaOutputLocation"],
        athena_workgroup=found["AthenaWorkGroupName"],
        glue_database=found["GlueDatabaseName"],
        raw_table=found["RawTableName"],
        sensor_table=found["SensorTableName"],
        source_stream=found["SourceStreamName"],
        summary_stream=found["SummaryStreamName"],
        delivery_stream=found["ArchiveDeliveryStreamName"],
        aggregator_function=found["AggregatorFunctionName"],
    )
