"""``wildrydes backfill-history``: past hours of fleet data, pushed through the same code as live data.

The seeded fleet simulator produces one record per unicorn per second for the requested hours (before
``--end``, default the start of the current hour), with synthetic Kinesis arrival times (the sensor
clock plus a deterministic latency of 20-980 ms) and sequence numbers on a synthetic shard
``history-<seed>``. Then, exactly as the deployed configuration says:

- the aggregator handler is invoked with tumbling-window events (the event builder of the local Lambda
  runtime; windows of the mapping's ``TumblingWindowInSeconds``, batches of its ``BatchSize``, state
  carried between invocations, a final invocation per window), with the function's environment; what
  it puts on the summary stream is captured and handed to
- the summary writer handler, in events of its mapping's ``BatchSize``, which writes DynamoDB;
- the archive transform handler is invoked with Firehose processing events, one buffer interval of
  records at a time, and the ``Ok`` records are converted to Parquet with the Glue table's schema and
  written under the delivery stream's prefix (``raw/dt=…/hour=…/``), one object per partition and buffer
  interval, with Firehose's object naming.

Same arguments, same data: object keys and sequence numbers are derived from the seed and the times, so
running it twice overwrites identical objects and items. It refuses to write into an hour of the archive
that already holds objects it did not write (live data), unless ``--force``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import boto3

from streaming.lambdas import aggregator, archive_transform, summary_writer
from streaming.producer.simulation import Fleet

DEFAULT_AGGREGATOR = "wildrydes-aggregator"
DEFAULT_WRITER = "wildrydes-summary-writer"
DEFAULT_DELIVERY_STREAM = "wildrydes-archive"
LATENCY_MS = (20, 980)  # must stay below one tick so that ticks never interleave in arrival order
PROCESSOR_BATCH_BYTES = 1024 * 1024  # the processing Lambda's BufferSizeInMBs in the template
HISTORY_NAMESPACE = uuid.UUID("6f1f4f8e-3d9b-4a57-9a3e-5c1d0e2b7a10")


class HistoryError(RuntimeError):
    """The history cannot be loaded (with the reason)."""


# ------------------------------------------------------------------------------------ deployment


@dataclass(frozen=True)
class FunctionSetup:
    name: str
    arn: str
    role: str
    environment: dict[str, str]
    batch_size: int
    stream_arn: str
    window_s: int


@dataclass(frozen=True)
class DeliverySetup:
    name: str
    arn: str
    version: str
    bucket: str
    prefix: str
    interval_s: int
    source_stream_arn: str
    database: str
    table: str
    columns: list[dict[str, str]]
    case_insensitive: bool
    compression: str


@dataclass(frozen=True)
class Deployment:
    aggregator: FunctionSetup
    writer: FunctionSetup
    delivery: DeliverySetup

    @property
    def region(self) -> str:
        return self.delivery.arn.split(":")[3]


def describe_function(lambda_client: Any, name: str) -> FunctionSetup:
    config = lambda_client.get_function_configuration(FunctionName=name)
    mappings = lambda_client.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    if not mappings:
        raise HistoryError(f"{name} has no event source mapping: deploy the stack first")
    mapping = mappings[0]
    return FunctionSetup(
        name=name,
        arn=config["FunctionArn"],
        role=config.get("Role", ""),
        environment=dict((config.get("Environment") or {}).get("Variables") or {}),
        batch_size=int(mapping.get("BatchSize") or 100),
        stream_arn=mapping["EventSourceArn"],
        window_s=int(mapping.get("TumblingWindowInSeconds") or 0),
    )


def describe_delivery(firehose: Any, glue: Any, name: str) -> DeliverySetup:
    description = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    s3 = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    conversion = s3.get("DataFormatConversionConfiguration") or {}
    schema = conversion.get("SchemaConfiguration") or {}
    if not schema.get("TableName"):
        raise HistoryError(f"delivery stream {name} has no Parquet conversion with a Glue table")
    table = glue.get_table(DatabaseName=schema["DatabaseName"], Name=schema["TableName"])["Table"]
    deserializer = (conversion.get("InputFormatConfiguration") or {}).get("Deserializer") or {}
    serializer = ((conversion.get("OutputFormatConfiguration") or {}).get("Serializer") or {}).get("ParquetSerDe") or {}
    return DeliverySetup(
        name=name,
        arn=description["DeliveryStreamARN"],
        version=str(description.get("VersionId") or "1"),
        bucket=s3["BucketARN"].split(":::", 1)[1],
        prefix=s3.get("Prefix") or "",
        interval_s=int((s3.get("BufferingHints") or {}).get("IntervalInSeconds", 300)),
        source_stream_arn=description["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"],
        database=schema["DatabaseName"],
        table=schema["TableName"],
        columns=[{"Name": c["Name"], "Type": c["Type"]} for c in table["StorageDescriptor"]["Columns"]],
        case_insensitive=bool((deserializer.get("OpenXJsonSerDe") or {}).get("CaseInsensitive", True)),
        compression=str(serializer.get("Compression") or "SNAPPY"),
    )


def discover(clients: Clients, aggregator_name: str = DEFAULT_AGGREGATOR, writer_name: str = DEFAULT_WRITER,
             delivery_name: str = DEFAULT_DELIVERY_STREAM) -> Deployment:
    agg = describe_function(clients.lambda_, aggregator_name)
    if not agg.window_s:
        raise HistoryError(f"{aggregator_name}'s mapping has no tumbling window")
    return Deployment(agg, describe_function(clients.lambda_, writer_name),
                      describe_delivery(clients.firehose, clients.glue, delivery_name))


@dataclass
class Clients:
    lambda_: Any
    firehose: Any
    glue: Any
    s3: Any
    dynamodb: Any

    @classmethod
    def from_environment(cls) -> Clients:
        return cls(*(boto3.client(s) for s in ("lambda", "firehose", "glue", "s3", "dynamodb")))


# --------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class StreamRecord:
    """A record as GetRecords returns it (the shape the runtime's event builders take)."""

    data: bytes
    partition_key: str
    sequence_number: str
    arrival_ms: int

    def as_kinesis(self) -> dict[str, Any]:
        return {"Data": self.data, "PartitionKey": self.partition_key, "SequenceNumber": self.sequence_number,
                "ApproximateArrivalTimestamp": self.arrival_ms / 1000.0}


def generate(unicorns: int, seed: int, start: datetime, end: datetime) -> Iterator[list[StreamRecord]]:
    """One list per tick (second), in arrival order; arrivals lie in [start, end)."""
    fleet = Fleet(unicorns, seed)
    latency = random.Random(f"{seed}/latency")
    start_ms = int(start.timestamp() * 1000)
    for tick in range(int((end - start).total_seconds())):
        clock = start_ms + tick * 1000
        batch = []
        for index, reading in enumerate(fleet.tick(clock)):
            arrival = clock + latency.randint(*LATENCY_MS)
            batch.append(StreamRecord(reading.encode(), reading.name, f"{arrival:013d}{index:07d}", arrival))
        batch.sort(key=lambda r: (r.arrival_ms, r.sequence_number))
        yield batch


# ------------------------------------------------------------------------------------ aggregation


class CapturedStream:
    """Stands in for the Kinesis client the aggregator puts its summaries with."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, str]] = []

    def put_records(self, Records: list[dict[str, Any]], **target: Any) -> dict[str, Any]:  # noqa: N803 - boto3
        first = len(self.records)
        self.records.extend((r["Data"], r["PartitionKey"]) for r in Records)
        return {"FailedRecordCount": 0, "Records": [{"SequenceNumber": f"{first + i:020d}", "ShardId": "captured"}
                                                     for i in range(len(Records))]}


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
    from localaws.lambda_runtime.events import window_event

    fn = dep.aggregator
    captured = CapturedStream()
    state: dict[str, Any] = {}
    with function_environment(fn.environment):
        for offset in range(0, len(records), fn.batch_size):
            batch = [r.as_kinesis() for r in records[offset:offset + fn.batch_size]]
            event = window_event(batch, shard, fn.stream_arn, dep.region, fn.role, window_start, fn.window_s,
                                 state, final=False)
            state = aggregator.process(event, kinesis=captured)["state"]
        final = window_event([], shard, fn.stream_arn, dep.region, fn.role, window_start, fn.window_s, state,
                             final=True)
        aggregator.process(final, kinesis=captured)
    return [data for data, _ in captured.records]


def write_summaries(dep: Deployment, summaries: list[bytes], arrival_ms: int, dynamodb: Any) -> int:
    """Hand the summaries to the writer handler in events of its batch size; returns items written."""
    from localaws.lambda_runtime.events import kinesis_event

    fn = dep.writer
    records = [{"Data": data, "PartitionKey": json.loads(data)["Name"],
                "SequenceNumber": f"{arrival_ms:013d}{i:07d}", "ApproximateArrivalTimestamp": arrival_ms / 1000}
               for i, data in enumerate(summaries)]
    with function_environment(fn.environment):
        for offset in range(0, len(records), fn.batch_size):
            event = kinesis_event(records[offset:offset + fn.batch_size], "history", fn.stream_arn, dep.region,
                                  fn.role)
            failures = summary_writer.process(event, dynamodb=dynamodb)["batchItemFailures"]
            if failures:
                raise HistoryError(f"the summary writer could not write {len(failures)} summaries")
    return len(records)


# ---------------------------------------------------------------------------------------- archive


def processing_event(dep: Deployment, shard: str, records: list[StreamRecord]) -> dict[str, Any]:
    """Firehose's processing-Lambda event for records from a Kinesis stream."""
    return {
        "invocationId": str(uuid.uuid5(HISTORY_NAMESPACE, records[0].sequence_number)),
        "deliveryStreamArn": dep.delivery.arn,
        "sourceKinesisStreamArn": dep.delivery.source_stream_arn,
        "region": dep.region,
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
    """Run the processing Lambda over the records (in ≤ 1 MB invocations); Ok data by (dt, hour)."""
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
        if batch and size + len(record.data) > PROCESSOR_BATCH_BYTES:
            flush()
            batch, size = [], 0
        batch.append(record)
        size += len(record.data)
    if batch:
        flush()
    return out


def to_parquet(lines: list[bytes], columns: list[dict[str, str]], case_insensitive: bool, compression: str) -> bytes:
    """JSON lines → Parquet with the Glue table's columns, as Firehose's record format conversion writes
    it (OpenX JSON SerDe key matching, Hive types, INT96 timestamps). The one function to swap for the
    local Firehose's converter."""
    import io

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    types = {"string": pa.string(), "double": pa.float64(), "float": pa.float32(), "int": pa.int32(),
             "bigint": pa.int64(), "boolean": pa.bool_(), "timestamp": pa.timestamp("us")}
    unknown = [c["Type"] for c in columns if c["Type"] not in types]
    if unknown:
        raise HistoryError(f"column types {unknown} are not supported by the history loader")
    sample = json.loads(lines[0])
    keys = {(k.lower() if case_insensitive else k): k for k in sample}
    json_key = {c["Name"]: keys.get(c["Name"].lower() if case_insensitive else c["Name"], c["Name"]) for c in columns}
    read_as = pa.schema([(json_key[c["Name"]], pa.string() if c["Type"] == "timestamp" else types[c["Type"]])
                         for c in columns])
    parsed = pj.read_json(io.BytesIO(b"".join(lines)), parse_options=pj.ParseOptions(
        explicit_schema=read_as, unexpected_field_behavior="ignore", newlines_in_values=False))
    arrays = []
    for column in columns:
        values = parsed.column(json_key[column["Name"]])
        arrays.append(pc.cast(values, types["timestamp"]) if column["Type"] == "timestamp" else values)
    table = pa.Table.from_arrays(arrays, names=[c["Name"] for c in columns])
    sink = io.BytesIO()
    codec = {"UNCOMPRESSED": "none"}.get(compression.upper(), compression.lower())
    pq.write_table(table, sink, compression=codec, use_deprecated_int96_timestamps=True)
    return sink.getvalue()


def render_prefix(prefix: str, keys: dict[str, str]) -> str:
    return re.sub(r"!\{partitionKeyFromLambda:([^}]+)\}", lambda m: keys[m.group(1)], prefix)


def object_key(dep: Deployment, keys: dict[str, str], first_arrival_ms: int, seed: int) -> str:
    """``<prefix with partition keys><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>`` (Firehose's naming)."""
    prefix = render_prefix(dep.delivery.prefix, keys)
    moment = datetime.fromtimestamp(first_arrival_ms / 1000, UTC)
    unique = uuid.uuid5(HISTORY_NAMESPACE, f"{seed}/{prefix}/{first_arrival_ms}")
    return f"{prefix}{dep.delivery.name}-{dep.delivery.version}-{moment:%Y-%m-%d-%H-%M-%S}-{unique}"


def archive_buffer(dep: Deployment, shard: str, records: list[StreamRecord], seed: int, s3: Any) -> int:
    """One buffer interval: transform, convert, write one object per partition; returns objects written."""
    written = 0
    for (dt, hour), lines in sorted(transform(dep, shard, records).items()):
        d = dep.delivery
        key = object_key(dep, {"dt": dt, "hour": hour}, records[0].arrival_ms, seed)
        s3.put_object(Bucket=d.bucket, Key=key, Body=to_parquet(lines, d.columns, d.case_insensitive, d.compression))
        written += 1
    return written


# ------------------------------------------------------------------------------------------ driver


@dataclass
class Report:
    start: datetime
    end: datetime
    records: int = 0
    windows: int = 0
    items: int = 0
    objects: int = 0
    hours: list[str] = field(default_factory=list)


def check_hours_free(dep: Deployment, s3: Any, start: datetime, end: datetime) -> None:
    """Refuse to mix history into hours of the archive that hold objects it did not write."""
    hour = start
    while hour < end:
        prefix = render_prefix(dep.delivery.prefix, {"dt": f"{hour:%Y-%m-%d}", "hour": f"{hour:%H}"})
        listed = s3.list_objects_v2(Bucket=dep.delivery.bucket, Prefix=prefix, MaxKeys=1000).get("Contents", [])
        foreign = [o["Key"] for o in listed if not _history_key(o["Key"])]
        if foreign:
            raise HistoryError(f"the archive already holds data for {hour:%Y-%m-%d %H}:00 ({foreign[0]}): "
                               "choose other hours (--end) or pass --force")
        hour += timedelta(hours=1)


def _history_key(key: str) -> bool:
    """History objects carry a name-based (version 5) UUID; Firehose's are random (version 4)."""
    match = re.search(r"-([0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12})$", key)
    return bool(match and match.group(2) == "5")


def load_history(hours: int, unicorns: int, seed: int, end: datetime, clients: Clients | None = None,
                 dep: Deployment | None = None, force: bool = False, progress: TextIO | None = None) -> Report:
    clients = clients or Clients.from_environment()
    dep = dep or discover(clients)
    end = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours)
    if not force:
        check_hours_free(dep, clients.s3, start, end)
    shard = f"history-{seed}"
    window_ms = dep.aggregator.window_s * 1000
    buffer_ms = max(1, dep.delivery.interval_s) * 1000
    report = Report(start, end, hours=[f"{start + timedelta(hours=h):%Y-%m-%d %H}:00" for h in range(hours)])
    window: list[StreamRecord] = []
    buffer: list[StreamRecord] = []

    def close_window() -> None:
        summaries = aggregate_window(dep, shard, window[0].arrival_ms // window_ms * window_ms / 1000, window)
        closing = (window[0].arrival_ms // window_ms + 1) * window_ms
        report.items += write_summaries(dep, summaries, closing, clients.dynamodb)
        report.windows += 1

    for tick in generate(unicorns, seed, start, end):
        for record in tick:
            if window and record.arrival_ms // window_ms != window[0].arrival_ms // window_ms:
                close_window()
                window = []
            if buffer and record.arrival_ms // buffer_ms != buffer[0].arrival_ms // buffer_ms:
                report.objects += archive_buffer(dep, shard, buffer, seed, clients.s3)
                buffer = []
            window.append(record)
            buffer.append(record)
            report.records += 1
        if progress and tick and tick[0].arrival_ms % 3_600_000 < 1000 and report.records > len(tick):
            progress.write(f"backfill-history: {tick[0].arrival_ms // 1000 - int(start.timestamp())}s of "
                           f"{hours * 3600}s loaded, {report.items} items, {report.objects} objects\n")
    if window:
        close_window()
    if buffer:
        report.objects += archive_buffer(dep, shard, buffer, seed, clients.s3)
    return report


# --------------------------------------------------------------------------------------------- CLI


def add_backfill_command(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "backfill-history",
        help="load past hours of simulated fleet data into DynamoDB and the archive",
        description="Generate N past hours of fleet data (seeded) and push it through the deployed Lambda "
        "handlers (aggregator, summary writer, archive transform) and the Parquet conversion, so that "
        "closed, complete hours exist in DynamoDB and in the S3 archive.",
    )
    parser.add_argument("--hours", type=_positive_int, default=3, help="how many whole hours (default 3)")
    parser.add_argument("--unicorns", type=_positive_int, default=20, help="fleet size (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1; same seed => same data)")
    parser.add_argument("--end", type=_utc_hour, default=None, metavar="TIME",
                        help="end of the last hour, UTC, e.g. '2026-11-25 18:00' (default: start of this hour)")
    parser.add_argument("--force", action="store_true",
                        help="write even into hours whose archive already holds other data")
    parser.add_argument("--marker", type=Path, default=None, metavar="FILE",
                        help="do nothing if FILE exists; write it (a JSON summary) once the history is loaded — "
                        "for loading history once, on a fresh platform")
    parser.add_argument("--aggregator", default=DEFAULT_AGGREGATOR, help=argparse.SUPPRESS)
    parser.add_argument("--writer", default=DEFAULT_WRITER, help=argparse.SUPPRESS)
    parser.add_argument("--delivery-stream", default=DEFAULT_DELIVERY_STREAM, help=argparse.SUPPRESS)
    parser.set_defaults(func=run_backfill)
    return parser


def run_backfill(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from infra.errors import WildrydesError

    out = out or sys.stdout
    if args.marker and args.marker.exists():
        out.write(f"backfill-history: already loaded ({args.marker} exists)\n")
        return 0
    clients = Clients.from_environment()
    end = args.end or datetime.now(UTC)
    try:
        dep = discover(clients, args.aggregator, args.writer, args.delivery_stream)
        report = load_history(args.hours, args.unicorns, args.seed, end, clients, dep, args.force, sys.stderr)
    except HistoryError as error:
        raise WildrydesError(str(error)) from None
    out.write(f"backfill-history: {report.records} records of {args.unicorns} unicorns, "
              f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC: {report.windows} windows, "
              f"{report.items} DynamoDB items, {report.objects} archive objects\n")
    if args.marker:
        args.marker.parent.mkdir(parents=True, exist_ok=True)
        args.marker.write_text(json.dumps({
            "hours": report.hours, "unicorns": args.unicorns, "seed": args.seed, "records": report.records,
            "items": report.items, "objects": report.objects, "loaded_at": datetime.now(UTC).isoformat(),
        }, indent=2) + "\n")
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _utc_hour(text: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"not a UTC time like '2026-11-25 18:00': {text!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backfill-history")
    commands = parser.add_subparsers(dest="command", required=True)
    add_backfill_command(commands)
    args = parser.parse_args(["backfill-history", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
