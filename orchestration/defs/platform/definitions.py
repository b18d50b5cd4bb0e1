"""The resources every domain uses, bound once for the whole code location."""


import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.project import dbt_executable, project
from orchestration.defs.platform.resources import (
    AthenaResource,
    DynamoDBResource,
    FirehoseResource,
    GlueResource,
    KinesisResource,
    LambdaResource,
    S3ClientResource,
    StackResource,
)


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "stack": StackResource(),
            "s3": S3ClientResource(),
            "glue": GlueResource(),
            "dynamodb": DynamoDBResource(),
            "kinesis": KinesisResource(),
            "firehose": FirehoseResource(),
            "lambda_": LambdaResource(),
            "athena": AthenaResource(),
            "dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable()),
        }
    )
