"""The record contracts of ARCHITECTURE.md section 2, validated strictly and cheaply.

Raw sensor record (one per unicorn per second)::

    {"Name": "Shadowfax", "StatusTime": "2026-11-25 18:21:01.427", "Latitude": 40.749167,
     "Longitude": -73.985184, "Distance": 30.27, "HealthPoints": 151, "MagicPoints": 149}

Per-minute summary (one per unicorn per window, or per part of a window: see ``Partial``)::

    {"Name", "StatusTime" (window start), "Distance", "MinMagicPoints", "MaxMagicPoints",
     "MinHealthPoints", "MaxHealthPoints", "RecordCount", "WindowEnd",
     "Partial": "<shard id>/<first sequence number>", "DistanceParts": [non-overlapping floats]}

A unicorn-minute can be aggregated in parts: by a parent and a child shard around a reshard, or twice by one
shard when Lambda ends a window early (its state passed 1 MB). ``Partial`` names the part (the shard and the
first record of the window's state), so the writer can merge the parts of one minute into one item exactly
and a replayed part replaces itself; ``DistanceParts`` are the exact partial sums (Shewchuk) whose correctly
rounded sum is ``Distance``, so merged parts sum to exactly what one aggregation of all records would.
Summaries without these two fields (written before they existed) are one part named ``whole``.

Decisions (all enforced here, so every consumer applies the same rules):

- Input is UTF-8 JSON text holding one object, at most ``MAX_RECORD_BYTES``; duplicate keys are rejected
  (which value would be meant is ambiguous), NaN/Infinity literals and numbers that overflow to
  infinity are rejected.
- Extra fields are ignored: the parsed record returned holds exactly the contract's fields, so new
  producer fields never break consumers and never reach the archive unannounced (adding one is a
  contract change, i.e. a migration).
- Integers are JSON integers: ``true``/``false`` are not integers, and ``150.0`` is not one either.
  Floats accept JSON integers (``30`` is a valid Distance) and are returned as ``float``.
- ``Name``: non-empty, at most ``MAX_NAME_CHARS`` code points, unicode allowed; not blank, no control
  characters, no lone surrogates (it is a Kinesis partition key and a DynamoDB key).
- ``StatusTime``: exactly ``YYYY-MM-DD HH:MM:SS.fff`` (UTC, a real calendar time, year 1970-2099).
- ``Distance``: metres moved in the last second, finite, 0 <= d <= ``MAX_DISTANCE_M`` (1000 m/s is
  already absurd for a unicorn; the simulator moves 29-31 m/s).
- ``HealthPoints``/``MagicPoints``: integers in [``MIN_POINTS``, ``MAX_POINTS``].

Errors are ``ContractError`` with a short, specific ``reason`` that names the field.
"""

from __future__ import annotations

import json
import math
import re
import sys
from datetime import datetime
from typing import Any, TypedDict

MAX_RECORD_BYTES = 16_384
MAX_NAME_CHARS = 64
MAX_DISTANCE_M = 1000.0
MAX_PARTIAL_CHARS = 256
MAX_DISTANCE_PARTS = 64  # Shewchuk's partials of a sum of doubles stay few (at most ~40 for any inputs)
MIN_POINTS = 0
MAX_POINTS = 1000
MIN_YEAR = 1970
MAX_YEAR = 2099

RAW_FIELDS = ("Name", "StatusTime", "Latitude", "Longitude", "Distance", "HealthPoints", "MagicPoints")
SUMMARY_FIELDS = (
    "Name",
    "StatusTime",
    "Distance",
    "MinMagicPoints",
    "MaxMagicPoints",
    "MinHealthPoints",
    "MaxHealthPoints",
    "RecordCount",
    "WindowEnd",
)

_TIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})", re.ASCII)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Seconds already proven real calendar times ("YYYY-MM-DD HH:MM:SS"); a fleet shares them, so each is
# checked once. Bounded: cleared when full.
_REAL_SECONDS: set[str] = set()
_REAL_SECONDS_MAX = 100_000


