"""Unit tests of the local Firehose: Java date patterns, prefix rendering, object names, Glue schema
mapping, OpenX-style conversion, the processor's response rules, buffers and checkpoint progress."""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from localaws.firehose import prefixes, processor, query
from localaws.firehose import writer as writer_module
from localaws.firehose.buffers import BufferSet
from localaws.firehose.checkpoints import Checkpoint, CheckpointStore
from localaws.firehose.config import StreamConfig, UnsupportedStream
from localaws.firehose.convert import ConversionError, ParquetOptions, RowConverter, SerDeOptions, write_parquet
from localaws.firehose.delivery import DeliveryStream
from localaws.firehose.deployment import Deployment
from localaws.firehose.javatime import PatternError, format_java
from localaws.firehose.progress import ShardProgress, resolve_all
from localaws.firehose.records import PROCESSING_FAILED, Outcome, SourceRecord
from localaws.firehose.router import Router
from localaws.firehose.schema import Column, SchemaError, parse_type, table_columns
from localaws.firehose.stats import ShardStats, StreamStats
from localaws.firehose.writer import ObjectWriter
from localaws.lambda_runtime.invoker import Invocation

MOMENT = datetime(2026, 11, 5, 8, 7, 9, 123456, tzinfo=UTC)


# ---- Java DateTimeFormatter patterns ---------------------------------------------------------------
@pytest.mark.parametrize(("pattern", "expected"), [
    ("yyyy-MM-dd", "2026-11-05"),
    ("yyyy/MM/dd/HH", "2026/11/05/08"),
    ("HH", "08"),
    ("yy", "26"),
    ("uuuu", "2026"),
    ("M/d H:m:s", "11/5 8:7:9"),
    ("MMM", "Nov"),
    ("MMMM", "November"),
    ("EEE", "Thu"),
    ("EEEE", "Thursday"),
    ("D", "309"),
    ("DDD", "309"),
    ("hh a", "08 AM"),
    ("SSS", "123"),
    ("SSSSSS", "123456"),
    ("yyyy-MM-dd'T'HH:mm:ss'Z'", "2026-11-05T08:07:09Z"),
    ("'year='yyyy", "year=2026"),
    ("''HH''", "'08'"),
    ("'it''s' yyyy", "it's 2026"),
    ("QQQ", "Q4"),
    ("X", "Z"),
    ("Z", "+0000"),
    ("z", "UTC"),
    ("[yyyy]", "2026"),
    ("dd.MM.yyyy", "05.11.2026"),
])
def test_java_patterns(pattern: str, expected: str) -> None:
    assert format_java(MOMENT, pattern) == expected


def test_java_pattern_offsets_follow_the_zone() -> None:
    tokyo = MOMENT.astimezone(timezone(timedelta(hours=9)))
    assert format_java(tokyo, "yyyy-MM-dd HH XXX Z") == "2026-11-05 17 +09:00 +0900"


@pytest.mark.parametrize("pattern", ["yyyy-bb", "HH#", "{HH}", "'open", "HHH", "yyyy]"])
def test_java_patterns_java_rejects_are_rejected(pattern: str) -> None:
    with pytest.raises(PatternError):
        format_java(MOMENT, pattern)


# ---- prefixes and object names -------------------------------------------------------------------------
ARCHIVE_PREFIX = "raw/dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/"
ERROR_PREFIX = "errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"


def test_renders_the_archive_prefix_from_lambda_partition_keys() -> None:
    keys = {("partitionKeyFromLambda", "dt"): "2026-11-25", ("partitionKeyFromLambda", "hour"): "18"}
    assert prefixes.render(ARCHIVE_PREFIX, moment=MOMENT, keys=keys) == "raw/dt=2026-11-25/hour=18/"
    assert prefixes.partition_keys(ARCHIVE_PREFIX) == [("partitionKeyFromLambda", "dt"),
                                                       ("partitionKeyFromLambda", "hour")]


def test_renders_the_error_prefix_with_type_and_timestamp() -> None:
    rendered = prefixes.render(ERROR_PREFIX, moment=MOMENT, error_output_type="processing-failed")
    assert rendered == "errors/processing-failed/dt=2026-11-05/hour=08/"


def test_random_string_and_query_keys() -> None:
    rendered = prefixes.render("a/!{firehose:random-string}/c=!{partitionKeyFromQuery:c}/", moment=MOMENT,
                               keys={("partitionKeyFromQuery", "c"): "x"})
    assert re.fullmatch(r"a/[A-Za-z0-9]{11}/c=x/", rendered)


