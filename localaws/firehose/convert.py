"""JSON records → typed rows → Parquet, as Firehose's record format conversion does.

Deserialization follows the OpenX JSON SerDe Firehose uses: keys matched case-insensitively (unless
``CaseInsensitive`` is false), ``ColumnToJsonKeyMappings``, ``ConvertDotsInJsonKeysToUnderscores``;
a missing key is null; strings holding numbers/booleans are parsed; a value that does not fit its
column (``"far"`` for a double, ``1.5`` for an int, an object for a timestamp…) makes the whole record
fail with a reason, and the record goes to the ``format-conversion-failed`` error output.

Timestamps accept ``yyyy-[M]M-[d]d HH:mm:ss[.fffffffff]`` (java.sql.Timestamp.valueOf), ISO-8601
``yyyy-MM-ddTHH:mm:ss[.f…][Z|±hh:mm]``, epoch seconds (numbers below 10^11, fractions allowed) and
epoch milliseconds (integers from 10^11), all as UTC wall time; with the Hive JSON SerDe its
``TimestampFormats`` (Joda patterns, or ``millis``) are tried first.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from localaws.firehose.schema import Column, HiveType, arrow_schema

INT_RANGES = {"tinyint": 8, "smallint": 16, "int": 32, "integer": 32, "bigint": 64}
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_EPOCH_TEXT = re.compile(r"-?\d+(\.\d+)?")  # a number of epoch seconds or milliseconds, as text
_EPOCH = datetime(1970, 1, 1)
_EPOCH_DATE = date(1970, 1, 1)
EPOCH_MILLIS_FROM = 10**11
_EXACT: dict[str, type] = {"string": str, "varchar": str, "char": str, "double": float, "boolean": bool}


class ConversionError(ValueError):
    """The record cannot be converted to the table's schema; the message says why."""


