"""The record contracts: good records parse, every kind of bad input is refused with a clear reason."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest

from streaming.lambdas.contract import (
    MAX_NAME_CHARS,
    ContractError,
    parse_raw,
    parse_summary,
    validate_raw,
)

GOOD: dict[str, Any] = {
    "Name": "Shadowfax",
    "StatusTime": "2026-11-25 18:21:01.427",
    "Latitude": 40.749167,
    "Longitude": -73.985184,
    "Distance": 30.27,
    "HealthPoints": 151,
    "MagicPoints": 149,
}

GOOD_SUMMARY: dict[str, Any] = {
    "Name": "Shadowfax",
    "StatusTime": "2026-11-25 18:21:00.000",
    "Distance": 1805.5,
    "MinMagicPoints": 140,
    "MaxMagicPoints": 152,
    "MinHealthPoints": 99,
    "MaxHealthPoints": 150,
    "RecordCount": 60,
    "WindowEnd": "2026-11-25 18:22:00.000",
}


def with_(**changes: Any) -> bytes:
    record = dict(GOOD)
    for key, value in changes.items():
        if value is ...:
            record.pop(key)
        else:
            record[key] = value
    return json.dumps(record, ensure_ascii=False).encode()


def test_good_record_parses_to_the_contract_fields() -> None:
    assert parse_raw(json.dumps(GOOD).encode()) == GOOD
    assert parse_raw(json.dumps(GOOD)) == GOOD  # text works too


def test_extra_fields_are_ignored_and_not_returned() -> None:
    parsed = parse_raw(with_(Color="pink", Nested={"a": [1, 2]}))
    assert parsed == GOOD
    assert "Color" not in parsed


def test_integers_accepted_where_floats_are_expected_and_normalised() -> None:
    parsed = parse_raw(with_(Distance=30, Latitude=40, Longitude=-74))
    assert parsed["Distance"] == 30.0 and isinstance(parsed["Distance"], float)
    assert isinstance(parsed["Latitude"], float)


@pytest.mark.parametrize(
    "name", ["Élan", "ユニコーン", "🦄 Sparkle", "a", "x" * MAX_NAME_CHARS, "Twilight Sparkle", "Ol' Blue-2"]
)
def test_unicode_and_boundary_names_are_valid(name: str) -> None:
    assert parse_raw(with_(Name=name))["Name"] == name


@pytest.mark.parametrize(
    "value", [0, 0.0, -0.0, 1000, 1000.0, 29.5]
)  # fmt: skip
def test_distance_boundaries_are_valid(value: float) -> None:
    parsed = parse_raw(with_(Distance=value))
    assert parsed["Distance"] == value
    assert str(parsed["Distance"]) != "-0.0"


@pytest.mark.parametrize(
    ("field", "value"), [("Latitude", 90), ("Latitude", -90), ("Longitude", 180), ("Longitude", -180),
                         ("HealthPoints", 0), ("MagicPoints", 1000)]
)  # fmt: skip
def test_range_boundaries_are_valid(field: str, value: float) -> None:
    parse_raw(with_(**{field: value}))


def test_leap_day_is_a_real_time() -> None:
    parse_raw(with_(StatusTime="2028-02-29 23:59:59.999"))


BAD: list[tuple[str, bytes | str, str]] = [
    # (case, input, expected fragment of the reason)
    ("empty bytes", b"", "empty record"),
    ("whitespace only", b"  \n", "empty record"),
    ("not JSON", b"hello unicorn", "not valid JSON"),
    ("truncated JSON", json.dumps(GOOD).encode()[:-5], "not valid JSON"),
    ("JSON array", b"[1, 2, 3]", "must be a JSON object, got array"),
    ("JSON string", b'"Shadowfax"', "must be a JSON object, got string"),
    ("JSON null", b"null", "must be a JSON object, got null"),
    ("JSON number", b"42", "must be a JSON object, got integer"),
    ("JSON boolean", b"true", "must be a JSON object, got boolean"),
    ("not UTF-8", b'{"Name": "\xff\xfe"}', "not UTF-8"),
    ("UTF-8 BOM", b"\xef\xbb\xbf" + json.dumps(GOOD).encode(), "not valid JSON: Unexpected UTF-8 BOM"),
    ("too large", with_(Padding="x" * 20_000), "too large"),
    ("duplicate key", b'{"Name":"A","Name":"B"}', "duplicate field 'Name'"),
    ("NaN literal", json.dumps(GOOD).replace("30.27", "NaN").encode(), "NaN is not a number"),
    ("Infinity literal", json.dumps(GOOD).replace("30.27", "Infinity").encode(), "Infinity"),
    ("-Infinity literal", json.dumps(GOOD).replace("-73.985184", "-Infinity").encode(), "Infinity"),
    ("overflowing float", json.dumps(GOOD).replace("30.27", "1e400").encode(), "Distance must be finite"),
    ("5000-digit integer", json.dumps(GOOD).replace("151", "9" * 5000).encode(),
     "number too long: an integer of more than 4300 digits"),
    ("missing Name", with_(Name=...), "missing field 'Name'"),
    ("missing StatusTime", with_(StatusTime=...), "missing field 'StatusTime'"),
    ("missing MagicPoints", with_(MagicPoints=...), "missing field 'MagicPoints'"),
    ("Name not a string", with_(Name=42), "Name must be a string, got integer"),
    ("Name null", with_(Name=None), "Name must be a string, got null"),
    ("empty Name", with_(Name=""), "must not be empty"),
    ("blank Name", with_(Name="   "), "must not be empty or blank"),
    ("Name too long", with_(Name="x" * (MAX_NAME_CHARS + 1)), "Name too long"),
    ("Name with newline", with_(Name="Shadow\nfax"), "control characters"),
    ("Name with NUL", with_(Name="Shadow\x00fax"), "control characters"),
    ("Name lone surrogate", b'{"Name":"\\ud800"}', "lone surrogate"),
    ("StatusTime ISO T", with_(StatusTime="2026-11-25T18:21:01.427"), "YYYY-MM-DD HH:MM:SS.fff"),
    ("StatusTime with zone", with_(StatusTime="2026-11-25 18:21:01.427Z"), "YYYY-MM-DD HH:MM:SS.fff"),
    ("StatusTime no millis", with_(StatusTime="2026-11-25 18:21:01"), "YYYY-MM-DD HH:MM:SS.fff"),
    ("StatusTime epoch number", with_(StatusTime=1764094861427), "StatusTime must be a string"),
    ("StatusTime month 13", with_(StatusTime="2026-13-25 18:21:01.427"), "not a real time"),
    ("StatusTime Feb 30", with_(StatusTime="2026-02-30 18:21:01.427"), "not a real time"),
    ("StatusTime 25 h", with_(StatusTime="2026-11-25 25:21:01.427"), "not a real time"),
    ("StatusTime year 0001", with_(StatusTime="0001-01-01 00:00:00.000"), "outside 1970-2099"),
    ("StatusTime arabic digits", with_(StatusTime="٢٠٢٦-11-25 18:21:01.427"), "YYYY-MM-DD"),
    ("Latitude above 90", with_(Latitude=90.0001), "Latitude out of range"),
    ("Longitude below -180", with_(Longitude=-180.5), "Longitude out of range"),
    ("Latitude as string", with_(Latitude="40.7"), "Latitude must be a number, got string"),
    ("Latitude as bool", with_(Latitude=True), "got boolean"),
    ("negative Distance", with_(Distance=-0.01), "Distance out of range"),
    ("absurd Distance", with_(Distance=1000.01), "Distance out of range"),
    ("Distance as list", with_(Distance=[30.27]), "got array"),
    ("HealthPoints bool", with_(HealthPoints=True), "HealthPoints must be an integer, got boolean"),
    ("MagicPoints bool false", with_(MagicPoints=False), "got boolean"),
    ("HealthPoints float", with_(HealthPoints=150.0), "must be an integer, got float 150.0"),
    ("HealthPoints fractional", with_(HealthPoints=150.5), "must be an integer"),
    ("HealthPoints string", with_(HealthPoints="150"), "got string"),
    ("HealthPoints negative", with_(HealthPoints=-1), "HealthPoints out of range"),
    ("MagicPoints absurd", with_(MagicPoints=1001), "MagicPoints out of range"),
    ("MagicPoints huge", with_(MagicPoints=10**30), "a huge integer"),
]


@pytest.mark.parametrize(("case", "data", "reason"), BAD, ids=[case for case, _, _ in BAD])
def test_bad_input_is_refused_with_a_clear_reason(case: str, data: bytes | str, reason: str) -> None:
    with pytest.raises(ContractError) as info:
        parse_raw(data)
    assert reason in info.value.reason
    assert str(info.value) == info.value.reason


def test_there_are_many_kinds_of_bad_input() -> None:
    assert len({reason for _, _, reason in BAD}) >= 15


@pytest.mark.parametrize("value", [None, 42, "text", b"bytes", [GOOD]])
def test_validate_raw_refuses_non_objects(value: Any) -> None:
    with pytest.raises(ContractError, match="must be a JSON object"):
        validate_raw(value)


def test_non_bytes_input_is_refused() -> None:
    with pytest.raises(ContractError, match="bytes or text"):
        parse_raw(12345)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ summary


def summary_with(**changes: Any) -> bytes:
    summary = dict(GOOD_SUMMARY)
    for key, value in changes.items():
        if value is ...:
            summary.pop(key)
        else:
            summary[key] = value
    return json.dumps(summary).encode()


def test_good_summary_parses() -> None:
    whole = {**GOOD_SUMMARY, "Partial": "whole", "DistanceParts": [GOOD_SUMMARY["Distance"]]}
    assert parse_summary(summary_with()) == whole  # written before parts existed: one part, "whole"
    assert parse_summary(summary_with(Extra=1)) == whole
    parts = [1e-14, GOOD_SUMMARY["Distance"]]  # exact partials whose correctly rounded sum is Distance
    assert math.fsum(parts) == GOOD_SUMMARY["Distance"]
    part = parse_summary(summary_with(Partial="shardId-000000000001/4959", DistanceParts=parts))
    assert part["Partial"] == "shardId-000000000001/4959" and part["DistanceParts"] == parts


@pytest.mark.parametrize(("changes", "reason"), [
    ({"Partial": "", "DistanceParts": [1.0]}, "Partial must be a printable string"),
    ({"Partial": "a\nb", "DistanceParts": [1.0]}, "Partial must be a printable string"),
    ({"Partial": "p"}, "missing field 'DistanceParts'"),
    ({"Partial": "p", "DistanceParts": []}, "DistanceParts must be a list of 1 to 64 numbers"),
    ({"Partial": "p", "DistanceParts": [1.0, 2.0]}, "DistanceParts do not sum to Distance"),
    ({"Partial": "p", "DistanceParts": ["1"]}, "DistanceParts must be a number"),
])
def test_a_summary_part_is_checked(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ContractError, match=re.escape(reason)):
        parse_summary(summary_with(**changes))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"RecordCount": 0}, "RecordCount out of range"),
        ({"RecordCount": ...}, "missing field 'RecordCount'"),
        ({"MinMagicPoints": 153}, "MinMagicPoints > MaxMagicPoints"),
        ({"MinHealthPoints": 151}, "MinHealthPoints > MaxHealthPoints"),
        ({"Distance": 60_000.5}, "Distance out of range"),  # > RecordCount * 1000 m
        ({"Distance": -1}, "Distance out of range"),
        ({"WindowEnd": "2026-11-25 18:21:00.000"}, "WindowEnd must be after StatusTime"),
        ({"WindowEnd": "2026-11-25T18:22:00Z"}, "WindowEnd must be 'YYYY-MM-DD HH:MM:SS.fff'"),
        ({"MaxHealthPoints": True}, "got boolean"),
        ({"Name": ""}, "must not be empty"),
    ],
)
def test_bad_summary_is_refused(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ContractError) as info:
        parse_summary(summary_with(**changes))
    assert reason in info.value.reason
