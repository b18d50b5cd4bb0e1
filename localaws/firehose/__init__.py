"""Local Firehose: executes the delivery streams deployed on the local endpoint (Kinesis source → processing
Lambda → dynamic partitions → Parquet → S3, with error output and durable checkpoints)."""