Converter = Callable[[Any], Any]


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _json_text(value: Any) -> str:
    """A JSON value as the text a string column receives (numbers and nested values as JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _to_int(bits: int) -> Converter:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise ConversionError(f"cannot convert boolean {value} to an integer")
        if isinstance(value, int):
            number = value
        elif isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:
                raise ConversionError(f"cannot parse {value!r} as an integer") from None
        elif isinstance(value, float):
            raise ConversionError(f"cannot convert {value!r} to an integer (it has a fraction or exponent)")
        else:
            raise ConversionError(f"cannot convert {_type_name(value)} to an integer")
        if not low <= number <= high:
            raise ConversionError(f"{number} is out of range for a {bits}-bit integer")
        return number
    return convert


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ConversionError(f"cannot convert boolean {value} to a floating-point number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ConversionError(f"cannot parse {value!r} as a floating-point number") from None
    raise ConversionError(f"cannot convert {_type_name(value)} to a floating-point number")


def _to_float32(value: Any) -> float:
    number = _to_float(value)
    if math.isfinite(number) and abs(number) > 3.4028234663852886e38:
        raise ConversionError(f"{number!r} is out of range for a float")
    return number


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConversionError(f"cannot convert {_type_name(value)} {value!r} to a boolean")


def _to_string(value: Any) -> str:
    return _json_text(value)


def _to_binary(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ConversionError(f"cannot convert {_type_name(value)} to binary")


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_SECONDS: dict[str, int] = {}  # "YYYY-MM-DD HH:MM:SS" → micros: records of one second share the parse


def parse_timestamp_text(text: str) -> int:
    """Microseconds since the epoch (UTC wall time) of a timestamp string; ConversionError if none."""
    if len(text) == 23 and text[19] == "." and text[20:].isdigit():
        base = _SECONDS.get(text[:19])
        if base is not None:
            return base + int(text[20:]) * 1000
    match = _TIMESTAMP.match(text.strip())
    if not match:
        raise ConversionError(f"cannot parse {text!r} as a timestamp")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError as error:
        raise ConversionError(f"invalid timestamp {text!r}: {error}") from None
    base = _micros(moment)
    if zone is None and len(text) == 23 and text[10] == " " and text[13] == ":":
        if len(_SECONDS) > 4096:
            _SECONDS.clear()
        _SECONDS[text[:19]] = base
    micros = base + int((fraction or "0").ljust(9, "0")[:6])
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        micros -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * 1_000_000
    return micros


def _epoch_number_to_micros(value: int | float) -> int:
    if isinstance(value, int):
        return value * 1000 if abs(value) >= EPOCH_MILLIS_FROM else value * 1_000_000
    if not math.isfinite(value):
        raise ConversionError(f"cannot convert {value!r} to a timestamp")
    return round(value * 1_000_000)


def _joda_to_strptime(pattern: str) -> str:
    table = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"),
             ("ss", "%S"), ("SSSSSS", "%f"), ("SSS", "%f"), ("Z", "%z"), ("'T'", "T"), ("'Z'", "Z")]
    out = pattern
    for joda, strp in table:
        out = out.replace(joda, strp)
    return out


def _to_timestamp(formats: tuple[str, ...]) -> Converter:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise ConversionError(f"cannot convert boolean {value} to a timestamp")
        for fmt in formats:
            if fmt == "millis":
                try:
                    return int(str(value).strip()) * 1000
                except ValueError:
                    continue
            if isinstance(value, str):
                try:
                    parsed = datetime.strptime(value.strip(), _joda_to_strptime(fmt))
                except ValueError:
                    continue
                if parsed.tzinfo is not None:
                    parsed = parsed.astimezone(UTC).replace(tzinfo=None)
                return _micros(parsed)
        if isinstance(value, int | float):
            return _epoch_number_to_micros(value)
        if isinstance(value, str):
            text = value.strip()
            if _EPOCH_TEXT.fullmatch(text):
                return _epoch_number_to_micros(float(text) if "." in text else int(text))
            return parse_timestamp_text(text)
        raise ConversionError(f"cannot convert {_type_name(value)} to a timestamp")
    return convert


def _to_date(value: Any) -> int:
    if isinstance(value, bool):
        raise ConversionError(f"cannot convert boolean {value} to a date")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _DATE.match(value.strip())
        if match:
            try:
                return (date(*map(int, match.groups())) - _EPOCH_DATE).days
            except ValueError as error:
                raise ConversionError(f"invalid date {value!r}: {error}") from None
    raise ConversionError(f"cannot convert {_type_name(value)} {value!r} to a date")


def _to_decimal(precision: int, scale: int) -> Converter:
    quantum = Decimal(1).scaleb(-scale)

    def convert(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ConversionError(f"cannot convert {_type_name(value)} to decimal({precision},{scale})")
        try:
            number = Decimal(value.strip() if isinstance(value, str) else repr(value)
                             if isinstance(value, float) else value)
            number = number.quantize(quantum, rounding=ROUND_HALF_UP)
        except InvalidOperation:
            raise ConversionError(f"cannot parse {value!r} as decimal({precision},{scale})") from None
        if not number.is_finite() or len(number.as_tuple().digits) > precision and number != 0:
            raise ConversionError(f"{value!r} does not fit decimal({precision},{scale})")
        return number
    return convert


def _lookup(obj: dict[str, Any], case_insensitive: bool) -> dict[str, Any]:
    return {k.lower(): v for k, v in obj.items()} if case_insensitive else obj


def converter_for(hive: HiveType, options: SerDeOptions) -> Converter:  # noqa: C901 - one branch per type
    name = hive.name
    if name in ("string", "varchar", "char"):
        inner: Converter = _to_string
    elif name in INT_RANGES:
        inner = _to_int(INT_RANGES[name])
    elif name == "double":
        inner = _to_float
    elif name == "float":
        inner = _to_float32
    elif name == "boolean":
        inner = _to_bool
    elif name == "timestamp":
        inner = _to_timestamp(options.timestamp_formats)
    elif name == "date":
        inner = _to_date
    elif name == "decimal":
        precision, scale = (hive.params + (10, 0)[len(hive.params):])[:2]
        inner = _to_decimal(precision, scale)
    elif name == "binary":
        inner = _to_binary
    elif name == "array":
        element = converter_for(hive.children[0], options)

        def inner(value: Any) -> list[Any]:
            if not isinstance(value, list):
                raise ConversionError(f"cannot convert {_type_name(value)} to an array")
            return [element(v) for v in value]
    elif name == "map":
        key_conv, value_conv = (converter_for(c, options) for c in hive.children)

        def inner(value: Any) -> list[tuple[Any, Any]]:
            if not isinstance(value, dict):
                raise ConversionError(f"cannot convert {_type_name(value)} to a map")
            return [(key_conv(k), value_conv(v)) for k, v in value.items()]
    elif name == "struct":
        fields = [(n.lower() if options.case_insensitive else n, n, converter_for(c, options))
                  for n, c in zip(hive.field_names, hive.children, strict=True)]

        def inner(value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise ConversionError(f"cannot convert {_type_name(value)} to a struct")
            found = _lookup(value, options.case_insensitive)
            return {n: (None if found.get(k) is None else conv(found[k])) for k, n, conv in fields}
    else:
        raise ConversionError(f"unsupported type {name}")

    exact = _EXACT.get(name)
    if exact is not None and name not in INT_RANGES:
        def convert(value: Any) -> Any:  # the common case first: the JSON value already has the column's type
            return value if type(value) is exact else (None if value is None else inner(value))
    else:
        def convert(value: Any) -> Any:
            return None if value is None else inner(value)
    return convert


class SerDeOptions:
    """The deserializer settings of the delivery stream's InputFormatConfiguration."""

    def __init__(self, deserializer: dict[str, Any] | None = None) -> None:
        deserializer = deserializer or {}
        openx = deserializer.get("OpenXJsonSerDe")
        hive = deserializer.get("HiveJsonSerDe")
        self.kind = "hive" if hive is not None and openx is None else "openx"
        openx = openx or {}
        self.case_insensitive: bool = bool(openx.get("CaseInsensitive", True)) if self.kind == "openx" else True
        self.dots_to_underscores: bool = bool(openx.get("ConvertDotsInJsonKeysToUnderscores", False))
        self.key_mappings: dict[str, str] = dict(openx.get("ColumnToJsonKeyMappings") or {})
        self.timestamp_formats: tuple[str, ...] = tuple((hive or {}).get("TimestampFormats") or ())


