"""The AWS resources every domain uses, bound once for the whole code location (dbt's is bound by the dbt
domain, ``defs/dbt/definitions.py``)."""


import dagster as dg

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
        }
    )
