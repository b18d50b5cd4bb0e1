"""Definitions of the Wild Rydes code location, one package per domain (loaded by ``orchestration.definitions``).

- ``platform``  resources (AWS clients from the environment, the deployed stack's names)
- ``archive``   the Glue raw table's hourly partitions (``raw_unicorn_status``)
- ``streams``   external assets: the Kinesis streams, the DynamoDB aggregates, the S3 archive
- ``dbt``       the dbt-athena models as partitioned assets
- ``quality``   reconciliation of the archive with DynamoDB, sensors, alerts
"""
