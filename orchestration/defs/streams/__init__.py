"""External assets of the hot path: the Kinesis streams, the DynamoDB aggregates, the S3 archive."""
