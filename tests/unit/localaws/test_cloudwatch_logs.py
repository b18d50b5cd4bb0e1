"""The CloudWatch Logs shipper against a real moto server: lines arrive in order in a stream it creates; a
missing group or a refused call is reported, never raised, and the lines are counted as dropped."""

from __future__ import annotations

import time
from typing import Any

import boto3

from localaws.cloudwatch_logs import LogShipper, lambda_stream_name


def logs_client(endpoint: str) -> Any:
    return boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test")


def wait_until(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met")


def test_lines_reach_a_stream_the_shipper_creates(moto_endpoint: str) -> None:
    client = logs_client(moto_endpoint)
    client.create_log_group(logGroupName="/aws/lambda/f")
    stream = lambda_stream_name()
    assert stream.count("/") == 3 and "[$LATEST]" in stream
    shipper = LogShipper(lambda: client, "/aws/lambda/f", stream, flush_every_s=0.05)
    now_ms = int(time.time() * 1000)
    for i in range(1500):  # more than one PutLogEvents batch
        shipper.add(f"line {i}\n", timestamp_ms=now_ms + i)
    shipper.add("\n")  # empty: nothing to send
    shipper.close()
    events = client.get_log_events(logGroupName="/aws/lambda/f", logStreamName=stream, startFromHead=True,
                                   limit=10_000)["events"]
    assert [e["message"] for e in events] == [f"line {i}" for i in range(1500)]
    assert shipper.shipped == 1500 and shipper.dropped == 0 and shipper.problem is None


def test_a_missing_group_is_reported_not_raised(moto_endpoint: str) -> None:
    shipper = LogShipper(lambda: logs_client(moto_endpoint), "/aws/lambda/absent", "s", flush_every_s=0.05)
    shipper.add("lost")
    wait_until(lambda: shipper.problem)
    shipper.close()
    assert "ResourceNotFoundException" in shipper.problem
    assert shipper.dropped == 1 and shipper.shipped == 0


def test_an_existing_stream_is_written_without_creating_it(moto_endpoint: str) -> None:
    client = logs_client(moto_endpoint)
    client.create_log_group(logGroupName="/aws/kinesisfirehose/x")
    client.create_log_stream(logGroupName="/aws/kinesisfirehose/x", logStreamName="DestinationDelivery")
    shipper = LogShipper(lambda: client, "/aws/kinesisfirehose/x", "DestinationDelivery", create_stream=False,
                         flush_every_s=0.05)
    shipper.add('{"errorCode": "Lambda.ProcessingFailed"}')
    shipper.close()
    events = client.get_log_events(logGroupName="/aws/kinesisfirehose/x", logStreamName="DestinationDelivery")
    assert [e["message"] for e in events["events"]] == ['{"errorCode": "Lambda.ProcessingFailed"}']
