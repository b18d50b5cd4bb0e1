"""Routes processed records into the delivery stream's buffers.

An ``Ok`` record gets its dynamic partition keys (from the Lambda's ``metadata.partitionKeys`` and the
MetadataExtraction query) and, with format conversion, is converted to a row of the Glue schema here,
so a record that does not fit goes to the ``format-conversion-failed`` error buffer on its own.
Failed records go to their error buffer as Firehose's error document; dropped ones go nowhere.

With conversion, the records of one routed batch are turned into an Arrow table per partition right away:
the whole partition in one go when ``BatchConverter`` can (batch_convert.py), else record by record (a row
Arrow still refuses goes to the error output then, not at flush). The data buffers hold those tables;
without conversion they hold the records' bytes. Error buffer items are error-document
lines. Buffer sizes count the incoming (transformed) bytes.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from localaws.firehose import prefixes, query
from localaws.firehose.batch_convert import BatchConverter, enabled
from localaws.firehose.buffers import Buffer, BufferKey, BufferSet
from localaws.firehose.config import StreamConfig
from localaws.firehose.convert import ConversionError, RowConverter
from localaws.firehose.progress import Chunk
from localaws.firehose.records import (
    DATA_OUTPUT,
    FORMAT_CONVERSION_FAILED,
    PROCESSING_FAILED,
    Failure,
    Outcome,
    SourceRecord,
)
from localaws.firehose.stats import StreamStats
from localaws.firehose.writer import error_line

log = logging.getLogger("wildrydes.firehose")
PARTITION_KEY_CODE = "DynamicPartitioning.MetadataExtractionFailed"
CONVERSION_CODE = "DataFormatConversion.MalformedData"
# What building an Arrow array from converted values can raise (pa.ArrowInvalid is a ValueError).
ARROW_ERRORS = (ValueError, TypeError, OverflowError, ArithmeticError)


@dataclass
class _Rows:
    """The records of one partition in the batch being routed, with their rows once converted one by one."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    sources: list[SourceRecord] = field(default_factory=list)
    data: list[bytes] = field(default_factory=list)

    def add(self, row: tuple[Any, ...] | None, source: SourceRecord, data: bytes) -> None:
        if row is not None:
            self.rows.append(row)
        self.sources.append(source)
        self.data.append(data)

    @property
    def converted(self) -> bool:
        return len(self.rows) == len(self.sources)


class Router:
    def __init__(self, config: StreamConfig, buffers: BufferSet, converter: RowConverter | None,
                 stats: StreamStats) -> None:
        self.config = config
        self.buffers = buffers
        self.converter = converter
        self.batch = BatchConverter(converter) if converter is not None and enabled() else None
        self.stats = stats
        self.needed_keys = prefixes.partition_keys(config.prefix)
        self.query = query.compile_query(config.metadata_query) if config.metadata_query else None

    def route(self, outcomes: list[Outcome], chunk: Chunk) -> list[Buffer]:
        """Puts every outcome where it belongs; returns the buffers that became full."""
        full: list[Buffer] = []
        pending: dict[BufferKey, _Rows] = {}
        dropped = 0
        for outcome in outcomes:
            if outcome.dropped:
                dropped += 1
                continue
            buffer = self._route_one(outcome, chunk, pending)
            if buffer is not None:
                full.append(buffer)
        for key, rows in pending.items():
            full.extend(self._add_rows(key, rows, chunk))
        if dropped:
            self.stats.add_dropped(dropped)
        return full

    def _route_one(self, outcome: Outcome, chunk: Chunk, pending: dict[BufferKey, _Rows]) -> Buffer | None:
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
            return self.buffers.add(key, data, len(data), source.arrival_ms, chunk)
        row = None
        if self.batch is None or not self.batch.eligible:  # else the partition is converted as a whole in _add_rows
            try:
                row = self.converter.convert(data)
            except ConversionError as error:
                return self._error(source, data, Failure(FORMAT_CONVERSION_FAILED, CONVERSION_CODE, str(error)),
                                   chunk)
        rows = pending.get(key)
        if rows is None:
            rows = pending[key] = _Rows()
        rows.add(row, source, data)
        return None

    def _convert_each(self, rows: _Rows, chunk: Chunk, full: list[Buffer]) -> _Rows:
        """Rows of the records converted one by one; a record that does not fit goes to the error output."""
        assert self.converter is not None
        converted = _Rows()
        for source, data in zip(rows.sources, rows.data, strict=True):
            try:
                converted.add(self.converter.convert(data), source, data)
            except ConversionError as error:
                failure = Failure(FORMAT_CONVERSION_FAILED, CONVERSION_CODE, str(error))
                buffer = self._error(source, data, failure, chunk)
                if buffer is not None:
                    full.append(buffer)
        return converted

    def _add_rows(self, key: BufferKey, rows: _Rows, chunk: Chunk) -> list[Buffer]:
        """The batch's rows of one partition into its buffer as one Arrow table; rows Arrow refuses
        (one at a time, when the whole table cannot be built) go to the error output instead."""
        assert self.converter is not None
        full: list[Buffer] = []
        table = None if rows.converted or self.batch is None else self.batch.table(rows.data)
        if table is not None:
            return self._buffer(key, table, rows, chunk, full)
        if not rows.converted:
            rows = self._convert_each(rows, chunk, full)
            if not rows.rows:
                return full
        try:
            table = self.converter.table(rows.rows)
        except ARROW_ERRORS as error:
            good = _Rows()
            for row, source, data in zip(rows.rows, rows.sources, rows.data, strict=True):
                try:
                    self.converter.table([row])
                except ARROW_ERRORS as row_error:
                    failure = Failure(FORMAT_CONVERSION_FAILED, CONVERSION_CODE, str(row_error))
                    buffer = self._error(source, data, failure, chunk)
                    if buffer is not None:
                        full.append(buffer)
                    continue
                good.add(row, source, data)
            log.warning("stream=%s %d of %d records failed Parquet conversion (%s)", self.config.name,
                        len(rows.rows) - len(good.rows), len(rows.rows), error)
            if not good.rows:
                return full
            rows, table = good, self.converter.table(good.rows)
        return self._buffer(key, table, rows, chunk, full)

    def _buffer(self, key: BufferKey, table: Any, rows: _Rows, chunk: Chunk, full: list[Buffer]) -> list[Buffer]:
        sizes = [len(data) for data in rows.data]
        arrivals = [source.arrival_ms for source in rows.sources]
        full.extend(self.buffers.add_rows(key, table, sizes, arrivals, chunk))
        return full

    def _partition(self, outcome: Outcome, data: bytes) -> BufferKey:
        if not self.needed_keys:
            return (DATA_OUTPUT, ())
        keys = outcome.keys
        if self.query is not None:
            try:
                document = json.loads(data)
            except ValueError as error:
                raise query.QueryError(f"the record is not JSON, partition keys cannot be extracted: {error}") \
                    from None
            keys = {**keys, **query.extract(self.query, document)}
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
