"""The JSON documents Firehose writes, one per line, for records that go to the error output.

``processing-failed`` (data transformation): attemptsMade, arrivalTimestamp, errorCode, errorMessage,
attemptEndingTimestamp, rawData (the source record, base64), lambdaArn. ``format-conversion-failed``:
attemptsMade, arrivalTimestamp, ErrorCode, ErrorMessage (capitalised, as AWS documents them),
attemptEndingTimestamp, rawData (the data after transformation), sequenceNumber, subSequenceNumber,
dataCatalogTable. Both also carry the Kinesis metadata (shardId, partitionKey, sequenceNumber,
subSequenceNumber) so that every bad record can be traced to its position in the stream.

On AWS a ProcessingFailed document's errorMessage is Firehose's fixed text; locally it is the
function's own ``errorMessage`` (the reason), as agreed with the transform's owner.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from localaws.firehose.config import ConversionConfig
from localaws.firehose.records import FORMAT_CONVERSION_FAILED, Failure, SourceRecord


def document(source: SourceRecord, failure: Failure, raw: bytes, ending_ms: int,
             catalog: ConversionConfig | None = None) -> dict[str, Any]:
    kinesis = {
        "sequenceNumber": source.sequence_number,
        "subSequenceNumber": 0,
        "shardId": source.shard_id,
        "partitionKey": source.partition_key,
    }
    if failure.output_type == FORMAT_CONVERSION_FAILED:
        doc: dict[str, Any] = {
            "attemptsMade": failure.attempts,
            "arrivalTimestamp": source.arrival_ms,
            "ErrorCode": failure.code,
            "ErrorMessage": failure.message,
            "attemptEndingTimestamp": failure.ending_ms or ending_ms,
            "rawData": base64.b64encode(raw).decode("ascii"),
            **kinesis,
        }
        if catalog is not None:
            doc["dataCatalogTable"] = {
                "catalogId": catalog.catalog_id,
                "databaseName": catalog.database,
                "tableName": catalog.table,
                "region": catalog.region,
                "versionId": catalog.version_id,
                "catalogArn": f"arn:aws:glue:{catalog.region}:{catalog.catalog_id}:catalog",
            }
        return doc
    doc = {
        "attemptsMade": failure.attempts,
        "arrivalTimestamp": source.arrival_ms,
        "errorCode": failure.code,
        "errorMessage": failure.message,
        "attemptEndingTimestamp": failure.ending_ms or ending_ms,
        "rawData": base64.b64encode(raw).decode("ascii"),
        **kinesis,
    }
    if failure.lambda_arn:
        doc["lambdaArn"] = failure.lambda_arn
    return doc


def line(doc: dict[str, Any]) -> bytes:
    # ASCII escapes: a partition key may hold a lone surrogate (Kinesis stores it), which UTF-8 cannot encode.
    return (json.dumps(doc, separators=(",", ":")) + "\n").encode("ascii")
