"""The configuration of one Kinesis event source mapping, as the Lambda control plane reports it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from localaws.lambda_runtime.invoker import FunctionConfig


@dataclass(frozen=True)
class MappingConfig:
    uuid: str
    stream_arn: str
    function: FunctionConfig
    batch_size: int
    batching_window_s: float
    starting_position: str
    starting_timestamp: float | None
    max_retry_attempts: int  # -1: until the record expires
    max_record_age_s: int  # -1: forever
    bisect_on_error: bool
    report_item_failures: bool
    on_failure_arn: str | None
    tumbling_window_s: int
    enabled: bool

    @property
    def stream_name(self) -> str:
        return self.stream_arn.split(":stream/", 1)[1]

    @property
    def region(self) -> str:
        return self.stream_arn.split(":")[3]

    @classmethod
    def from_api(cls, mapping: dict[str, Any], function: FunctionConfig) -> MappingConfig:
        timestamp = mapping.get("StartingPositionTimestamp")
        return cls(
            uuid=mapping["UUID"],
            stream_arn=mapping["EventSourceArn"],
            function=function,
            batch_size=int(mapping.get("BatchSize") or 100),
            batching_window_s=float(mapping.get("MaximumBatchingWindowInSeconds") or 0),
            starting_position=mapping.get("StartingPosition") or "TRIM_HORIZON",
            starting_timestamp=timestamp.timestamp() if isinstance(timestamp, datetime) else timestamp,
            max_retry_attempts=_int(mapping.get("MaximumRetryAttempts"), -1),
            max_record_age_s=_int(mapping.get("MaximumRecordAgeInSeconds"), -1),
            bisect_on_error=bool(mapping.get("BisectBatchOnFunctionError")),
            report_item_failures="ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []),
            on_failure_arn=((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
            tumbling_window_s=int(mapping.get("TumblingWindowInSeconds") or 0),
            enabled=mapping.get("State", "Enabled") not in ("Disabled", "Disabling")
            and mapping.get("Enabled", True) is not False,
        )


def _int(value: Any, default: int) -> int:
    return default if value is None else int(value)