def test_default_prefixes_are_firehoses() -> None:
    assert prefixes.render(prefixes.effective_prefix("", error=False), moment=MOMENT) == "2026/11/05/08/"
    error_prefix = prefixes.effective_prefix(None, error=True)
    assert prefixes.render(error_prefix, moment=MOMENT, error_output_type="format-conversion-failed") == \
        "format-conversion-failed/2026/11/05/08/"


@pytest.mark.parametrize(("prefix", "error", "dynamic", "message"), [
    ("raw/!{nope:x}/", False, True, "unknown namespace"),
    ("raw/!{firehose:error-output-type}/", False, True, "only allowed in the ErrorOutputPrefix"),
    ("errors/!{partitionKeyFromLambda:dt}/", True, True, "not allowed in the ErrorOutputPrefix"),
    ("raw/!{partitionKeyFromLambda:dt}/", False, False, "needs dynamic partitioning"),
    ("raw/!{timestamp:yyyy-bb}/", False, True, "invalid timestamp pattern"),
    ("raw/!{firehose:nothing}/", False, True, "unknown firehose value"),
    ("raw/!{timestamp:yyyy/", False, True, "malformed"),
])
def test_prefixes_firehose_refuses(prefix: str, error: bool, dynamic: bool, message: str) -> None:
    with pytest.raises(prefixes.PrefixError, match=message):
        prefixes.validate(prefix, error_prefix=error, dynamic_partitioning=dynamic)


