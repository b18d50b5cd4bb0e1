"""What the two Kinesis consumers of the local runtime share (the Lambda runtime's event source mappings and
the Firehose's delivery streams): reading a shard, the order of shards after a reshard, the SQLite checkpoint
file, the boto3 clients, the status file and the process skeleton. It imports neither consumer."""
