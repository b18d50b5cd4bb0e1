"""Trino docs: functions/datetime.md. The session time zone of Athena is UTC, so the page's examples
run in America/Vancouver or America/New_York are given here with their UTC results; examples of our own
where the page gives none, from its definitions."""

from __future__ import annotations

DOCUMENTED = [
    "+", "-", "AT TIME ZONE", "current_date", "current_time", "current_timestamp", "current_timezone", "date",
    "last_day_of_month", "from_iso8601_timestamp", "from_iso8601_timestamp_nanos", "from_iso8601_date",
    "at_timezone", "with_timezone", "from_unixtime", "from_unixtime_nanos", "localtime", "localtimestamp", "now",
    "to_iso8601", "to_milliseconds", "to_unixtime", "date_trunc", "date_add", "date_diff", "parse_duration",
    "human_readable_seconds", "date_format", "date_parse", "format_datetime", "parse_datetime", "extract", "day",
    "day_of_month", "day_of_week", "day_of_year", "dow", "doy", "hour", "millisecond", "minute", "month",
    "quarter", "second", "timezone_hour", "timezone_minute", "week", "week_of_year", "year", "year_of_week", "yow",
    "timezone",
]

_T = "TIMESTAMP '2001-08-22 03:04:05.321'"
_D = "DATE '2022-10-20'"
_TS = "TIMESTAMP '2022-10-20 05:10:07.123'"