def test_object_names_follow_firehose_without_an_extension() -> None:
    moment = prefixes.moment_of(1795631461427)  # 2026-11-25 18:31:01.427 UTC
    key = prefixes.object_key("raw/dt=2026-11-25/hour=18/", "wildrydes-archive", "3", moment)
    assert re.fullmatch(r"raw/dt=2026-11-25/hour=18/wildrydes-archive-3-2026-11-25-18-31-01-"
                        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", key)
    assert prefixes.object_key("p/", "s", "1", moment, ".parquet", unique="u") == "p/s-1-2026-11-25-18-31-01-u.parquet"


def test_moment_of_keeps_milliseconds_exact() -> None:
    assert prefixes.moment_of(1795631461427).microsecond == 427000


# ---- Glue (Hive) types → Arrow ---------------------------------------------------------------------------
@pytest.mark.parametrize(("hive", "arrow"), [
    ("string", pa.string()),
    ("varchar(20)", pa.string()),
    ("char(2)", pa.string()),
    ("tinyint", pa.int8()),
    ("smallint", pa.int16()),
    ("int", pa.int32()),
    ("bigint", pa.int64()),
    ("float", pa.float32()),
    ("double", pa.float64()),
    ("boolean", pa.bool_()),
    ("timestamp", pa.timestamp("us")),
    ("date", pa.date32()),
    ("decimal(10,2)", pa.decimal128(10, 2)),
    ("decimal", pa.decimal128(10, 0)),
    ("binary", pa.binary()),
    ("array<string>", pa.list_(pa.string())),
    ("map<string,int>", pa.map_(pa.string(), pa.int32())),
    ("struct<a:int,b:array<double>>", pa.struct([pa.field("a", pa.int32()), pa.field("b", pa.list_(pa.float64()))])),
    ("ARRAY< STRUCT<x:BIGINT> >", pa.list_(pa.struct([pa.field("x", pa.int64())]))),
])
def test_hive_types_map_to_arrow(hive: str, arrow: pa.DataType) -> None:
    assert parse_type(hive).arrow() == arrow


@pytest.mark.parametrize("hive", ["uniontype<int,string>", "array<int", "decimal(50,2)", "map<string>", "int(", ""])
def test_unmappable_types_are_refused(hive: str) -> None:
    with pytest.raises(SchemaError):
        parse_type(hive).arrow()


def test_table_columns_leave_out_partition_keys() -> None:
    table = {"Name": "t", "StorageDescriptor": {"Columns": [{"Name": "a", "Type": "int"}]},
             "PartitionKeys": [{"Name": "dt", "Type": "string"}]}
    assert [c.name for c in table_columns(table)] == ["a"]


# ---- conversion (OpenX JSON SerDe semantics) ---------------------------------------------------------
RAW_COLUMNS = [("name", "string"), ("statustime", "string"), ("latitude", "double"), ("longitude", "double"),
               ("distance", "double"), ("healthpoints", "int"), ("magicpoints", "int"), ("arrivaltime", "timestamp"),
               ("sequencenumber", "string"), ("shardid", "string")]
RECORD = (b'{"Name":"Shadowfax","StatusTime":"2026-11-25 18:21:01.427","Latitude":40.749167,"Longitude":-73.985184,'
          b'"Distance":30.27,"HealthPoints":151,"MagicPoints":149,"ArrivalTime":"2026-11-25 18:21:01.512",'
          b'"SequenceNumber":"4968","ShardId":"shardId-000000000000"}\n')


def converter(columns: list[tuple[str, str]] = RAW_COLUMNS, **openx: Any) -> RowConverter:
    return RowConverter([Column(n, parse_type(t)) for n, t in columns],
                        SerDeOptions({"OpenXJsonSerDe": {"CaseInsensitive": True, **openx}}))


def test_the_archive_record_converts_case_insensitively() -> None:
    row = converter().convert(RECORD)
    assert row[:7] == ("Shadowfax", "2026-11-25 18:21:01.427", 40.749167, -73.985184, 30.27, 151, 149)
    table = converter().table([row])
    assert table.column("arrivaltime")[0].as_py() == datetime(2026, 11, 25, 18, 21, 1, 512000)
    assert table.schema.field("healthpoints").type == pa.int32()


def test_missing_keys_are_null_and_extra_keys_ignored() -> None:
    row = converter().convert(b'{"name": "Tornado", "Unknown": 1}')
    assert row[0] == "Tornado"
    assert row[1:] == (None,) * 9


@pytest.mark.parametrize(("record", "reason"), [
    (b'{"Distance": "far"}', "column 'distance': cannot parse 'far' as a floating-point number"),
    (b'{"HealthPoints": 1.5}', "column 'healthpoints'"),
    (b'{"HealthPoints": 3000000000}', "out of range for a 32-bit integer"),
    (b'{"MagicPoints": true}', "cannot convert boolean"),
    (b'{"ArrivalTime": "yesterday"}', "cannot parse 'yesterday' as a timestamp"),
    (b'{"ArrivalTime": {"a": 1}}', "cannot convert object to a timestamp"),
    (b'not json', "not valid JSON"),
    (b'[1, 2]', "a JSON array, not an object"),
])
def test_values_that_do_not_fit_fail_the_record_with_a_reason(record: bytes, reason: str) -> None:
    with pytest.raises(ConversionError, match=re.escape(reason)):
        converter().convert(record)


def test_lenient_conversions_of_the_openx_serde() -> None:
    columns = [("i", "int"), ("s", "string"), ("d", "double"), ("b", "boolean"), ("n", "string")]
    row = converter(columns).convert(b'{"i": "42", "s": 7, "d": "2.5", "b": "TRUE", "n": {"x": [1]}}')
    assert row == (42, "7", 2.5, True, '{"x":[1]}')


@pytest.mark.parametrize(("value", "expected"), [
    ('"2026-11-25 18:21:01.427"', datetime(2026, 11, 25, 18, 21, 1, 427000)),
    ('"2026-1-5 8:21:01"', datetime(2026, 1, 5, 8, 21, 1)),
    ('"2026-11-25T18:21:01.5Z"', datetime(2026, 11, 25, 18, 21, 1, 500000)),
    ('"2026-11-25T20:21:01+02:00"', datetime(2026, 11, 25, 18, 21, 1)),
    ("1795631461", datetime(2026, 11, 25, 18, 31, 1)),
    ("1795631461427", datetime(2026, 11, 25, 18, 31, 1, 427000)),
    ("1795631461.5", datetime(2026, 11, 25, 18, 31, 1, 500000)),
])
def test_timestamp_inputs(value: str, expected: datetime) -> None:
    conv = converter([("t", "timestamp")])
    assert conv.table([conv.convert(f'{{"t": {value}}}'.encode())]).column("t")[0].as_py() == expected


def test_nested_dates_and_decimals() -> None:
    columns = [("tags", "array<string>"), ("pos", "struct<Lat:double,lon:double>"), ("m", "map<string,int>"),
               ("day", "date"), ("price", "decimal(6,2)")]
    conv = converter(columns)
    row = conv.convert(b'{"tags": ["a", 1], "pos": {"lat": 1.5}, "m": {"k": "2"}, "day": "2026-11-25", '
                       b'"price": 12.345}')
    got = conv.table([row]).to_pylist()[0]
    assert got == {"tags": ["a", "1"], "pos": {"Lat": 1.5, "lon": None}, "m": [("k", 2)],
                   "day": datetime(2026, 11, 25).date(), "price": Decimal("12.35")}
    with pytest.raises(ConversionError, match="does not fit decimal"):
        conv.convert(b'{"price": 123456}')


def test_case_sensitive_and_key_mappings() -> None:
    sensitive = converter([("name", "string")], CaseInsensitive=False)
    assert sensitive.convert(b'{"Name": "x"}') == (None,)
    mapped = converter([("name", "string")], ColumnToJsonKeyMappings={"name": "unicorn"})
    assert mapped.convert(b'{"Unicorn": "x"}') == ("x",)
    dots = converter([("a_b", "string")], ConvertDotsInJsonKeysToUnderscores=True)
    assert dots.convert(b'{"a.b": "x"}') == ("x",)


def test_parquet_is_snappy_with_int96_timestamps_like_hive() -> None:
    conv = converter()
    snappy = ParquetOptions({"ParquetSerDe": {"Compression": "SNAPPY"}})
    body = write_parquet(conv.table([conv.convert(RECORD)]), snappy)
    metadata = pq.ParquetFile(io.BytesIO(body)).metadata
    assert metadata.row_group(0).column(0).compression == "SNAPPY"
    assert metadata.schema.column(7).physical_type == "INT96"
    assert pq.read_table(io.BytesIO(body)).column_names == [c for c, _ in RAW_COLUMNS]


# ---- the processing Lambda's event and response ----------------------------------------------------
def source(seq: str, data: bytes = b"{}") -> SourceRecord:
    return SourceRecord("shardId-000000000000", seq, "Shadowfax", data, 1795631461427)


def test_event_has_firehoses_kinesis_source_shape() -> None:
    event = processor.event([source("1", b"hi")], delivery_stream_arn="arn:fh", source_stream_arn="arn:ks",
                            region="us-east-1")
    assert set(event) == {"invocationId", "deliveryStreamArn", "sourceKinesisStreamArn", "region", "records"}
    record = event["records"][0]
    assert record["data"] == base64.b64encode(b"hi").decode()
    assert record["approximateArrivalTimestamp"] == 1795631461427
    assert record["kinesisRecordMetadata"] == {"shardId": "shardId-000000000000", "partitionKey": "Shadowfax",
                                               "approximateArrivalTimestamp": 1795631461427, "sequenceNumber": "1",
                                               "subsequenceNumber": 0}


def test_response_outcomes() -> None:
    records = [source("1"), source("2"), source("3")]
    result = {"records": [
        {"recordId": "1", "result": "Ok", "data": base64.b64encode(b"x").decode(),
         "metadata": {"partitionKeys": {"dt": "2026-11-25"}}},
        {"recordId": "2", "result": "Dropped", "data": ""},
        {"recordId": "3", "result": "ProcessingFailed", "data": "", "errorMessage": "missing field 'Name'"},
    ]}
    ok, dropped, failed = processor.interpret(records, result, "arn:fn", attempts=1)
    assert ok.data == b"x" and ok.keys == {("partitionKeyFromLambda", "dt"): "2026-11-25"}
    assert dropped.dropped
    assert failed.failure is not None and failed.failure.output_type == PROCESSING_FAILED
    assert failed.failure.code == "Lambda.ProcessingFailedStatus"
    assert failed.failure.message == "missing field 'Name'"


@pytest.mark.parametrize(("result", "code"), [
    ({"records": [{"recordId": "1", "result": "Ok", "data": ""}]}, "Lambda.MissingRecordId"),
    ({"records": [{"recordId": "1", "result": "Ok", "data": ""}, {"recordId": "1", "result": "Ok", "data": ""}]},
     "Lambda.DuplicatedRecordId"),
    ({"records": [{"recordId": "1", "result": "Maybe", "data": ""}, {"recordId": "2", "result": "Ok", "data": ""}]},
     "Lambda.InvalidReturnFormat"),
    ({"nope": []}, "Lambda.JsonProcessingException"),
])
def test_invalid_responses_fail_the_invocation(result: dict[str, Any], code: str) -> None:
    with pytest.raises(processor.InvalidResponse) as raised:
        processor.interpret([source("1"), source("2")], result, "arn:fn", attempts=1)
    assert raised.value.code == code


# ---- buffers and checkpoint progress --------------------------------------------------------------------
def test_the_checkpoint_only_passes_records_that_are_in_s3(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "c.sqlite")
    progress = ShardProgress("stream", "shard-0", store)
    buffers = BufferSet(size_bytes=10**9, interval_s=60)
    first = progress.open_chunk("100")  # records 1..100 → partitions A and B
    for _ in range(3):
        buffers.add(("", (("p", "k", "A"),)), "row", 1, 0, first)
    buffers.add(("", (("p", "k", "B"),)), "row", 1, 0, first)
    progress.seal(first)
    second = progress.open_chunk("200")  # records 101..200 → partition A only
    buffers.add(("", (("p", "k", "A"),)), "row", 1, 0, second)
    progress.seal(second)
    assert store.load("stream", "shard-0").sequence_number is None

    due = {b.key[1][0][2]: b for b in buffers.due(now=10**12)}
    resolve_all(due["A"].chunks)  # A written: still a record of the first chunk in B
    assert store.load("stream", "shard-0").sequence_number is None
    resolve_all(due["B"].chunks)  # B written: everything up to 200 is in S3
    assert store.load("stream", "shard-0").sequence_number == "200"

    empty = progress.open_chunk("300")  # a chunk of dropped records only
    progress.seal(empty)
    assert store.load("stream", "shard-0").sequence_number == "300"
    progress.end_of_shard()
    assert store.load("stream", "shard-0").finished


def test_buffers_flush_on_size_and_interval(tmp_path: Path) -> None:
    progress = ShardProgress("s", "0", CheckpointStore(tmp_path / "c.sqlite"))
    chunk = progress.open_chunk("1")
    buffers = BufferSet(size_bytes=100, interval_s=5)
    assert buffers.add(("", ()), b"x", 60, 1, chunk) is None
    full = buffers.add(("", ()), b"y", 60, 2, chunk)
    assert full is not None and full.items == [b"x", b"y"] and full.oldest_arrival_ms == 1
    buffers.add(("", ()), b"z", 10, 3, chunk)
    assert buffers.due() == []
    assert len(buffers.due(now=10**12)) == 1


def test_converted_rows_are_cut_into_buffers_as_record_by_record_adds_would(tmp_path: Path) -> None:
    progress = ShardProgress("s", "0", CheckpointStore(tmp_path / "c.sqlite"))
    chunk = progress.open_chunk("1")
    buffers = BufferSet(size_bytes=100, interval_s=5)
    table = pa.table({"n": list(range(6))})
    full = buffers.add_rows(("", ()), table, [30, 30, 50, 10, 90, 5], [6, 5, 4, 3, 2, 1], chunk)
    assert [(b.count, b.size, b.oldest_arrival_ms) for b in full] == [(3, 110, 4), (2, 100, 2)]
    assert [pa.concat_tables(b.segments).column("n").to_pylist() for b in full] == [[0, 1, 2], [3, 4]]
    assert chunk.outstanding == 6 and full[0].chunks == {chunk: 3}
    (rest,) = buffers.due(now=10**12)
    assert (rest.count, rest.size, rest.segments[0].column("n").to_pylist()) == (1, 5, [5])
    assert buffers.stats() == (0, 0, 0)


# ---- configuration -------------------------------------------------------------------------------------
def description(**s3: Any) -> dict[str, Any]:
    destination = {
        "BucketARN": "arn:aws:s3:::archive",
        "Prefix": ARCHIVE_PREFIX,
        "ErrorOutputPrefix": ERROR_PREFIX,
        "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
        "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
            {"ParameterName": "LambdaArn", "ParameterValue": "arn:aws:lambda:us-east-1:1:function:fn"},
            {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "60"},
            {"ParameterName": "NumberOfRetries", "ParameterValue": "3"}]}]},
        "DynamicPartitioningConfiguration": {"Enabled": True},
        "DataFormatConversionConfiguration": {
            "Enabled": True,
            "SchemaConfiguration": {"DatabaseName": "wildrydes", "TableName": "unicorn_status", "VersionId": "LATEST"},
            "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {"CaseInsensitive": True}}},
            "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}}},
        **s3,
    }
    return {
        "DeliveryStreamName": "wildrydes-archive",
        "DeliveryStreamARN": "arn:aws:firehose:us-east-1:123456789012:deliverystream/wildrydes-archive",
        "DeliveryStreamType": "KinesisStreamAsSource",
        "VersionId": "2",
        "CreateTimestamp": datetime(2026, 11, 25, tzinfo=UTC),
        "Source": {"KinesisStreamSourceDescription": {
            "KinesisStreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes"}},
        "Destinations": [{"DestinationId": "destinationId-000000000001",
                          "ExtendedS3DestinationDescription": destination}],
    }


