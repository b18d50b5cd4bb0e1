"""The archive: Firehose's Parquet objects in S3 and their Glue partitions (``raw_unicorn_status``)."""
