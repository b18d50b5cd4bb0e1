"""A whole partition's JSON records → one Arrow table in C++ (pyarrow.json), when that is exactly what
converting them one by one (``RowConverter``) gives; otherwise ``None`` and the caller converts record by
record, so error outputs and their reasons stay those of ``RowConverter``.

The fast path takes a batch only when every check below holds, and each check is a case where Arrow and the
OpenX SerDe could disagree:

- the OpenX SerDe without dot conversion; columns of type string, double, the integers or timestamp only;
- valid UTF-8 (Arrow's JSON reader does not check it); one record per line, each an object (``{`` first,
  no newline but a final one), and as many rows as records (so a line holding two objects cannot pass);
- the keys of the first record name distinct columns (case-insensitively, as ``RowConverter`` plans them);
  Arrow refuses any other key, a key given twice, and any value whose JSON type differs from the column's
  (a number for a string, ``1.0`` or ``"12"`` for an int, an int out of range…): the SerDe would convert or
  refuse those one by one;
- timestamps exactly ``YYYY-MM-DD HH:MM:SS.fff`` (what the archive's transform writes) that name a real
  time: Arrow's strptime rolls ``02-30`` over to March, so the parsed seconds are formatted back and compared.

``WILDRYDES_FIREHOSE_BATCH=0`` turns it off: record by record only, the baseline for side-by-side runs.
"""

from __future__ import annotations

import io
import json
import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from localaws.firehose.convert import INT_RANGES, RowConverter

SWITCH = "WILDRYDES_FIREHOSE_BATCH"
_READ_TYPES = {"string": pa.string(), "double": pa.float64(), "timestamp": pa.string(),
               **{name: getattr(pa, f"int{bits}")() for name, bits in INT_RANGES.items()}}
_CANONICAL_TIMESTAMP = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}$"


def enabled() -> bool:
    return os.environ.get(SWITCH, "1") != "0"


class BatchConverter:
    def __init__(self, converter: RowConverter) -> None:
        self.converter = converter
        options = converter.options
        self.eligible = (options.kind == "openx" and not options.dots_to_underscores
                         and all(c.hive.name in _READ_TYPES for c in converter.columns))

    def table(self, datas: list[bytes]) -> pa.Table | None:
        """The records' table, or None when the batch must be converted record by record."""
        if not self.eligible or not datas:
            return None
        lines = [d if d[-1:] == b"\n" else d + b"\n" for d in datas]
        if not all(line[:1] == b"{" for line in lines):
            return None
        joined = b"".join(lines)
        if joined.count(b"\n") != len(lines):
            return None
        try:
            joined.decode("utf-8")  # Arrow's reader does not check it; json.loads refuses invalid UTF-8
        except UnicodeDecodeError:
            return None
        read_schema = self._read_schema(lines[0])
        if read_schema is None:
            return None
        try:
            read = pa_json.read_json(
                io.BytesIO(joined), read_options=pa_json.ReadOptions(use_threads=False, block_size=len(joined) + 1),
                parse_options=pa_json.ParseOptions(explicit_schema=read_schema, unexpected_field_behavior="error"))
            if read.num_rows != len(lines):
                return None
            return self._typed(read)
        except (pa.ArrowException, ValueError):
            return None

    def _read_schema(self, first: bytes) -> pa.Schema | None:
        """Arrow types for the first record's keys, or None if a key names no column or a column twice."""
        try:
            document = json.loads(first)
        except ValueError:
            return None
        if type(document) is not dict:
            return None
        keys = tuple(document)
        by_key = {key: column for (column, key, _), column in
                  zip(self.converter.plan(keys), self.converter.columns, strict=True) if key is not None}
        if len(by_key) != len(keys):
            return None
        return pa.schema([(key, _READ_TYPES[by_key[key].hive.name]) for key in keys])

    def _typed(self, read: pa.Table) -> pa.Table | None:
        plan = self.converter.plan(tuple(read.column_names))
        arrays = []
        for (_, key, _), field, column in zip(plan, self.converter.schema, self.converter.columns, strict=True):
            if key is None:
                arrays.append(pa.nulls(read.num_rows, field.type))
                continue
            values = read.column(key).combine_chunks()
            if column.hive.name == "timestamp":
                values = _timestamps(values)
                if values is None:
                    return None
            arrays.append(values.cast(field.type))
        return pa.Table.from_arrays(arrays, schema=self.converter.schema)


def _timestamps(text: pa.Array) -> pa.Array | None:
    """Microseconds since the epoch of canonical timestamp strings; None if any is not one or not a real time."""
    if text.null_count == len(text):
        return pa.nulls(len(text), pa.int64())
    if not pc.all(pc.match_substring_regex(text, _CANONICAL_TIMESTAMP)).as_py():
        return None
    whole = pc.utf8_slice_codeunits(text, 0, 19)
    seconds = pc.strptime(whole, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=False)
    if not pc.all(pc.equal(pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S"), whole)).as_py():
        return None
    millis = pc.cast(pc.utf8_slice_codeunits(text, 20, 23), pa.int64())
    return pc.add(pc.multiply(pc.cast(seconds, pa.int64()), 1_000_000), pc.multiply(millis, 1000))
