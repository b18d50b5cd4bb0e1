"""The history's archive: the processing Lambda over Firehose processing events, then the local Firehose's own
Parquet conversion and object naming, one object per partition and buffer interval."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from localaws.backfill.deployment import Deployment, HistoryError
from localaws.backfill.records import StreamRecord
from localaws.firehose import prefixes
from localaws.firehose.convert import ConversionError, ParquetOptions, RowConverter, SerDeOptions, write_parquet
from streaming.lambdas import archive_transform

HISTORY_NAMESPACE = uuid.UUID("6f1f4f8e-3d9b-4a57-9a3e-5c1d0e2b7a10")
PARTITION_KEYS = "partitionKeyFromLambda"


def processing_event(dep: Deployment, shard: str, records: list[StreamRecord]) -> dict[str, Any]:
    """Firehose's processing-Lambda event for records from a Kinesis stream."""
    stream = dep.archive
    return {
        "invocationId": str(uuid.uuid5(HISTORY_NAMESPACE, records[0].sequence_number)),
        "deliveryStreamArn": stream.arn,
        "sourceKinesisStreamArn": stream.source_stream_arn,
        "region": stream.region,
        "records": [
            {
                "recordId": r.sequence_number,
                "approximateArrivalTimestamp": r.arrival_ms,
                "data": base64.b64encode(r.data).decode("ascii"),
                "kinesisRecordMetadata": {"shardId": shard, "partitionKey": r.partition_key,
                                          "approximateArrivalTimestamp": r.arrival_ms,
                                          "sequenceNumber": r.sequence_number, "subsequenceNumber": 0},
            }
            for r in records
        ],
    }


def transform(dep: Deployment, shard: str, records: list[StreamRecord]) -> dict[tuple[str, str], list[bytes]]:
    """Run the processing Lambda over the records (invocations of its buffer size); Ok data by (dt, hour)."""
    limit = dep.archive.processor.buffer_bytes if dep.archive.processor else 1024 * 1024
    out: dict[tuple[str, str], list[bytes]] = {}
    batch: list[StreamRecord] = []
    size = 0

    def flush() -> None:
        result = archive_transform.handler(processing_event(dep, shard, batch), None)
        for item in result["records"]:
            if item["result"] != "Ok":
                raise HistoryError(f"the archive transform rejected a generated record: {item.get('errorMessage')}")
            keys = item["metadata"]["partitionKeys"]
            out.setdefault((keys["dt"], keys["hour"]), []).append(base64.b64decode(item["data"]))

    for record in records:
        if batch and size + len(record.data) > limit:
            flush()
            batch, size = [], 0
        batch.append(record)
        size += len(record.data)
    if batch:
        flush()
    return out


def to_parquet(dep: Deployment, lines: list[bytes]) -> bytes:
    """The Firehose's record format conversion: the Glue table's columns, its SerDe and Parquet settings."""
    conversion = dep.archive.conversion
    assert conversion is not None and dep.delivery.columns is not None  # checked by discover()
    converter = RowConverter(list(dep.delivery.columns), SerDeOptions(conversion.deserializer))
    try:
        rows = [converter.convert(line) for line in lines]
    except ConversionError as error:
        raise HistoryError(f"a generated record does not convert to the archive's schema: {error}") from None
    return write_parquet(converter.table(rows), ParquetOptions(conversion.serializer))


def partition_prefix(dep: Deployment, dt: str, hour: str, moment: datetime) -> str:
    return prefixes.render(dep.archive.prefix, moment=moment,
                           keys={(PARTITION_KEYS, "dt"): dt, (PARTITION_KEYS, "hour"): hour})


def object_key(dep: Deployment, dt: str, hour: str, first_arrival_ms: int, seed: int) -> str:
    """Firehose's naming, with a name-based (version 5) UUID so that a rerun writes the same keys and
    ``history_key`` tells history objects from live ones (random, version 4)."""
    moment = prefixes.moment_of(first_arrival_ms)
    prefix = partition_prefix(dep, dt, hour, moment)
    unique = uuid.uuid5(HISTORY_NAMESPACE, f"{seed}/{prefix}/{first_arrival_ms}")
    return prefixes.object_key(prefix, dep.archive.name, dep.archive.version, moment, unique=str(unique))


def archive_buffer(dep: Deployment, shard: str, records: list[StreamRecord], seed: int, s3: Any) -> int:
    """One buffer interval: transform, convert, write one object per partition; returns objects written."""
    written = 0
    for (dt, hour), lines in sorted(transform(dep, shard, records).items()):
        key = object_key(dep, dt, hour, records[0].arrival_ms, seed)
        s3.put_object(Bucket=dep.archive.bucket, Key=key, Body=to_parquet(dep, lines))
        written += 1
    return written


def check_hours_free(dep: Deployment, s3: Any, start: datetime, end: datetime) -> None:
    """Refuse to mix history into hours of the archive that hold objects it did not write."""
    hour = start
    while hour < end:
        prefix = partition_prefix(dep, f"{hour:%Y-%m-%d}", f"{hour:%H}", hour)
        listed = s3.list_objects_v2(Bucket=dep.archive.bucket, Prefix=prefix, MaxKeys=1000).get("Contents", [])
        foreign = [o["Key"] for o in listed if not history_key(o["Key"])]
        if foreign:
            raise HistoryError(f"the archive already holds data for {hour:%Y-%m-%d %H}:00 ({foreign[0]}): "
                               "choose other hours (--end) or pass --force")
        hour += timedelta(hours=1)


def history_key(key: str) -> bool:
    """History objects carry a name-based (version 5) UUID; Firehose's are random (version 4)."""
    match = re.search(r"-([0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12})$", key)
    return bool(match and match.group(2) == "5")
