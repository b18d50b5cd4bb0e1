"""Trino docs: functions/conversion.md (examples of our own for cast / try_cast, from Trino's semantics:
a double cast to an integer rounds half away from zero, a double cast to varchar is Java's text)."""

from __future__ import annotations

DOCUMENTED = ["cast", "try_cast", "format", "format_number", "parse_data_size", "typeof"]

EXAMPLES = [
    ("cast", "CAST('42' AS integer)", "42", "integer"),
    ("cast", "CAST(2.5E0 AS integer)", "3", "integer"),
    ("cast", "CAST(-2.5E0 AS bigint)", "-3", "bigint"),
    ("cast", "CAST(3.5E0 AS integer)", "4", "integer"),
    ("cast", "CAST(2.5 AS integer)", "3", "integer"),
    ("cast", "CAST(1.5E0 AS varchar)", "1.5", "varchar"),
    ("cast", "CAST(12345678.9E0 AS varchar)", "1.23456789E7", "varchar"),
    ("cast", "CAST(true AS varchar)", "true", "varchar"),
    ("cast", "CAST(DATE '2020-01-02' AS varchar)", "2020-01-02", "varchar"),
    ("cast", "CAST(TIMESTAMP '2020-01-02 03:04:05' AS varchar)", "2020-01-02 03:04:05", "varchar"),
    ("cast", "CAST('2020-01-02' AS date)", "2020-01-02", "date"),
    ("cast", "CAST(1 AS double)", "1.0", "double"),
    ("cast", "CAST(0.1 AS real)", "0.1", None),
    ("try_cast", "try_cast('abc' AS integer)", None, "integer"),
    ("try_cast", "try_cast('12' AS integer)", "12", "integer"),
    ("format", "format('%s%%', 123)", "123%", "varchar"),
    ("format", "format('%.5f', pi())", "3.14159", "varchar"),
    ("format", "format('%03d', 8)", "008", "varchar"),
    ("format", "format('%,.2f', 1234567.89)", "1,234,567.89", "varchar"),
    ("format", "format('%-7s,%7s', 'hello', 'world')", "hello  ,  world", "varchar"),
    ("format", "format('%2$s %3$s %1$s', 'a', 'b', 'c')", "b c a", "varchar"),
    ("format", "format('%1$tA, %1$tB %1$te, %1$tY', date '2006-07-04')", "Tuesday, July 4, 2006", "varchar"),
    ("format_number", "format_number(123456)", "123K", "varchar"),
    ("format_number", "format_number(1000000)", "1M", "varchar"),
    ("format_number", "format_number(1234567)", "1.23M", "varchar"),
    ("format_number", "format_number(12345)", "12.3K", "varchar"),
    ("parse_data_size", "parse_data_size('1B')", "1", "decimal"),
    ("parse_data_size", "parse_data_size('1kB')", "1024", "decimal"),
    ("parse_data_size", "parse_data_size('1MB')", "1048576", "decimal"),
    ("parse_data_size", "parse_data_size('2.3MB')", "2411724", "decimal"),
    ("typeof", "typeof(123)", "integer", "varchar"),
    ("typeof", "typeof('cat')", "varchar(3)", "varchar"),
    ("typeof", "typeof(cos(2) + 1.5)", "double", "varchar"),
]

UNSUPPORTED: dict[str, tuple[str, str]] = {}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {
    "format('%1$tA, %1$tB %1$te, %1$tY', date '2006-07-04')":
        ('ERROR: INVALID_FUNCTION_ARGUMENT', None,
         "Java's date/time conversions (%t) are not supported by printf"),
}