class ContractError(ValueError):
    """A record that does not satisfy the contract; ``reason`` says why, naming the field."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RawRecord(TypedDict):
    Name: str
    StatusTime: str
    Latitude: float
    Longitude: float
    Distance: float
    HealthPoints: int
    MagicPoints: int


class Summary(TypedDict):
    Name: str
    StatusTime: str
    Distance: float
    MinMagicPoints: int
    MaxMagicPoints: int
    MinHealthPoints: int
    MaxHealthPoints: int
    RecordCount: int
    WindowEnd: str
    Partial: str
    DistanceParts: list[float]


# ---------------------------------------------------------------------------------------------- JSON


def _reject_constant(name: str) -> Any:
    raise ContractError(f"not valid JSON: {name} is not a number in JSON")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ContractError(f"duplicate field {key!r}")
            seen.add(key)
    return obj


# Built once: json.loads with arguments builds a decoder per call, which costs twice the parse itself.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_pairs)


def load_json_object(data: bytes | str) -> dict[str, Any]:
    """Decode one JSON object from UTF-8 bytes (or text), strictly; raise ContractError otherwise."""
    if isinstance(data, bytes | bytearray | memoryview):
        if len(data) > MAX_RECORD_BYTES:
            raise ContractError(f"record too large: {len(data)} bytes > {MAX_RECORD_BYTES}")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractError(f"not UTF-8: invalid byte at offset {exc.start}") from None
    elif isinstance(data, str):
        text = data
        if len(text) > MAX_RECORD_BYTES:
            raise ContractError(f"record too large: {len(text)} characters > {MAX_RECORD_BYTES}")
    else:
        raise ContractError(f"record must be bytes or text, got {type(data).__name__}")
    if not text.strip():
        raise ContractError("empty record")
    try:
        if text.startswith("\ufeff"):  # as json.loads says it (the decoder alone does not check)
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        obj = _DECODER.decode(text)
    except ContractError:
        raise
    except (ValueError, RecursionError) as exc:
        # json.JSONDecodeError is a ValueError; so is int() refusing a 5,000-digit number (valid JSON).
        if "integer string conversion" in str(exc):
            limit = sys.get_int_max_str_digits()
            raise ContractError(f"number too long: an integer of more than {limit} digits") from None
        raise ContractError(f"not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(obj, dict):
        raise ContractError(f"record must be a JSON object, got {_type_name(obj)}")
    return obj


# -------------------------------------------------------------------------------------------- fields


def _field(obj: dict[str, Any], name: str) -> Any:
    try:
        return obj[name]
    except KeyError:
        raise ContractError(f"missing field {name!r}") from None


def check_name(value: Any, field: str = "Name") -> str:
    if not isinstance(value, str):
        raise ContractError(f"{field} must be a string, got {_type_name(value)}")
    if not value or not value.strip():
        raise ContractError(f"{field} must not be empty or blank")
    if len(value) > MAX_NAME_CHARS:
        raise ContractError(f"{field} too long: {len(value)} characters > {MAX_NAME_CHARS}")
    if _CONTROL_RE.search(value):
        raise ContractError(f"{field} must not contain control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ContractError(f"{field} contains a lone surrogate (not valid unicode text)") from None
    return value


def check_time(value: Any, field: str = "StatusTime") -> str:
    """A UTC time in the contract's layout ``YYYY-MM-DD HH:MM:SS.fff``; returned unchanged."""
    if not isinstance(value, str):
        raise ContractError(f"{field} must be a string, got {_type_name(value)}")
    match = _TIME_RE.fullmatch(value)
    if match is None:
        raise ContractError(f"{field} must be 'YYYY-MM-DD HH:MM:SS.fff' (UTC), got {value[:40]!r}")
    if value[:19] in _REAL_SECONDS:
        return value
    year, month, day, hour, minute, second, _ms = (int(g) for g in match.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ContractError(f"{field} year {year} outside {MIN_YEAR}-{MAX_YEAR}")
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ContractError(f"{field} is not a real time: {exc}") from None
    if len(_REAL_SECONDS) >= _REAL_SECONDS_MAX:
        _REAL_SECONDS.clear()
    _REAL_SECONDS.add(value[:19])
    return value


def check_float(value: Any, field: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ContractError(f"{field} must be a number, got {_type_name(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ContractError(f"{field} out of range [{lo:g}, {hi:g}]") from None
    if not math.isfinite(number):
        raise ContractError(f"{field} must be finite, got {number}")
    if not lo <= number <= hi:
        raise ContractError(f"{field} out of range [{lo:g}, {hi:g}]: {number!r}")
    return number + 0.0  # normalises -0.0 to 0.0


def check_int(value: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ContractError(f"{field} must be an integer, got {_type_name(value)}")
    if not lo <= value <= hi:
        shown = value if abs(value) < 10**12 else "a huge integer"
        raise ContractError(f"{field} out of range [{lo}, {hi}]: {shown}")
    return value


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float) and value.is_integer():
        return f"float {value!r}"
    return {str: "string", int: "integer", float: "float", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


# --------------------------------------------------------------------------------------- raw record


def validate_raw(obj: Any) -> RawRecord:
    """Validate an already-decoded raw record; return it with exactly the contract's fields."""
    if not isinstance(obj, dict):
        raise ContractError(f"record must be a JSON object, got {_type_name(obj)}")
    return {
        "Name": check_name(_field(obj, "Name")),
        "StatusTime": check_time(_field(obj, "StatusTime")),
        "Latitude": check_float(_field(obj, "Latitude"), "Latitude", -90.0, 90.0),
        "Longitude": check_float(_field(obj, "Longitude"), "Longitude", -180.0, 180.0),
        "Distance": check_float(_field(obj, "Distance"), "Distance", 0.0, MAX_DISTANCE_M),
        "HealthPoints": check_int(_field(obj, "HealthPoints"), "HealthPoints", MIN_POINTS, MAX_POINTS),
        "MagicPoints": check_int(_field(obj, "MagicPoints"), "MagicPoints", MIN_POINTS, MAX_POINTS),
    }


def parse_raw(data: bytes | str) -> RawRecord:
    """Decode and validate one raw sensor record; raise ContractError with the reason otherwise."""
    return validate_raw(load_json_object(data))


# ------------------------------------------------------------------------------------------ summary


def validate_summary(obj: Any) -> Summary:
    """Validate an already-decoded per-window summary; return it with exactly the contract's fields."""
    if not isinstance(obj, dict):
        raise ContractError(f"summary must be a JSON object, got {_type_name(obj)}")
    count = check_int(_field(obj, "RecordCount"), "RecordCount", 1, 2**53)
    summary: Summary = {
        "Name": check_name(_field(obj, "Name")),
        "StatusTime": check_time(_field(obj, "StatusTime")),
        "Distance": check_float(_field(obj, "Distance"), "Distance", 0.0, count * MAX_DISTANCE_M),
        "MinMagicPoints": check_int(_field(obj, "MinMagicPoints"), "MinMagicPoints", MIN_POINTS, MAX_POINTS),
        "MaxMagicPoints": check_int(_field(obj, "MaxMagicPoints"), "MaxMagicPoints", MIN_POINTS, MAX_POINTS),
        "MinHealthPoints": check_int(_field(obj, "MinHealthPoints"), "MinHealthPoints", MIN_POINTS, MAX_POINTS),
        "MaxHealthPoints": check_int(_field(obj, "MaxHealthPoints"), "MaxHealthPoints", MIN_POINTS, MAX_POINTS),
        "RecordCount": count,
        "WindowEnd": check_time(_field(obj, "WindowEnd"), "WindowEnd"),
        "Partial": "whole",
        "DistanceParts": [],
    }
    if "Partial" in obj or "DistanceParts" in obj:
        summary["Partial"] = check_partial(_field(obj, "Partial"))
        summary["DistanceParts"] = check_parts(_field(obj, "DistanceParts"), summary["Distance"])
    else:
        summary["DistanceParts"] = [summary["Distance"]]
    if summary["MinMagicPoints"] > summary["MaxMagicPoints"]:
        raise ContractError("MinMagicPoints > MaxMagicPoints")
    if summary["MinHealthPoints"] > summary["MaxHealthPoints"]:
        raise ContractError("MinHealthPoints > MaxHealthPoints")
    # Same layout and zero-padded: string order is time order.
    if summary["WindowEnd"] <= summary["StatusTime"]:
        raise ContractError("WindowEnd must be after StatusTime (the window start)")
    return summary


def check_partial(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_PARTIAL_CHARS or not value.isprintable():
        raise ContractError(f"Partial must be a printable string of 1 to {MAX_PARTIAL_CHARS} characters")
    return value


def check_parts(value: Any, distance: float) -> list[float]:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_DISTANCE_PARTS:
        raise ContractError(f"DistanceParts must be a list of 1 to {MAX_DISTANCE_PARTS} numbers")
    parts = [check_float(v, "DistanceParts", -sys.float_info.max, sys.float_info.max) for v in value]
    if math.fsum(parts) != distance:
        raise ContractError("DistanceParts do not sum to Distance")
    return parts


def parse_summary(data: bytes | str) -> Summary:
    """Decode and validate one summary record; raise ContractError with the reason otherwise."""
    return validate_summary(load_json_object(data))
