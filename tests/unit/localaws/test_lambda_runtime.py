"""Pure parts of the Lambda runtime: windows, event shapes, mapping configuration, record age."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localaws.lambda_runtime import events, shard_poller
from localaws.lambda_runtime.checkpoints import CheckpointStore
from localaws.lambda_runtime.invoker import FunctionConfig
from localaws.lambda_runtime.mapping import MappingConfig

FUNCTION = FunctionConfig("fn", "arn:aws:lambda:us-east-1:123456789012:function:fn", "m.h", 3, 128, {}, "role")


def _record(seq: int, arrival: float) -> dict[str, Any]:
    return {"SequenceNumber": str(seq), "Data": b"x", "PartitionKey": "k",
            "ApproximateArrivalTimestamp": datetime.fromtimestamp(arrival, UTC)}


def test_windows_are_aligned_to_the_epoch() -> None:
    assert events.window_start_of(119.999, 60) == 60
    assert events.window_start_of(120.0, 60) == 120
    assert events.iso(120) == "1970-01-01T00:02:00Z"


def test_window_event_has_every_field_aws_sends() -> None:
    event = events.window_event([_record(1, 61.5)], "shardId-000000000000",
                                "arn:aws:kinesis:us-east-1:123456789012:stream/s", "us-east-1", "role", 60, 60,
                                {"a": 1}, final=False)
    assert set(event) == {"Records", "window", "state", "shardId", "eventSourceARN", "isFinalInvokeForWindow",
                          "isWindowTerminatedEarly"}
    assert event["window"] == {"start": "1970-01-01T00:01:00Z", "end": "1970-01-01T00:02:00Z"}
    assert event["Records"][0]["kinesis"]["data"] == "eA=="
    assert event["Records"][0]["eventID"] == "shardId-000000000000:1"


def test_mapping_defaults_follow_aws() -> None:
    config = MappingConfig.from_api({"UUID": "u", "EventSourceArn": "arn:aws:kinesis:eu-west-1:1:stream/s",
                                     "FunctionArn": "f"}, FUNCTION)
    assert (config.batch_size, config.max_retry_attempts, config.max_record_age_s) == (100, -1, -1)
    assert config.stream_name == "s" and config.region == "eu-west-1"
    assert not config.report_item_failures and config.tumbling_window_s == 0


class _Queue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def get_queue_url(self, QueueName: str) -> dict[str, str]:  # noqa: N803 - boto3's argument names
        return {"QueueUrl": f"http://q/{QueueName}"}

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:  # noqa: N803
        self.sent.append(MessageBody)


def test_records_older_than_the_maximum_age_go_to_the_failure_destination(tmp_path: Path, monkeypatch) -> None:
    mapping = MappingConfig.from_api({
        "UUID": "u", "EventSourceArn": "arn:aws:kinesis:us-east-1:1:stream/s", "FunctionArn": "f",
        "MaximumRecordAgeInSeconds": 60,
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:dlq"}}}, FUNCTION)
    queue = _Queue()
    poller = shard_poller.ShardPoller(mapping, "shardId-000000000000", None, queue,
                                      CheckpointStore(tmp_path / "c.sqlite"), None, threading.Event())  # type: ignore[arg-type]
    monkeypatch.setattr(shard_poller.time, "time", lambda: 1000.0)
    kept = poller._drop_expired([_record(1, 900.0), _record(2, 939.0), _record(3, 941.0)])
    assert [r["SequenceNumber"] for r in kept] == ["3"]
    assert len(queue.sent) == 1 and '"RecordAgeExceeded"' in queue.sent[0] and '"batchSize": 2' in queue.sent[0]
    assert poller.checkpoint.sequence_number == "2"
