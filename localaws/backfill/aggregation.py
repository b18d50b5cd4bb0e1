"""The per-minute aggregates of the history: the aggregator handler over tumbling-window events, its
summaries captured and handed to the summary writer handler, as the Lambda runtime would."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from localaws.backfill.deployment import Deployment, HistoryError
from localaws.backfill.records import StreamRecord
from localaws.lambda_runtime.events import kinesis_event, window_event
from streaming.lambdas import aggregator, summary_writer


class CapturedStream:
    """Stands in for the Kinesis client the aggregator puts its summaries with (and its relay to the live map,
    which history does not feed: those are dropped)."""

    def __init__(self) -> None:
        self.records: dict[str, list[tuple[bytes, str]]] = {}

    def put_records(self, Records: list[dict[str, Any]], **target: Any) -> dict[str, Any]:  # noqa: N803 - boto3
        stream = str(target.get("StreamName") or target.get("StreamARN", "")).rsplit("/", 1)[-1]
        kept = self.records.setdefault(stream, [])
        first = len(kept)
        kept.extend((r["Data"], r["PartitionKey"]) for r in Records)
        return {"FailedRecordCount": 0, "Records": [{"SequenceNumber": f"{first + i:020d}", "ShardId": "captured"}
                                                     for i in range(len(Records))]}

    def of(self, stream: str) -> list[bytes]:
        return [data for data, _ in self.records.get(stream.rsplit("/", 1)[-1], [])]


@contextmanager
def function_environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def aggregate_window(dep: Deployment, shard: str, window_start: float, records: list[StreamRecord]) -> list[bytes]:
    """The summaries the aggregator emits for one window (batches, then the final invocation)."""
    mapping = dep.aggregator
    fn = mapping.function
    captured = CapturedStream()
    state: dict[str, Any] = {}
    with function_environment(fn.environment):
        for offset in range(0, len(records), mapping.batch_size):
            batch = [r.as_kinesis() for r in records[offset:offset + mapping.batch_size]]
            event = window_event(batch, shard, mapping.stream_arn, mapping.region, fn.role, window_start,
                                 mapping.tumbling_window_s, state, final=False)
            state = aggregator.process(event, kinesis=captured)["state"]
        final = window_event([], shard, mapping.stream_arn, mapping.region, fn.role, window_start,
                             mapping.tumbling_window_s, state, final=True)
        aggregator.process(final, kinesis=captured)
    return captured.of(fn.environment.get(aggregator.SUMMARY_STREAM_ENV, ""))


def write_summaries(dep: Deployment, summaries: list[bytes], arrival_ms: int, dynamodb: Any) -> int:
    """Hand the summaries to the writer handler in events of its batch size; returns items written."""
    mapping = dep.writer
    records = [{"Data": data, "PartitionKey": json.loads(data)["Name"],
                "SequenceNumber": f"{arrival_ms:013d}{i:07d}", "ApproximateArrivalTimestamp": arrival_ms / 1000}
               for i, data in enumerate(summaries)]
    with function_environment(mapping.function.environment):
        for offset in range(0, len(records), mapping.batch_size):
            event = kinesis_event(records[offset:offset + mapping.batch_size], "history", mapping.stream_arn,
                                  mapping.region, mapping.function.role)
            failures = summary_writer.process(event, dynamodb=dynamodb)["batchItemFailures"]
            if failures:
                raise HistoryError(f"the summary writer could not write {len(failures)} summaries")
    return len(records)
