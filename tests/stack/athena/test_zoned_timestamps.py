"""Timestamps with time zone keep their zone, as Trino's do: in their text, their fields, truncation, casts and
ISO 8601 text, through subqueries, CTEs and views, and into pyathena's datetimes (localaws/athena/zones.py).

Expected values are Trino's, worked out from its rules (the zone's wall clock, its DST offset at the instant),
not read from the local engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support.athena_stack import DATABASE, WORKGROUP, AthenaStack, athena_stack, failed, succeeded

SUMMER = "TIMESTAMP '2024-07-01 03:30:00.250 UTC'"  # New York is UTC-4 then
WINTER = "TIMESTAMP '2024-01-15 03:30:00.250 UTC'"  # and UTC-5 then


@pytest.fixture(scope="module")
def athena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaStack]:
    yield from athena_stack(tmp_path_factory.mktemp("athena-zones"))


@pytest.fixture(scope="module")
def client(athena: AthenaStack) -> Any:
    return athena.client("athena")


@pytest.fixture(scope="module")
def events(client: Any) -> str:
    """A Parquet table of plain timestamps (what a Hive table can hold), one summer and one winter."""
    succeeded(client, "CREATE TABLE zoned_events WITH (format = 'PARQUET') AS SELECT * FROM (VALUES "
                      "(1, TIMESTAMP '2024-07-01 03:30:00.250'), (2, TIMESTAMP '2024-01-15 03:30:00.250')) "
                      "AS t(id, ts)")
    return "zoned_events"


def row(client: Any, sql: str) -> list[str | None]:
    _, rows = succeeded(client, sql)
    assert len(rows) == 2, rows
    return rows[1]


def types(client: Any, sql: str) -> list[str]:
    execution, _ = succeeded(client, sql)
    metadata = client.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["ResultSet"]
    return [c["Type"] for c in metadata["ResultSetMetadata"]["ColumnInfo"]]


def test_a_zoned_value_is_written_in_its_zone(client: Any) -> None:
    sql = (f"SELECT {SUMMER} AT TIME ZONE 'America/New_York', {WINTER} AT TIME ZONE 'America/New_York', "
           "TIMESTAMP '2024-01-02 03:04:05.678 Asia/Kolkata', TIMESTAMP '2024-01-02 03:04:05 -08:00', "
           f"{SUMMER} AT TIME ZONE 'UTC', from_iso8601_timestamp('2024-01-02T03:04:05Z')")
    assert row(client, sql) == ["2024-06-30 23:30:00.250 America/New_York", "2024-01-14 22:30:00.250 America/New_York",
                                "2024-01-02 03:04:05.678 Asia/Kolkata", "2024-01-02 03:04:05.000 -08:00",
                                "2024-07-01 03:30:00.250 UTC", "2024-01-02 03:04:05.000 UTC"]
    assert types(client, sql) == ["timestamp with time zone"] * 6


def test_fields_casts_and_truncation_follow_the_zone(client: Any) -> None:
    ny = f"({SUMMER} AT TIME ZONE 'America/New_York')"
    sql = (f"SELECT hour({ny}), day({ny}), extract(HOUR FROM {ny}), CAST({ny} AS timestamp), CAST({ny} AS date), "
           f"CAST({ny} AS varchar), date_trunc('day', {ny}), date_add('day', 1, {ny}), to_iso8601({ny}), "
           f"timezone_hour({ny}), timezone_minute(TIMESTAMP '2024-01-02 03:04:05 -08:30'), "
           f"format_datetime({ny}, 'yyyy-MM-dd HH:mm'), date_format({ny}, '%H:%i')")
    assert row(client, sql) == ["23", "30", "23", "2024-06-30 23:30:00.250", "2024-06-30",
                                "2024-06-30 23:30:00.250 America/New_York", "2024-06-30 00:00:00.000 America/New_York",
                                "2024-07-01 23:30:00.250 America/New_York", "2024-06-30T23:30:00.250-04:00", "-4",
                                "-30", "2024-06-30 23:30", "23:30"]


def test_comparison_and_arithmetic_are_on_the_instant(client: Any) -> None:
    sql = (f"SELECT {SUMMER} AT TIME ZONE 'America/New_York' = {SUMMER}, "
           f"({SUMMER} AT TIME ZONE 'Asia/Tokyo') + INTERVAL '1' HOUR, "
           f"to_unixtime({SUMMER} AT TIME ZONE 'Asia/Tokyo') = to_unixtime({SUMMER})")
    assert row(client, sql) == ["true", "2024-07-01 13:30:00.250 Asia/Tokyo", "true"]


def test_the_zone_follows_columns_of_subqueries_ctes_views_and_unions(client: Any, events: str) -> None:
    zoned = f"SELECT id, ts AT TIME ZONE 'America/New_York' AS ny FROM {events}"
    _, rows = succeeded(client, f"WITH z AS ({zoned}) SELECT id, ny, hour(ny), date_trunc('day', ny) FROM z "
                                "ORDER BY id")
    ny = " America/New_York"
    assert rows[1:] == [["1", "2024-06-30 23:30:00.250" + ny, "23", "2024-06-30 00:00:00.000" + ny],
                        ["2", "2024-01-14 22:30:00.250" + ny, "22", "2024-01-14 00:00:00.000" + ny]]
    succeeded(client, f"CREATE OR REPLACE VIEW zoned_view AS {zoned}")
    _, rows = succeeded(client, "SELECT max(ny), min(hour(ny)) FROM (SELECT * FROM zoned_view) AS v")
    assert rows[1] == ["2024-06-30 23:30:00.250 America/New_York", "22"]
    _, rows = succeeded(client, f"SELECT ny FROM ({zoned} UNION ALL {zoned}) ORDER BY ny LIMIT 1")
    assert rows[1] == ["2024-01-14 22:30:00.250 America/New_York"]


def test_a_zone_the_data_decides_keeps_the_instant_in_utc(client: Any, events: str) -> None:
    """Known difference: a zone per row (an offset read from data) is not tracked; the instant is right."""
    _, rows = succeeded(client, "SELECT from_iso8601_timestamp(s) FROM (VALUES '2024-01-02T03:04:05+01:00') AS t(s)")
    assert rows[1] == ["2024-01-02 02:04:05.000 UTC"]
    # and AT TIME ZONE a column gives that zone's wall clock, which is what CAST(... AS timestamp) of Trino's gives
    _, rows = succeeded(client, f"SELECT CAST(ts AT TIME ZONE z AS timestamp) FROM {events} "
                                "CROSS JOIN (VALUES 'Asia/Tokyo') AS t(z) WHERE id = 2")
    assert rows[1] == ["2024-01-15 12:30:00.250"]


def test_an_unknown_zone_is_refused(client: Any) -> None:
    reason = failed(client, f"SELECT {SUMMER} AT TIME ZONE 'Mars/Olympus'")
    assert "Mars/Olympus" in reason


def test_pyathena_reads_the_zone(athena: AthenaStack) -> None:
    from pyathena import connect

    with athena.environment():
        cursor = connect(work_group=WORKGROUP, schema_name=DATABASE, poll_interval=0.05).cursor()
        cursor.execute(f"SELECT {SUMMER} AT TIME ZONE 'America/New_York' AS ny, "
                       "from_unixtime(0, 5, 30) AS kolkata")
        ny, kolkata = cursor.fetchone()
    assert isinstance(ny, datetime) and ny.utcoffset() == timedelta(hours=-4)
    assert (ny.hour, ny.minute, ny.microsecond) == (23, 30, 250000)
    # pyathena zones the text with dateutil's gettz, which reads no "+05:30": a wall-clock time, as from Athena
    assert kolkata == datetime(1970, 1, 1, 5, 30)
