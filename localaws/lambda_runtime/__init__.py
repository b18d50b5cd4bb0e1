"""The local Lambda runtime: executes the Kinesis event source mappings deployed on the local endpoint,
driven by their configuration as AWS does, invoking each function's handler in a worker process."""