class RowConverter:
    """Converts one record's JSON bytes into a tuple of column values (schema order)."""

    def __init__(self, columns: list[Column], options: SerDeOptions) -> None:
        self.columns = columns
        self.options = options
        self.schema = arrow_schema(columns)
        self._columns: list[tuple[str, str, Converter]] = []
        for column in columns:
            key = options.key_mappings.get(column.name, column.name)
            if options.case_insensitive:
                key = key.lower()
            self._columns.append((column.name, key, converter_for(column.hive, options)))
        # Records of one producer share their key set: the JSON key of each column is looked up once
        # per distinct key tuple, not once per record.
        self._plans: dict[tuple[str, ...], list[tuple[str, str | None, Converter]]] = {}

    def plan(self, keys: tuple[str, ...]) -> list[tuple[str, str | None, Converter]]:
        plan = self._plans.get(keys)
        if plan is None:
            if self.options.case_insensitive:
                by_key: dict[str, str] = {}
                for key in keys:
                    by_key[key.lower()] = key  # with keys differing only in case, the last one wins
            else:
                by_key = {key: key for key in keys}
            plan = [(name, by_key.get(key), convert) for name, key, convert in self._columns]
            if len(self._plans) > 256:
                self._plans.clear()
            self._plans[keys] = plan
        return plan

    def convert(self, data: bytes) -> tuple[Any, ...]:
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError) as error:
            raise ConversionError(f"the record is not valid JSON: {error}") from None
        if type(obj) is not dict:
            raise ConversionError(f"the record is a JSON {_type_name(obj)}, not an object")
        if self.options.dots_to_underscores:
            obj = {k.replace(".", "_"): v for k, v in obj.items()}
        plan = self.plan(tuple(obj))
        get = obj.get
        try:
            return tuple([convert(None if key is None else get(key)) for _, key, convert in plan])
        except ConversionError:
            for name, key, convert in plan:  # which column: for the error message
                try:
                    convert(None if key is None else get(key))
                except ConversionError as error:
                    raise ConversionError(f"column {name!r}: {error}") from None
            raise

    def table(self, rows: list[tuple[Any, ...]]) -> pa.Table:
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in self.schema]
        arrays = []
        for values, field in zip(columns, self.schema, strict=True):
            if pa.types.is_timestamp(field.type):
                arrays.append(pa.array(values, type=pa.int64()).cast(field.type))
            elif pa.types.is_date32(field.type):
                arrays.append(pa.array(values, type=pa.int32()).cast(field.type))
            else:
                arrays.append(pa.array(values, type=field.type))
        return pa.Table.from_arrays(arrays, schema=self.schema)


class ParquetOptions:
    """The ParquetSerDe settings of the OutputFormatConfiguration."""

    def __init__(self, serializer: dict[str, Any] | None = None) -> None:
        parquet = (serializer or {}).get("ParquetSerDe") or {}
        compression = str(parquet.get("Compression") or "SNAPPY").upper()
        self.compression: str = {"UNCOMPRESSED": "none"}.get(compression, compression.lower())
        self.page_size: int = int(parquet.get("PageSizeBytes") or 1024 * 1024)
        self.dictionary: bool = bool(parquet.get("EnableDictionaryCompression", True))
        self.data_page_version: str = "2.0" if parquet.get("WriterVersion") == "V2" else "1.0"


def write_parquet(table: pa.Table, options: ParquetOptions) -> bytes:
    """Parquet bytes as Firehose's Hive ParquetSerDe writes them (timestamps as INT96, like Hive)."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression=options.compression, data_page_size=options.page_size,
                   use_dictionary=options.dictionary, data_page_version=options.data_page_version,
                   use_deprecated_int96_timestamps=True)
    return sink.getvalue()
