"""The local AWS runtime: one endpoint on loopback that serves the AWS APIs the platform uses, and the
processes that execute what is deployed on it (Lambda event source mappings, Firehose delivery streams,
Athena queries). Application code never imports it; it talks to it only through ``AWS_ENDPOINT_URL``.

- ``gateway/``         the endpoint: routes each request to its backend, injects faults
- ``wire/``            AWS wire knowledge shared by the gateway and the backends: services, operations, errors
- ``moto/``            moto's server app, made durable (journal + snapshots)
- ``node/``            kinesalite (Kinesis) and dynalite (DynamoDB), with their patches
- ``athena/``          the Athena engine (DuckDB over the Glue catalog and S3)
- ``kinesis_consumer/`` what both Kinesis consumers share: shard order, reading, checkpoints, process skeleton
- ``lambda_runtime/``  executes the deployed event source mappings
- ``firehose/``        executes the deployed delivery streams
- ``supervisor/``      starts, watches and stops every process of `wildrydes local up`
"""
