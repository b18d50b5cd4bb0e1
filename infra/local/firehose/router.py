"""Routes processed records into the delivery stream's buffers.

An ``Ok`` record gets its dynamic partition keys (from the Lambda's ``metadata.partitionKeys`` and the
MetadataExtraction query) and, with format conversion, is converted to a row of the Glue schema here,
so a record that does not fit goes to the ``format-conversion-failed`` error buffer on its own.
Failed records go to their error buffer as Firehose's error document; dropped ones go nowhere.

Data buffer items are ``(source, row, data)`` with conversion, ``(source, data)`` without; error
buffer items are error-document lines. Buffer sizes count the incoming (transformed) bytes.
"""

from __future__ import annotations

import json
import time

from infra.local.firehose import prefixes, query
from infra.local.firehose.buffers import Buffer, BufferKey, BufferSet
from infra.local.firehose.config import StreamConfig
from infra.local.firehose.convert import ConversionError, RowConverter
from infra.local.firehose.progress import Chunk
from infra.local.firehose.records import (
    DATA_OUTPUT,
    FORMAT_CONVERSION_FAILED,
    PROCESSING_FAILED,
    Failure,
    Outcome,
    SourceRecord,
)
from infra.local.firehose.stats import StreamStats
from infra.local.firehose.writer import error_line

PARTITION_KEY_CODE = "DynamicPartitioning.MetadataExtractionFailed"
CONVERSION_CODE = "DataFormatConversion.MalformedData"


class Router:
    def __init__(self, config: StreamConfig, buffers: BufferSet, converter: RowConverter | None,
                 stats: StreamStats) -> None:
        self.config = config
        self.buffers = buffers
        self.converter = converter
        self.stats = stats
        self.needed_keys = prefixes.partition_keys(config.prefix)
        self.query = query.compile_query(config.metadata_query) if config.metadata_query else None

    def route(self, outcomes: list[Outcome], chunk: Chunk) -> list[Buffer]:
        """Puts every outcome where it belongs; returns the buffers that became full."""
        full: list[Buffer] = []
        dropped = 0
        for outcome in outcomes:
            if outcome.dropped:
                dropped += 1
                continue
            buffer = self._route_one(outcome, chunk)
            if buffer is not None:
                full.append(buffer)
        if dropped:
            self.stats.add_dropped(dropped)
        return full

    def route_failures(self, failures: list[tuple[SourceRecord, bytes, Failure, Chunk]]) -> list[Buffer]:
        full = []
        for source, raw, failure, chunk in failures:
            buffer = self._error(source, raw, failure, chunk)
            if buffer is not None:
                full.append(buffer)
        return full

    def _route_one(self, outcome: Outcome, chunk: Chunk) -> Buffer | None:
        source = outcome.source
        if outcome.failure is not None:
            return self._error(source, source.data, outcome.failure, chunk)
        data = outcome.data if outcome.data is not None else source.data
        if self.config.append_delimiter and self.converter is None:
            data += b"\n"
        try:
            key = self._partition(outcome, data)
        except (query.QueryError, ValueError) as error:
            return self._error(source, source.data, Failure(PROCESSING_FAILED, PARTITION_KEY_CODE, str(error)), chunk)
        if self.converter is None:
            return self.buffers.add(key, (source, data), len(data), source.arrival_ms, chunk)
        try:
            row = self.converter.convert(data)
        except ConversionError as error:
            return self._error(source, data, Failure(FORMAT_CONVERSION_FAILED, CONVERSION_CODE, str(error)), chunk)
        return self.buffers.add(key, (source, row, data), len(data), source.arrival_ms, chunk)

    def _partition(self, outcome: Outcome, data: bytes) -> BufferKey:
        if not self.needed_keys:
            return (DATA_OUTPUT, ())
        keys = dict(outcome.keys)
        if self.query is not None:
            try:
                document = json.loads(data)
            except ValueError as error:
                raise query.QueryError(f"the record is not JSON, partition keys cannot be extracted: {error}") \
                    from None
            keys.update(query.extract(self.query, document))
        values = []
        for namespace, name in self.needed_keys:
            value = keys.get((namespace, name))
            if value is None or value == "":
                raise ValueError(f"partitionKeys values must not be null or empty: {name!r} ({namespace})")
            values.append((namespace, name, str(value)))
        return (DATA_OUTPUT, tuple(values))

    def _error(self, source: SourceRecord, raw: bytes, failure: Failure, chunk: Chunk) -> Buffer | None:
        if not failure.ending_ms:
            failure.ending_ms = int(time.time() * 1000)
        line = error_line(source, raw, failure, self.config)
        return self.buffers.add((failure.output_type, ()), line, len(raw), source.arrival_ms, chunk)
