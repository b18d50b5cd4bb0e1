"""Writes flushed buffers to S3 as Firehose objects and only then releases their records' checkpoint.

One writer thread per delivery stream takes detached buffers from a bounded queue (back-pressure on
the shard readers), renders the object key, builds the body (Parquet with the Glue schema, the
records themselves, or error-document lines), puts it, logs one line, and resolves the records'
chunks. A failing put is retried until it succeeds or the process stops (Firehose retries S3 for
up to 24 h); nothing is checkpointed before the object exists. Rows were converted to Arrow when
routed (a record Arrow refuses went to the error output then), so a Parquet body only concatenates
the buffer's segments: nothing fails per record here.
"""

from __future__ import annotations

import gzip
import json
import logging
import queue
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from botocore.exceptions import BotoCoreError, ClientError

from localaws.cloudwatch_logs import LogShipper
from localaws.firehose import error_docs, prefixes
from localaws.firehose.buffers import Buffer
from localaws.firehose.config import StreamConfig
from localaws.firehose.convert import ParquetOptions, RowConverter, write_parquet
from localaws.firehose.progress import resolve_all
from localaws.firehose.records import DATA_OUTPUT, Failure, SourceRecord
from localaws.firehose.stats import StreamStats

log = logging.getLogger("wildrydes.firehose")
QUEUE_DEPTH = 4
MAX_BACKOFF_S = 10.0


class ObjectWriter:
    """Writes buffers to S3; with ``error_log`` (the stream's CloudWatch logging options) each error object and
    each failed write is also reported there, as Firehose reports delivery errors."""

    def __init__(self, config: StreamConfig, s3: Any, stats: StreamStats, stop: threading.Event,
                 converter: RowConverter | None, error_log: LogShipper | None = None) -> None:
        self.config = config
        self.s3 = s3
        self.error_log = error_log
        self.stats = stats
        self.stop = stop
        self.converter = converter
        self.parquet = ParquetOptions(config.conversion.serializer if config.conversion else None)
        self.zone = ZoneInfo(config.time_zone) if config.time_zone != "UTC" else None
        self.queue: queue.Queue[Buffer] = queue.Queue(QUEUE_DEPTH)
        self.thread = threading.Thread(target=self._run, name=f"writer-{config.name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def submit(self, buffer: Buffer) -> bool:
        """Queue a buffer for writing (blocks while the queue is full); False if stopping."""
        while not self.stop.is_set():
            try:
                self.queue.put(buffer, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                buffer = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.write(buffer)
            except Exception:  # never lose the thread: the records stay unchecked and are re-read on restart
                log.exception("stream=%s cannot write a buffer of %d records; they will be re-read after a restart",
                              self.config.name, buffer.count)

    # ---- building ------------------------------------------------------------------------------------
    def key_for(self, buffer: Buffer) -> str:
        moment = prefixes.moment_of(buffer.oldest_arrival_ms or int(time.time() * 1000))
        if self.zone is not None:
            moment = moment.astimezone(self.zone)
        if buffer.output_type == DATA_OUTPUT:
            evaluated = prefixes.render(self.config.prefix, moment=moment, keys=buffer.partition_keys)
            extension = self.config.file_extension or (".gz" if self._gzip_data else "")
        else:
            evaluated = prefixes.render(self.config.error_prefix, moment=moment,
                                        error_output_type=buffer.output_type)
            extension = ""
        return prefixes.object_key(evaluated, self.config.name, self.config.version, moment, extension)

    @property
    def _gzip_data(self) -> bool:
        return self.converter is None and self.config.compression == "GZIP"

    def body(self, buffer: Buffer) -> bytes:
        """The object's bytes: Parquet of the buffer's Arrow segments, the records themselves, or error lines."""
        if buffer.output_type != DATA_OUTPUT or self.converter is None:
            data = b"".join(buffer.items)
            return gzip.compress(data) if buffer.output_type == DATA_OUTPUT and self._gzip_data else data
        segments = buffer.segments
        table = segments[0] if len(segments) == 1 else pa.concat_tables(segments)
        return write_parquet(table, self.parquet)

    # ---- writing -------------------------------------------------------------------------------------
    def write(self, buffer: Buffer) -> None:
        count = buffer.count
        if count == 0:
            return
        body = self.body(buffer)
        key = self.key_for(buffer)
        attempt = 0
        while True:
            try:
                self.s3.put_object(Bucket=self.config.bucket, Key=key, Body=body)
                break
            except (ClientError, BotoCoreError) as error:
                attempt += 1
                self.stats.problem = f"S3 PutObject to {self.config.bucket} failing (retried): {error}"
                self._report_error(f"S3.{_code(error)}", str(error), 0)
                log.warning("stream=%s put s3://%s/%s failed (attempt %d): %s", self.config.name,
                            self.config.bucket, key, attempt, error)
                if self.stop.wait(min(MAX_BACKOFF_S, 0.5 * 2 ** attempt)):
                    return  # not written: not checkpointed, re-read after the restart
        if attempt:
            self.stats.problem = None
        resolve_all(buffer.chunks)
        kind = "object" if buffer.output_type == DATA_OUTPUT else f"error object ({buffer.output_type})"
        if buffer.output_type != DATA_OUTPUT:
            self._report_error(_ERROR_CODES.get(buffer.output_type, buffer.output_type),
                               f"{count} records written to s3://{self.config.bucket}/{key}", count)
        self.stats.written(buffer.output_type, count, len(body))
        log.info("stream=%s wrote %s s3://%s/%s records=%d bytes=%d", self.config.name, kind, self.config.bucket,
                 key, count, len(body))

    def _report_error(self, code: str, message: str, records: int) -> None:
        if self.error_log is not None:
            self.error_log.add(json.dumps({
                "deliveryStreamARN": self.config.arn, "destination": f"arn:aws:s3:::{self.config.bucket}",
                "deliveryStreamVersionId": self.config.version, "errorCode": code, "message": message,
                **({"records": records} if records else {})}))


def error_line(source: SourceRecord, raw: bytes, failure: Failure, config: StreamConfig) -> bytes:
    return error_docs.line(error_docs.document(source, failure, raw, int(time.time() * 1000), config.conversion))


_ERROR_CODES = {"processing-failed": "Lambda.ProcessingFailed", "format-conversion-failed":
                "DataFormatConversion.ConversionFailed"}


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(error).__name__)
