"""`wildrydes backfill-history`: past hours of fleet data, pushed through the same code as live data.

The seeded fleet simulator (``records``) produces one record per unicorn per second for the requested
hours, with synthetic Kinesis arrival times and sequence numbers on a synthetic shard ``history-<seed>``.
Then, exactly as the deployed configuration says (``deployment``):

- the aggregator handler is invoked with tumbling-window events (the Lambda runtime's event builders;
  windows of the mapping's ``TumblingWindowInSeconds``, batches of its ``BatchSize``, state carried between
  invocations, a final invocation per window), with the function's environment; what it puts on the
  summary stream is captured and handed to the summary writer handler, which writes DynamoDB
  (``aggregation``);
- the archive transform handler is invoked with Firehose processing events, one buffer interval of records
  at a time, and the ``Ok`` records are converted to Parquet and named by the local Firehose's own
  converter and prefixes (``archive``).

Same arguments, same data: object keys and sequence numbers derive from the seed and the times, so running
it twice overwrites identical objects and items. It refuses to write into an hour of the archive that
already holds objects it did not write (live data), unless forced (``loader``).
"""