def test_config_from_a_moto_description() -> None:
    config = StreamConfig.from_description(description())
    assert (config.bucket, config.source_stream_name, config.version) == ("archive", "wildrydes", "2")
    assert (config.buffer_bytes, config.buffer_interval_s) == (64 * 1024 * 1024, 60.0)
    assert config.processor is not None and config.processor.function_name == "fn"
    assert (config.processor.buffer_bytes, config.processor.retries) == (1024 * 1024, 3)
    assert config.conversion is not None and config.conversion.table == "unicorn_status"
    assert config.dynamic_partitioning


def test_streams_the_runtime_does_not_execute() -> None:
    with pytest.raises(UnsupportedStream):
        StreamConfig.from_description({**description(), "DeliveryStreamType": "DirectPut"})
    orc = description(DataFormatConversionConfiguration={
        "Enabled": True, "SchemaConfiguration": {"DatabaseName": "d", "TableName": "t"},
        "OutputFormatConfiguration": {"Serializer": {"OrcSerDe": {}}}})
    with pytest.raises(UnsupportedStream, match="ORC"):
        StreamConfig.from_description(orc)
    with pytest.raises(prefixes.PrefixError):
        StreamConfig.from_description(description(DynamicPartitioningConfiguration={"Enabled": False}))


def test_metadata_extraction_query() -> None:
    entries = query.compile_query('{customer: .customer.id, "day": .["event day"]}')
    assert query.extract(entries, {"customer": {"id": 7}, "event day": "mon"}) == {
        ("partitionKeyFromQuery", "customer"): "7", ("partitionKeyFromQuery", "day"): "mon"}
    with pytest.raises(query.QueryError):
        query.extract(entries, {"customer": {}})
    with pytest.raises(query.QueryError):
        query.compile_query(".customer | tostring")


