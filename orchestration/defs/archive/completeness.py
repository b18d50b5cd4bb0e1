"""When an hour is complete: in the archive (Firehose has flushed it) and in DynamoDB (every window of
the hour has been aggregated and written). Timings are read from the deployed configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

GRACE_ENV = "WILDRYDES_COMPLETENESS_GRACE_SECONDS"
DEFAULT_GRACE_S = 60
DEFAULT_BUFFER_INTERVAL_S = 300  # Firehose's default BufferingHints.IntervalInSeconds
DEFAULT_PROCESSOR_INTERVAL_S = 60


def grace_seconds() -> int:
    return int(os.environ.get(GRACE_ENV, DEFAULT_GRACE_S))


@dataclass(frozen=True)
class DeliveryTiming:
    """How long Firehose may hold a record: its S3 buffer plus the processing Lambda's buffer."""

    buffer_interval_s: int
    processor_interval_s: int

    @property
    def delay_s(self) -> int:
        return self.buffer_interval_s + self.processor_interval_s


@dataclass(frozen=True)
class AggregationTiming:
    """How long after a window ends its item can still be on its way to DynamoDB."""

    window_s: int
    batching_window_s: int

    @property
    def delay_s(self) -> int:
        return self.window_s + self.batching_window_s


def delivery_timing(firehose: Any, stream_name: str) -> DeliveryTiming:
    description = firehose.describe_delivery_stream(DeliveryStreamName=stream_name)["DeliveryStreamDescription"]
    for destination in description.get("Destinations", []):
        s3 = destination.get("ExtendedS3DestinationDescription") or destination.get("S3DestinationDescription")
        if not s3:
            continue
        interval = int((s3.get("BufferingHints") or {}).get("IntervalInSeconds", DEFAULT_BUFFER_INTERVAL_S))
        processor = DEFAULT_PROCESSOR_INTERVAL_S if (s3.get("ProcessingConfiguration") or {}).get("Enabled") else 0
        for proc in (s3.get("ProcessingConfiguration") or {}).get("Processors", []):
            for parameter in proc.get("Parameters", []):
                if parameter.get("ParameterName") == "BufferIntervalInSeconds":
                    processor = int(parameter["ParameterValue"])
        return DeliveryTiming(interval, processor)
    raise ValueError(f"delivery stream {stream_name} has no S3 destination")


def aggregation_timing(lambda_client: Any, function_name: str) -> AggregationTiming:
    mappings = lambda_client.list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
    for mapping in mappings:
        window = int(mapping.get("TumblingWindowInSeconds") or 0)
        if window:
            return AggregationTiming(window, int(mapping.get("MaximumBatchingWindowInSeconds") or 0))
    raise ValueError(f"{function_name} has no event source mapping with a tumbling window")


def archive_complete_at(hour_start: datetime, timing: DeliveryTiming, grace_s: int | None = None) -> datetime:
    grace = grace_seconds() if grace_s is None else grace_s
    return hour_start + timedelta(hours=1, seconds=timing.delay_s + grace)


def aggregates_complete_at(hour_start: datetime, timing: AggregationTiming, grace_s: int | None = None) -> datetime:
    grace = grace_seconds() if grace_s is None else grace_s
    return hour_start + timedelta(hours=1, seconds=timing.delay_s + grace)
