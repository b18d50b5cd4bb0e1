"""The Lambda data-transformation step of a delivery stream, as Firehose runs it.

One synchronous invocation per batch (the shard's records gathered up to the processor's
BufferSizeInMBs / BufferIntervalInSeconds) with Firehose's event for a Kinesis source; an invocation
error or an invalid response (missing, duplicated or unknown record ids, bad result values, data
that is not base64) is retried NumberOfRetries times, then the whole batch goes to the error output
as ``processing-failed``. Per record: ``Ok`` → delivered (with ``metadata.partitionKeys``),
``Dropped`` → gone, ``ProcessingFailed`` → error output with the function's ``errorMessage``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
import uuid
from typing import Any

from localaws.firehose.records import PROCESSING_FAILED, Failure, Outcome, SourceRecord
from localaws.lambda_runtime.invoker import FunctionInvoker, Invocation

log = logging.getLogger("wildrydes.firehose")

FUNCTION_ERROR_MESSAGE = "The Lambda function was successfully invoked but it returned an error result."
PROCESSING_FAILED_CODE = "Lambda.ProcessingFailedStatus"
PROCESSING_FAILED_MESSAGE = "ProcessingFailed status set for record"
MAX_BACKOFF_S = 5.0


class InvalidResponse(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def event(records: list[SourceRecord], *, delivery_stream_arn: str, source_stream_arn: str,
          region: str) -> dict[str, Any]:
    """Firehose's invocation event for records from a Kinesis data stream."""
    return {
        "invocationId": str(uuid.uuid4()),
        "deliveryStreamArn": delivery_stream_arn,
        "sourceKinesisStreamArn": source_stream_arn,
        "region": region,
        "records": [
            {
                "recordId": r.sequence_number,
                "approximateArrivalTimestamp": r.arrival_ms,
                "data": base64.b64encode(r.data).decode("ascii"),
                "kinesisRecordMetadata": {
                    "shardId": r.shard_id,
                    "partitionKey": r.partition_key,
                    "approximateArrivalTimestamp": r.arrival_ms,
                    "sequenceNumber": r.sequence_number,
                    "subsequenceNumber": 0,
                },
            }
            for r in records
        ],
    }


def interpret(records: list[SourceRecord], result: Any, lambda_arn: str, attempts: int) -> list[Outcome]:
    """The outcomes of a successful invocation; InvalidResponse if Firehose would reject the response."""
    if not isinstance(result, dict) or not isinstance(result.get("records"), list):
        raise InvalidResponse("Lambda.JsonProcessingException",
                              "The response of the Lambda function has no 'records' list.")
    by_id: dict[str, dict[str, Any]] = {}
    for item in result["records"]:
        record_id = item.get("recordId") if isinstance(item, dict) else None
        if not isinstance(record_id, str):
            raise InvalidResponse("Lambda.MissingRecordId", "A record returned by the Lambda function has no recordId.")
        if record_id in by_id:
            raise InvalidResponse("Lambda.DuplicatedRecordId",
                                  f"The Lambda function returned recordId {record_id} more than once.")
        by_id[record_id] = item
    expected = {r.sequence_number for r in records}
    if set(by_id) != expected:
        missing = len(expected - set(by_id))
        extra = len(set(by_id) - expected)
        raise InvalidResponse("Lambda.MissingRecordId",
                              f"One or more record Ids were not returned ({missing} missing, {extra} unknown). "
                              "Ensure that the Lambda function returns all received record Ids.")
    outcomes: list[Outcome] = []
    for record in records:
        item = by_id[record.sequence_number]
        status = item.get("result")
        if status == "Dropped":
            outcomes.append(Outcome(record, dropped=True))
        elif status == "ProcessingFailed":
            message = item.get("errorMessage") or PROCESSING_FAILED_MESSAGE
            outcomes.append(Outcome(record, failure=Failure(PROCESSING_FAILED, PROCESSING_FAILED_CODE, str(message),
                                                            attempts, lambda_arn)))
        elif status == "Ok":
            try:
                data = base64.b64decode(item.get("data") or "", validate=True)
            except (binascii.Error, ValueError, TypeError):
                raise InvalidResponse("Lambda.InvalidReturnFormat",
                                      f"Record {record.sequence_number}: data is not valid base64.") from None
            keys = ((item.get("metadata") or {}).get("partitionKeys") or {}) if isinstance(item, dict) else {}
            outcomes.append(Outcome(record, data=data,
                                    keys={("partitionKeyFromLambda", str(k)): v for k, v in keys.items()}))
        else:
            raise InvalidResponse("Lambda.InvalidReturnFormat",
                                  f"Record {record.sequence_number}: result {status!r} is not Ok, Dropped or "
                                  "ProcessingFailed.")
    return outcomes


class LambdaProcessor:
    """Invokes the processing function for batches of one shard (one worker process per shard)."""

    def __init__(self, invoker: FunctionInvoker, *, lambda_arn: str, retries: int, delivery_stream_arn: str,
                 source_stream_arn: str, region: str, stop: threading.Event) -> None:
        self.invoker = invoker
        self.lambda_arn = lambda_arn
        self.retries = retries
        self.delivery_stream_arn = delivery_stream_arn
        self.source_stream_arn = source_stream_arn
        self.region = region
        self.stop = stop
        self.invocations = 0
        self.errors = 0

    def process(self, records: list[SourceRecord]) -> list[Outcome] | None:
        """The outcome of every record, or None if stopped before an answer."""
        attempts = 0
        while True:
            attempts += 1
            invocation = self.invoker.invoke(event(records, delivery_stream_arn=self.delivery_stream_arn,
                                                   source_stream_arn=self.source_stream_arn, region=self.region))
            self.invocations += 1
            code, message = self._error(invocation)
            if code is None:
                try:
                    return interpret(records, invocation.result, self.lambda_arn, attempts)
                except InvalidResponse as error:
                    code, message = error.code, str(error)
            self.errors += 1
            log.warning("fn=%s records=%d attempt=%d/%d error=%s: %s", self.invoker.config.name, len(records),
                        attempts, self.retries + 1, code, message)
            if attempts > self.retries:
                failure = Failure(PROCESSING_FAILED, code or "Lambda.FunctionError", message, attempts,
                                  self.lambda_arn, int(time.time() * 1000))
                return [Outcome(r, failure=failure) for r in records]
            if self.stop.wait(min(MAX_BACKOFF_S, 0.5 * 2 ** (attempts - 1))):
                return None

    @staticmethod
    def _error(invocation: Invocation) -> tuple[str | None, str]:
        if invocation.ok:
            return None, ""
        if invocation.error_type == "Sandbox.Timedout":
            return "Lambda.FunctionTimedOut", invocation.error_message or "The Lambda function timed out."
        detail = f"{invocation.error_type}: {invocation.error_message}"
        return "Lambda.FunctionError", f"{FUNCTION_ERROR_MESSAGE} ({detail})"
