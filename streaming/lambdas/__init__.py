"""AWS Lambda handlers of the hot path: standard library + boto3 only, deployed unchanged.

Handlers (module.function, as named in the function configuration):

- ``streaming.lambdas.aggregator.handler``        Kinesis tumbling-window aggregation -> wildrydes-summary
- ``streaming.lambdas.summary_writer.handler``    wildrydes-summary -> DynamoDB UnicornSensorData
- ``streaming.lambdas.archive_transform.handler`` Firehose processing Lambda (validate, enrich, partition)

Modules of this package import only the standard library, boto3/botocore and each other (relative
imports), so the package can be zipped as it is.
"""