EXAMPLES = [
    ("+", "date '2012-08-08' + interval '2' day", "2012-08-10", "date"),
    ("+", "time '01:00' + interval '3' hour", "04:00:00.000", "time"),
    ("+", "timestamp '2012-08-08 01:00' + interval '29' hour", "2012-08-09 06:00:00.000", "timestamp"),
    ("+", "timestamp '2012-10-31 01:00' + interval '1' month", "2012-11-30 01:00:00.000", "timestamp"),
    ("+", "interval '2' day + interval '3' hour", "2 03:00:00.000", "interval day to second"),
    ("+", "interval '3' year + interval '5' month", "3-5", "interval year to month"),
    ("-", "date '2012-08-08' - interval '2' day", "2012-08-06", "date"),
    ("-", "time '01:00' - interval '3' hour", "22:00:00.000", "time"),
    ("-", "timestamp '2012-08-08 01:00' - interval '29' hour", "2012-08-06 20:00:00.000", "timestamp"),
    ("-", "timestamp '2012-10-31 01:00' - interval '1' month", "2012-09-30 01:00:00.000", "timestamp"),
    ("-", "interval '2' day - interval '3' hour", "1 21:00:00.000", "interval day to second"),
    ("-", "interval '3' year - interval '5' month", "2-7", "interval year to month"),
    ("-", "timestamp '2026-01-01 03:00:00' - timestamp '2026-01-01 00:00:01'", "0 02:59:59.000",
     "interval day to second"),
    ("AT TIME ZONE", "timestamp '2012-10-31 01:00 UTC'", "2012-10-31 01:00:00.000 UTC", "timestamp with time zone"),
    ("AT TIME ZONE", "timestamp '2012-10-31 01:00 UTC' AT TIME ZONE 'America/Los_Angeles'",
     "2012-10-30 18:00:00.000 America/Los_Angeles", "timestamp with time zone"),
    ("current_date", "current_date = CAST(current_timestamp AS date)", "true", "boolean"),
    ("current_time", "current_time IS NOT NULL", "true", "boolean"),
    ("current_timestamp", "current_timestamp <= now()", "true", "boolean"),
    ("current_timezone", "current_timezone()", "UTC", "varchar"),
    ("date", "date('2012-08-08')", "2012-08-08", "date"),
    ("last_day_of_month", "last_day_of_month(DATE '2020-02-10')", "2020-02-29", "date"),
    ("from_iso8601_timestamp", "from_iso8601_timestamp('2020-05-11')", "2020-05-11 00:00:00.000 UTC",
     "timestamp with time zone"),
    ("from_iso8601_timestamp", "from_iso8601_timestamp('2020-05-11T11:15:05')", "2020-05-11 11:15:05.000 UTC",
     "timestamp with time zone"),
    ("from_iso8601_timestamp", "from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00')",
     "2020-05-11 11:15:05.055 +01:00", "timestamp with time zone"),
    ("from_iso8601_timestamp_nanos", "from_iso8601_timestamp_nanos('2020-05-11T11:15:05.123456789+01:00')",
     "2020-05-11 11:15:05.123456789 +01:00", "timestamp with time zone"),
    ("from_iso8601_date", "from_iso8601_date('2020-05-11')", "2020-05-11", "date"),
    ("from_iso8601_date", "from_iso8601_date('2020-W10')", "2020-03-02", "date"),
    ("from_iso8601_date", "from_iso8601_date('2020-123')", "2020-05-02", "date"),
    ("at_timezone", "at_timezone(TIMESTAMP '2022-11-01 09:08:07.321', 'America/Los_Angeles')",
     "2022-11-01 02:08:07.321 America/Los_Angeles", "timestamp with time zone"),
    ("with_timezone", "with_timezone(TIMESTAMP '2022-11-01 09:08:07.321', 'America/Los_Angeles')",
     "2022-11-01 09:08:07.321 America/Los_Angeles", "timestamp with time zone"),
    ("from_unixtime", "from_unixtime(0)", "1970-01-01 00:00:00.000 UTC", "timestamp with time zone"),
    ("from_unixtime", "from_unixtime(1.5E0)", "1970-01-01 00:00:01.500 UTC", "timestamp with time zone"),
    ("from_unixtime", "from_unixtime(0, 'Asia/Tokyo')", "1970-01-01 09:00:00.000 Asia/Tokyo",
     "timestamp with time zone"),
    ("from_unixtime", "from_unixtime(0, 5, 30)", "1970-01-01 05:30:00.000 +05:30", "timestamp with time zone"),
    ("from_unixtime_nanos", "from_unixtime_nanos(100)", "1970-01-01 00:00:00.000000100 UTC",
     "timestamp with time zone"),
    ("from_unixtime_nanos", "from_unixtime_nanos(DECIMAL '-1234')", "1969-12-31 23:59:59.999998766 UTC",
     "timestamp with time zone"),
    ("parse_duration", "parse_duration('42.8ms')", "0 00:00:00.043", "interval day to second"),
    ("parse_duration", "parse_duration('3.81 d')", "3 19:26:24.000", "interval day to second"),
    ("parse_duration", "parse_duration('5m')", "0 00:05:00.000", "interval day to second"),
    ("localtime", "localtime IS NOT NULL", "true", "boolean"),
    ("localtimestamp", "localtimestamp <= CAST(now() AS timestamp)", "true", "boolean"),
    ("now", "now() = current_timestamp", "true", "boolean"),
    ("to_iso8601", "to_iso8601(DATE '2020-05-11')", "2020-05-11", "varchar"),
    ("to_iso8601", "to_iso8601(TIMESTAMP '2020-05-11 11:15:05.055')", "2020-05-11T11:15:05.055", "varchar"),
    ("to_iso8601", "to_iso8601(from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00'))",
     "2020-05-11T11:15:05.055+01:00", "varchar"),
    ("to_milliseconds", "to_milliseconds(INTERVAL '1' DAY)", "86400000", "bigint"),
    ("to_unixtime", "to_unixtime(TIMESTAMP '1970-01-01 00:01:00.500')", "60.5", "double"),
    ("date_trunc", f"date_trunc('millisecond', {_T})", "2001-08-22 03:04:05.321", "timestamp"),
    ("date_trunc", f"date_trunc('second', {_T})", "2001-08-22 03:04:05.000", "timestamp"),
    ("date_trunc", f"date_trunc('minute', {_T})", "2001-08-22 03:04:00.000", "timestamp"),
    ("date_trunc", f"date_trunc('hour', {_T})", "2001-08-22 03:00:00.000", "timestamp"),
    ("date_trunc", f"date_trunc('day', {_T})", "2001-08-22 00:00:00.000", "timestamp"),
    ("date_trunc", f"date_trunc('week', {_T})", "2001-08-20 00:00:00.000", "timestamp"),
    ("date_trunc", f"date_trunc('month', {_T})", "2001-08-01 00:00:00.000", "timestamp"),
    ("date_trunc", f"date_trunc('quarter', {_T})", "2001-07-01 00:00:00.000", "timestamp"),
    ("date_trunc", f"date_trunc('year', {_T})", "2001-01-01 00:00:00.000", "timestamp"),
    ("date_trunc", "date_trunc('month', DATE '2022-10-20')", "2022-10-01", "date"),
    ("date_trunc", "date_trunc('day', TIMESTAMP '2022-10-20 05:10:07 America/New_York')",
     "2022-10-20 00:00:00.000 America/New_York", "timestamp with time zone"),
    ("date_add", "date_add('second', 86, TIMESTAMP '2020-03-01 00:00:00')", "2020-03-01 00:01:26.000", "timestamp"),
    ("date_add", "date_add('hour', 9, TIMESTAMP '2020-03-01 00:00:00')", "2020-03-01 09:00:00.000", "timestamp"),
    ("date_add", "date_add('day', -1, TIMESTAMP '2020-03-01 00:00:00 UTC')", "2020-02-29 00:00:00.000 UTC",
     "timestamp with time zone"),
    ("date_add", "date_add('month', 1, DATE '2020-01-31')", "2020-02-29", "date"),
    ("date_diff", "date_diff('second', TIMESTAMP '2020-03-01 00:00:00', TIMESTAMP '2020-03-02 00:00:00')",
     "86400", "bigint"),
    ("date_diff", "date_diff('hour', TIMESTAMP '2020-03-01 00:00:00 UTC', TIMESTAMP '2020-03-02 00:00:00 UTC')",
     "24", "bigint"),
    ("date_diff", "date_diff('day', DATE '2020-03-01', DATE '2020-03-02')", "1", "bigint"),
    ("date_diff", "date_diff('second', TIMESTAMP '2020-06-01 12:30:45.000000000', "
                  "TIMESTAMP '2020-06-02 12:30:45.123456789')", "86400", "bigint"),
    ("date_diff", "date_diff('millisecond', TIMESTAMP '2020-06-01 12:30:45.000000000', "
                  "TIMESTAMP '2020-06-02 12:30:45.123456789')", "86400123", "bigint"),
    ("date_diff", "date_diff('month', DATE '2020-01-31', DATE '2020-02-29')", "1", "bigint"),
    ("date_diff", "date_diff('day', TIMESTAMP '2020-03-01 23:00:00', TIMESTAMP '2020-03-02 01:00:00')", "0",
     "bigint"),
    ("human_readable_seconds", "human_readable_seconds(96)", "1 minute, 36 seconds", "varchar"),
    ("human_readable_seconds", "human_readable_seconds(3762)", "1 hour, 2 minutes, 42 seconds", "varchar"),
    ("human_readable_seconds", "human_readable_seconds(56363463)",
     "93 weeks, 1 day, 8 hours, 31 minutes, 3 seconds", "varchar"),
    ("date_format", "date_format(TIMESTAMP '2022-10-20 05:10:00', '%m-%d-%Y %H')", "10-20-2022 05", "varchar"),
    ("date_format", f"date_format({_TS}, '%Y-%m-%d %H:%i:%s.%f')", "2022-10-20 05:10:07.123000", "varchar"),
    ("date_format", f"date_format({_TS}, '%W %M %e %l %p')", "Thursday October 20 5 AM", "varchar"),
    ("date_format", f"date_format({_TS}, '%a %b %c %d %k %h %j %r %T %y')",
     "Thu Oct 10 20 5 05 293 05:10:07 AM 05:10:07 22", "varchar"),
    ("date_parse", "date_parse('2022/10/20/05', '%Y/%m/%d/%H')", "2022-10-20 05:00:00.000", "timestamp"),
    ("date_parse", "date_parse('10/20/2022 5:10 PM', '%m/%d/%Y %l:%i %p')", "2022-10-20 17:10:00.000", "timestamp"),
    ("date_parse", "date_parse('2022-10-20 05:10:07.123', '%Y-%m-%d %H:%i:%s.%f')", "2022-10-20 05:10:07.123",
     "timestamp"),
    ("format_datetime", "format_datetime(TIMESTAMP '2022-10-20 05:10:00', 'yyyy-MM-dd HH:mm')", "2022-10-20 05:10",
     "varchar"),
    ("format_datetime", f"format_datetime({_TS}, 'EEEE, MMMM d, yyyy HH:mm:ss.SSS')",
     "Thursday, October 20, 2022 05:10:07.123", "varchar"),
    ("format_datetime", f"format_datetime({_TS}, 'EEE MMM dd yy h:mm a')", "Thu Oct 20 22 5:10 AM", "varchar"),
    ("parse_datetime", "parse_datetime('2022-10-20 05:10', 'yyyy-MM-dd HH:mm')", "2022-10-20 05:10:00.000 UTC",
     "timestamp with time zone"),
    ("extract", "extract(YEAR FROM TIMESTAMP '2022-10-20 05:10:00')", "2022", "bigint"),
    ("extract", f"extract(DOW FROM {_D})", "4", "bigint"),
    ("day", f"day({_D})", "20", "bigint"),
    ("day_of_month", f"day_of_month({_D})", "20", "bigint"),
    ("day_of_week", f"day_of_week({_D})", "4", "bigint"),
    ("day_of_week", "day_of_week(DATE '2022-10-23')", "7", "bigint"),
    ("day_of_year", f"day_of_year({_D})", "293", "bigint"),
    ("dow", f"dow({_D})", "4", "bigint"),
    ("doy", f"doy({_D})", "293", "bigint"),
    ("hour", f"hour({_TS})", "5", "bigint"),
    ("millisecond", f"millisecond({_TS})", "123", "bigint"),
    ("minute", f"minute({_TS})", "10", "bigint"),
    ("month", f"month({_TS})", "10", "bigint"),
    ("quarter", f"quarter({_TS})", "4", "bigint"),
    ("second", f"second({_TS})", "7", "bigint"),
    ("timezone_hour", "timezone_hour(TIMESTAMP '2022-10-20 05:10:00 +05:30')", "5", "bigint"),
    ("timezone_minute", "timezone_minute(TIMESTAMP '2022-10-20 05:10:00 +05:30')", "30", "bigint"),
    ("week", f"week({_D})", "42", "bigint"),
    ("week_of_year", f"week_of_year({_D})", "42", "bigint"),
    ("year", f"year({_D})", "2022", "bigint"),
    ("year_of_week", "year_of_week(DATE '2021-01-01')", "2020", "bigint"),
    ("yow", "yow(DATE '2021-01-01')", "2020", "bigint"),
]

