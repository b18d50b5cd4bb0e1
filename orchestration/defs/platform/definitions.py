"""The AWS resources every domain uses and the runs' logger, bound once for the whole code location (dbt's
resource is bound by the dbt domain, ``defs/dbt/definitions.py``)."""


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

# Runs log their events at INFO, not DEBUG (every step's start, every input loaded): the run's page in the UI
# keeps every event whatever the level; a log file or CloudWatch stream gets what a person reads.
CONSOLE = dg.colored_console_logger.configured({"log_level": "INFO"})


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        loggers={"console": CONSOLE},
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
