"""The configuration of one delivery stream, as the Firehose control plane (moto) describes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from localaws.firehose import prefixes

MIB = 1024 * 1024
DEFAULT_BUFFER_SIZE_MB = 5
DEFAULT_BUFFER_INTERVAL_S = 300
DEFAULT_PROCESSOR_SIZE_MB = 1.0
DEFAULT_PROCESSOR_INTERVAL_S = 60
DEFAULT_PROCESSOR_RETRIES = 3


class UnsupportedStream(ValueError):
    """A delivery stream this runtime does not execute (with the reason)."""


@dataclass(frozen=True)
class ProcessorConfig:
    """The Lambda processor of ProcessingConfiguration."""

    lambda_arn: str
    buffer_bytes: int
    buffer_interval_s: float
    retries: int

    @property
    def function_name(self) -> str:
        return self.lambda_arn.split(":function:", 1)[1].split(":")[0] if ":function:" in self.lambda_arn \
            else self.lambda_arn


@dataclass(frozen=True)
class ConversionConfig:
    """DataFormatConversionConfiguration (JSON → Parquet with a Glue table's schema)."""

    database: str
    table: str
    catalog_id: str
    region: str
    version_id: str
    deserializer: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    serializer: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class StreamConfig:
    name: str
    arn: str
    version: str
    source_stream_arn: str
    bucket: str
    prefix: str
    error_prefix: str
    buffer_bytes: int
    buffer_interval_s: float
    compression: str
    file_extension: str
    time_zone: str
    dynamic_partitioning: bool
    processor: ProcessorConfig | None
    metadata_query: str | None
    conversion: ConversionConfig | None
    append_delimiter: bool
    source_role_arn: str = ""  # the role Firehose reads the source stream with
    role_arn: str = ""  # the role it writes the destination (and reads the schema, invokes the processor) with
    error_log: tuple[str, str] | None = None  # CloudWatch Logs group and stream for delivery errors

    @property
    def key(self) -> str:
        """Checkpoints belong to the delivery stream and its source. (Not to its creation time: moto's
        journal replay after a kill re-creates the stream with a new timestamp, which must not restart
        the delivery from the trim horizon.)"""
        return f"{self.arn}|{self.source_stream_arn}"

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def source_stream_name(self) -> str:
        return self.source_stream_arn.split(":stream/", 1)[1]

    @classmethod
    def from_description(cls, description: dict[str, Any]) -> StreamConfig:
        name = description["DeliveryStreamName"]
        if description.get("DeliveryStreamType") != "KinesisStreamAsSource":
            raise UnsupportedStream(f"{name} is {description.get('DeliveryStreamType')}: moto delivers those itself")
        source = (description.get("Source") or {}).get("KinesisStreamSourceDescription") or {}
        destinations = description.get("Destinations") or []
        destination = destinations[0] if destinations else {}
        s3 = destination.get("ExtendedS3DestinationDescription") or destination.get("S3DestinationDescription")
        if not s3 or not source.get("KinesisStreamARN"):
            raise UnsupportedStream(f"{name} has no Kinesis source with an S3 destination")
        dynamic = bool((s3.get("DynamicPartitioningConfiguration") or {}).get("Enabled"))
        hints = s3.get("BufferingHints") or {}
        processor, query, delimiter = _processors(s3.get("ProcessingConfiguration") or {})
        prefix = prefixes.effective_prefix(s3.get("Prefix"), error=False)
        error_prefix = prefixes.effective_prefix(s3.get("ErrorOutputPrefix"), error=True)
        prefixes.validate(prefix, error_prefix=False, dynamic_partitioning=dynamic)
        prefixes.validate(error_prefix, error_prefix=True, dynamic_partitioning=dynamic)
        return cls(
            name=name,
            arn=description["DeliveryStreamARN"],
            version=str(description.get("VersionId") or "1"),
            source_stream_arn=source["KinesisStreamARN"],
            bucket=s3["BucketARN"].split(":::", 1)[1],
            prefix=prefix,
            error_prefix=error_prefix,
            buffer_bytes=int(float(hints.get("SizeInMBs", DEFAULT_BUFFER_SIZE_MB)) * MIB),
            buffer_interval_s=float(hints.get("IntervalInSeconds", DEFAULT_BUFFER_INTERVAL_S)),
            compression=str(s3.get("CompressionFormat") or "UNCOMPRESSED"),
            file_extension=str(s3.get("FileExtension") or ""),
            time_zone=str(s3.get("CustomTimeZone") or "UTC"),
            dynamic_partitioning=dynamic,
            processor=processor,
            metadata_query=query,
            conversion=_conversion(s3.get("DataFormatConversionConfiguration") or {}, description),
            append_delimiter=delimiter,
            source_role_arn=str(source.get("RoleARN") or ""),
            role_arn=str(s3.get("RoleARN") or ""),
            error_log=_error_log(s3.get("CloudWatchLoggingOptions") or {}),
        )


def _error_log(options: dict[str, Any]) -> tuple[str, str] | None:
    if not options.get("Enabled") or not options.get("LogGroupName") or not options.get("LogStreamName"):
        return None
    return str(options["LogGroupName"]), str(options["LogStreamName"])


def _parameters(processor: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterName"]: p["ParameterValue"] for p in processor.get("Parameters") or []}


def _processors(config: dict[str, Any]) -> tuple[ProcessorConfig | None, str | None, bool]:
    if not config.get("Enabled"):
        return None, None, False
    processor: ProcessorConfig | None = None
    query: str | None = None
    delimiter = False
    for item in config.get("Processors") or []:
        params = _parameters(item)
        kind = item.get("Type")
        if kind == "Lambda":
            processor = ProcessorConfig(
                lambda_arn=params["LambdaArn"],
                buffer_bytes=int(float(params.get("BufferSizeInMBs", DEFAULT_PROCESSOR_SIZE_MB)) * MIB),
                buffer_interval_s=float(params.get("BufferIntervalInSeconds", DEFAULT_PROCESSOR_INTERVAL_S)),
                retries=int(params.get("NumberOfRetries", DEFAULT_PROCESSOR_RETRIES)),
            )
        elif kind == "MetadataExtraction":
            query = params.get("MetadataExtractionQuery")
        elif kind == "AppendDelimiterToRecord":
            delimiter = True
        else:
            raise UnsupportedStream(f"processor type {kind} is not supported by the local runtime")
    return processor, query, delimiter


def _conversion(config: dict[str, Any], description: dict[str, Any]) -> ConversionConfig | None:
    if not config or config.get("Enabled") is False:
        return None
    schema = config.get("SchemaConfiguration") or {}
    if not schema.get("DatabaseName") or not schema.get("TableName"):
        raise UnsupportedStream("format conversion without a Glue database and table")
    output = (config.get("OutputFormatConfiguration") or {}).get("Serializer") or {}
    if "ParquetSerDe" not in output:
        raise UnsupportedStream("only Parquet output is supported by the local runtime (not ORC)")
    return ConversionConfig(
        database=schema["DatabaseName"],
        table=schema["TableName"],
        catalog_id=str(schema.get("CatalogId") or description["DeliveryStreamARN"].split(":")[4]),
        region=str(schema.get("Region") or description["DeliveryStreamARN"].split(":")[3]),
        version_id=str(schema.get("VersionId") or "LATEST"),
        deserializer=(config.get("InputFormatConfiguration") or {}).get("Deserializer") or {},
        serializer=output,
    )