# ---- processor retries, routing and writing (stubs for the function and S3) -----------------------------
class StubInvoker:
    """Answers invocations from a list: an Invocation each, the last one repeated."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.events: list[dict[str, Any]] = []
        self.config = type("Config", (), {"name": "fn"})()

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def lambda_processor(invoker: StubInvoker, retries: int = 3) -> processor.LambdaProcessor:
    return processor.LambdaProcessor(invoker, lambda_arn="arn:fn", retries=retries,  # type: ignore[arg-type]
                                     delivery_stream_arn="arn:fh", source_stream_arn="arn:ks", region="us-east-1",
                                     stop=threading.Event())


def test_a_failing_function_is_retried_then_its_batch_goes_to_processing_failed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processor, "MAX_BACKOFF_S", 0.0)
    invoker = StubInvoker(Invocation(False, error_type="Runtime.ImportModuleError", error_message="No module"))
    outcomes = lambda_processor(invoker, retries=2).process([source("1"), source("2")])
    assert outcomes is not None and len(invoker.events) == 3  # the call and NumberOfRetries retries
    for outcome in outcomes:
        assert outcome.failure is not None
        assert (outcome.failure.output_type, outcome.failure.code, outcome.failure.attempts) == \
            (PROCESSING_FAILED, "Lambda.FunctionError", 3)
        assert "Runtime.ImportModuleError: No module" in outcome.failure.message


def test_a_retry_that_succeeds_delivers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processor, "MAX_BACKOFF_S", 0.0)
    ok = Invocation(True, result={"records": [{"recordId": "1", "result": "Ok", "data": "eA=="}]})
    invoker = StubInvoker(Invocation(False, error_type="Sandbox.Timedout", error_message="Task timed out"), ok)
    outcomes = lambda_processor(invoker).process([source("1")])
    assert outcomes is not None and outcomes[0].data == b"x" and len(invoker.events) == 2


def stream_config(**s3: Any) -> StreamConfig:
    return StreamConfig.from_description(description(**s3))


def route(config: StreamConfig, outcomes: list[Outcome], tmp_path: Path) -> tuple[BufferSet, ShardProgress]:
    buffers = BufferSet(10**9, 60)
    progress = ShardProgress("s", "0", CheckpointStore(tmp_path / "c.sqlite"))
    router = Router(config, buffers, converter(), StreamStats("s", "1", "src"))
    chunk = progress.open_chunk("9")
    assert router.route(outcomes, chunk) == []
    progress.seal(chunk)
    return buffers, progress


def test_routing_by_partition_keys_and_to_error_outputs(tmp_path: Path) -> None:
    keys = {("partitionKeyFromLambda", "dt"): "2026-11-25", ("partitionKeyFromLambda", "hour"): "18"}
    outcomes = [
        Outcome(source("1"), data=RECORD, keys=keys),
        Outcome(source("2"), data=b'{"Distance": "far"}', keys=keys),  # does not fit the schema
        Outcome(source("3"), data=RECORD, keys={("partitionKeyFromLambda", "dt"): "2026-11-25"}),  # no hour
        Outcome(source("4"), dropped=True),
    ]
    buffers, progress = route(stream_config(), outcomes, tmp_path)
    by_type = {b.output_type: b for b in buffers.due(now=10**12)}
    assert set(by_type) == {"", "format-conversion-failed", "processing-failed"}
    assert by_type[""].partition_keys == keys
    conversion = json.loads(by_type["format-conversion-failed"].items[0])
    assert conversion["ErrorCode"] == "DataFormatConversion.MalformedData"
    assert "column 'distance'" in conversion["ErrorMessage"]
    assert base64.b64decode(conversion["rawData"]) == b'{"Distance": "far"}'
    assert conversion["dataCatalogTable"]["tableName"] == "unicorn_status"
    missing = json.loads(by_type["processing-failed"].items[0])
    assert missing["errorCode"] == "DynamicPartitioning.MetadataExtractionFailed"
    assert "'hour'" in missing["errorMessage"]
    assert progress.sequence_number is None  # three records are still only in buffers


class StubS3:
    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.objects: dict[str, bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> None:  # noqa: N803 - boto3's names
        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "InternalError", "Message": "try again"}}, "PutObject")
        self.objects[f"{Bucket}/{Key}"] = Body


def test_objects_are_written_before_the_checkpoint_moves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "MAX_BACKOFF_S", 0.0)
    config = stream_config()
    keys = {("partitionKeyFromLambda", "dt"): "2026-11-25", ("partitionKeyFromLambda", "hour"): "18"}
    buffers, progress = route(config, [Outcome(source("1"), data=RECORD, keys=keys),
                                       Outcome(source("2"), data=b"[]", keys=keys)], tmp_path)
    s3 = StubS3(failures=2)
    writer = ObjectWriter(config, s3, StreamStats("s", "1", "src"), threading.Event(), converter())
    for buffer in sorted(buffers.due(now=10**12), key=lambda b: b.output_type):
        writer.write(buffer)
    assert progress.sequence_number == "9"
    error_key, data_key = sorted(s3.objects)
    assert re.fullmatch(r"archive/raw/dt=2026-11-25/hour=18/wildrydes-archive-2-2026-11-25-18-31-01-[0-9a-f-]{36}",
                        data_key)
    assert pq.read_table(io.BytesIO(s3.objects[data_key])).num_rows == 1
    assert error_key.startswith("archive/errors/format-conversion-failed/dt=2026-11-25/hour=18/wildrydes-archive-2-")
    assert json.loads(s3.objects[error_key])["ErrorMessage"] == "the record is a JSON array, not an object"


def test_without_conversion_the_buffer_holds_the_records_and_the_object_is_them(tmp_path: Path) -> None:
    config = stream_config(DataFormatConversionConfiguration={"Enabled": False}, CompressionFormat="GZIP")
    keys = {("partitionKeyFromLambda", "dt"): "2026-11-25", ("partitionKeyFromLambda", "hour"): "18"}
    buffers = BufferSet(10**9, 60)
    progress = ShardProgress("s", "0", CheckpointStore(tmp_path / "c.sqlite"))
    chunk = progress.open_chunk("9")
    Router(config, buffers, None, StreamStats("s", "1", "src")).route(
        [Outcome(source("1"), data=b'{"a":1}', keys=keys), Outcome(source("2"), data=b'{"a":2}', keys=keys)], chunk)
    progress.seal(chunk)
    (buffer,) = buffers.due(now=10**12)
    assert (buffer.items, buffer.segments, buffer.count) == ([b'{"a":1}', b'{"a":2}'], [], 2)
    s3 = StubS3()
    ObjectWriter(config, s3, StreamStats("s", "1", "src"), threading.Event(), None).write(buffer)
    (key,) = s3.objects
    assert key.endswith(".gz") and gzip.decompress(s3.objects[key]) == b'{"a":1}{"a":2}'
    assert progress.sequence_number == "9"


def test_a_row_arrow_refuses_goes_to_the_error_output_when_routed(tmp_path: Path) -> None:
    config = stream_config()
    keys = {("partitionKeyFromLambda", "dt"): "2026-11-25", ("partitionKeyFromLambda", "hour"): "18"}
    too_late = RECORD.replace(b'"2026-11-25 18:21:01.512"', b"1" + b"0" * 30)  # converts; no int64 holds it
    assert converter().convert(too_late)[7] == 10**33
    buffers, progress = route(config, [Outcome(source("1"), data=RECORD, keys=keys),
                                       Outcome(source("2"), data=too_late, keys=keys),
                                       Outcome(source("3"), data=RECORD, keys=keys)], tmp_path)
    data, error = sorted(buffers.due(now=10**12), key=lambda b: b.output_type)
    assert (data.count, data.items, data.size) == (2, [], 2 * len(RECORD))  # Arrow rows, sized by the input
    assert all(isinstance(segment, pa.Table) for segment in data.segments)
    (line,) = error.items
    document = json.loads(line)
    assert (document["ErrorCode"], document["sequenceNumber"]) == ("DataFormatConversion.MalformedData", "2")
    assert "too large" in document["ErrorMessage"] and base64.b64decode(document["rawData"]) == too_late
    s3 = StubS3()
    writer = ObjectWriter(config, s3, StreamStats("s", "1", "src"), threading.Event(), converter())
    writer.write(data)
    assert progress.sequence_number is None  # the bad record's error object is not written yet
    writer.write(error)
    assert progress.sequence_number == "9"
    data_key = next(k for k in s3.objects if "/raw/" in k)
    assert pq.read_table(io.BytesIO(s3.objects[data_key])).column("sequencenumber").to_pylist() == ["4968"] * 2


def test_children_shards_start_only_after_their_parents_are_delivered(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    shards = [{"ShardId": "shardId-000000000000"},
              {"ShardId": "shardId-000000000001", "ParentShardId": "shardId-000000000000"},
              {"ShardId": "shardId-000000000002", "ParentShardId": "shardId-000000000000"},
              {"ShardId": "shardId-000000000003", "ParentShardId": "shardId-000000000009"}]  # parent trimmed away
    kinesis = type("Kinesis", (), {"list_shards": lambda self, StreamName: {"Shards": shards}})()  # noqa: N803
    clients = type("Clients", (), {"kinesis": kinesis, "s3": StubS3()})()
    config = stream_config()
    store = CheckpointStore(tmp_path / "c.sqlite")
    stream = DeliveryStream(Deployment(config, None, tuple(Column(n, parse_type(t)) for n, t in RAW_COLUMNS)),
                            store, clients)  # type: ignore[arg-type]
    started: list[str] = []
    monkeypatch.setattr(stream, "_start_shard", lambda shard_id: started.append(shard_id) or
                        stream.shards.__setitem__(shard_id, (None, None, ShardProgress(config.key, shard_id, store))))
    stream._start_ready_shards()
    assert started == ["shardId-000000000000", "shardId-000000000003"]
    store.save(Checkpoint(config.key, "shardId-000000000000", "42", finished=True))
    stream.shards["shardId-000000000000"][2].finished = True
    stream._start_ready_shards()
    assert started[2:] == ["shardId-000000000001", "shardId-000000000002"]


def test_shard_lag_counts_records_read_until_they_are_in_s3() -> None:

    stats = ShardStats()
    assert stats.lag_ms(now_ms=50_000) == 0
    stats.page_read("100", oldest_arrival_ms=10_000)
    stats.page_read("200", oldest_arrival_ms=20_000)
    assert stats.lag_ms(now_ms=50_000) == 40_000  # read, still buffered: behind by the oldest
    stats.checkpoint = "100"
    assert stats.lag_ms(now_ms=50_000) == 30_000
    stats.checkpoint = "200"
    stats.millis_behind = 1_500
    assert stats.lag_ms(now_ms=50_000) == 1_500  # all delivered: the reader's own distance to the tip