UNSUPPORTED = {
    "timezone": ("timezone(TIMESTAMP '2024-01-01 12:00:00 Asia/Tokyo')",
                 "added to Trino after the release Athena engine v3 is based on"),
}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {
    "interval '2' day + interval '3' hour":
        ('2 days 03:00:00', 'interval day to second',
         "DuckDB's interval text, not Trino's 'D HH:MM:SS.mmm' / 'Y-M'; year-month typed day to second"),
    "interval '3' year + interval '5' month":
        ('3 years 5 months', 'interval day to second',
         "DuckDB's interval text, not Trino's 'D HH:MM:SS.mmm' / 'Y-M'; year-month typed day to second"),
    "interval '2' day - interval '3' hour":
        ('2 days -03:00:00', 'interval day to second',
         "DuckDB's interval text, not Trino's 'D HH:MM:SS.mmm' / 'Y-M'; year-month typed day to second"),
    "interval '3' year - interval '5' month":
        ('2 years 7 months', 'interval day to second',
         "DuckDB's interval text, not Trino's 'D HH:MM:SS.mmm' / 'Y-M'; year-month typed day to second"),
    "timestamp '2026-01-01 03:00:00' - timestamp '2026-01-01 00:00:01'":
        ('02:59:59', 'interval day to second',
         "DuckDB's interval text, not Trino's 'D HH:MM:SS.mmm' / 'Y-M'; year-month typed day to second"),
    "timestamp '2012-10-31 01:00 UTC' AT TIME ZONE 'America/Los_Angeles'":
        ('2012-10-30 18:00:00.000', 'timestamp',
         'gives the wall-clock time in the zone as a timestamp, not a timestamp with that zone'),
    "from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00')":
        ('2020-05-11 10:15:05.055 UTC', 'timestamp with time zone',
         'a timestamp with time zone keeps only its instant, written in UTC: the zone is lost'),
    "from_iso8601_timestamp_nanos('2020-05-11T11:15:05.123456789+01:00')":
        ('2020-05-11 10:15:05.123 UTC', 'timestamp with time zone',
         'the instant is kept to milliseconds and written in UTC: the zone is lost'),
    "at_timezone(TIMESTAMP '2022-11-01 09:08:07.321', 'America/Los_Angeles')":
        ('2022-11-01 09:08:07.321 UTC', 'timestamp with time zone',
         'a timestamp with time zone keeps only its instant, written in UTC: the zone is lost'),
    "with_timezone(TIMESTAMP '2022-11-01 09:08:07.321', 'America/Los_Angeles')":
        ('2022-11-01 16:08:07.321 UTC', 'timestamp with time zone',
         'a timestamp with time zone keeps only its instant, written in UTC: the zone is lost'),
    "from_unixtime(0, 'Asia/Tokyo')":
        ('1970-01-01 00:00:00.000 UTC', 'timestamp with time zone',
         'a timestamp with time zone keeps only its instant, written in UTC: the zone is lost'),
    'from_unixtime(0, 5, 30)':
        ('1970-01-01 00:00:00.000 UTC', 'timestamp with time zone',
         'a timestamp with time zone keeps only its instant, written in UTC: the zone is lost'),
    'from_unixtime_nanos(100)':
        ('1970-01-01 00:00:00.000 UTC', 'timestamp with time zone',
         'timestamps are written to milliseconds'),
    "from_unixtime_nanos(DECIMAL '-1234')":
        ('1969-12-31 23:59:59.999 UTC', 'timestamp with time zone',
         'timestamps are written to milliseconds'),
    "parse_duration('42.8ms')":
        ('00:00:00.043', 'interval day to second',
         "DuckDB's interval text, not Trino's 'D HH:MM:SS.mmm'"),
    "parse_duration('3.81 d')":
        ('91:26:24', 'interval day to second',
         "DuckDB's interval text, not Trino's 'D HH:MM:SS.mmm'"),
    "parse_duration('5m')":
        ('00:05:00', 'interval day to second',
         "DuckDB's interval text, not Trino's 'D HH:MM:SS.mmm'"),
    "to_iso8601(from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00'))":
        ('2020-05-11T10:15:05.055Z', 'varchar',
         'a timestamp with time zone keeps only its instant, written in UTC: the zone is lost'),
    "date_trunc('day', TIMESTAMP '2022-10-20 05:10:07 America/New_York')":
        ('2022-10-20 00:00:00.000 UTC', 'timestamp with time zone',
         'a timestamp with time zone keeps only its instant: truncated in UTC, not in its zone'),
    "parse_datetime('2022-10-20 05:10', 'yyyy-MM-dd HH:mm')":
        ('2022-10-20 05:10:00.000', 'timestamp',
         "typed timestamp without zone (test_select pins this); Trino's has the session zone"),
    "timezone_hour(TIMESTAMP '2022-10-20 05:10:00 +05:30')":
        ('ERROR: INVALID_CAST_ARGUMENT', None,
         'a timestamp literal with a numeric offset is refused by DuckDB'),
    "timezone_minute(TIMESTAMP '2022-10-20 05:10:00 +05:30')":
        ('ERROR: INVALID_CAST_ARGUMENT', None,
         'a timestamp literal with a numeric offset is refused by DuckDB'),
}
