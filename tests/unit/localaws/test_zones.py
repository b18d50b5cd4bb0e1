"""Zones as Trino names them, and where a query's text fixes them (localaws/athena/zones.py)."""

from __future__ import annotations

import pytest
import sqlglot

from localaws.athena import zones


@pytest.mark.parametrize(("text", "name"), [
    ("America/New_York", "America/New_York"), ("UTC", "UTC"), ("Z", "UTC"), ("etc/utc", "UTC"), ("GMT", "UTC"),
    ("+05:30", "+05:30"), ("-0800", "-08:00"), ("+5", "+05:00"), ("+00:00", "UTC"), ("-00:00", "UTC"),
    ("+15:00", None), ("+05:75", None), ("x'; DROP", None), ("", None),
])
def test_zone_names_are_trinos(text: str, name: str | None) -> None:
    assert zones.normalize(text) == name


def test_offsets_are_minutes_east_of_utc() -> None:
    assert [zones.offset_minutes(z) for z in ("+05:30", "-08:00", "America/New_York")] == [330, -480, None]


@pytest.mark.parametrize(("sql", "zone"), [
    ("TIMESTAMP '2024-01-02 03:04:05 America/New_York'", "America/New_York"),
    ("TIMESTAMP '2024-01-02 03:04:05.5 -08:00'", "-08:00"),
    ("TIMESTAMP '2024-01-02 03:04:05'", None),
    ("x AT TIME ZONE 'Asia/Tokyo'", "Asia/Tokyo"),
    ("x AT TIME ZONE z", None),
    ("from_unixtime(0, 5, 30)", "+05:30"),
    ("from_unixtime(0, 'Asia/Tokyo')", "Asia/Tokyo"),
    ("from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00')", "+01:00"),
    ("from_iso8601_timestamp('2020-05-11')", None),
    ("from_iso8601_timestamp(s)", None),
    ("with_timezone(x, 'Europe/Paris')", "Europe/Paris"),
    ("(x AT TIME ZONE 'Asia/Tokyo') + INTERVAL '1' HOUR", "Asia/Tokyo"),
    ("date_trunc('day', x AT TIME ZONE 'Asia/Tokyo')", "Asia/Tokyo"),
    ("coalesce(x AT TIME ZONE 'Asia/Tokyo', y AT TIME ZONE 'Asia/Tokyo')", "Asia/Tokyo"),
    ("coalesce(x AT TIME ZONE 'Asia/Tokyo', y AT TIME ZONE 'Europe/Paris')", None),
    ("(x AT TIME ZONE 'Asia/Tokyo') - (y AT TIME ZONE 'Asia/Tokyo')", None),
])
def test_the_zone_a_query_fixes(sql: str, zone: str | None) -> None:
    expression = sqlglot.parse_one(f"SELECT {sql}", read="athena").selects[0]
    assert zones.zone_of(expression) == zone


def test_result_columns_report_their_zones_and_the_rest_is_left_alone() -> None:
    query = sqlglot.parse_one("SELECT x AT TIME ZONE 'Asia/Tokyo' AS a, 1 AS b, TIMESTAMP '2024-01-02 03:04:05 UTC' "
                              "AS c FROM t", read="athena")
    _, outputs, _ = zones.apply(query)
    assert outputs == ["Asia/Tokyo", None, None]
    plain = sqlglot.parse_one("SELECT hour(x) FROM t", read="athena")
    assert zones.apply(plain) == (plain, [], set())
