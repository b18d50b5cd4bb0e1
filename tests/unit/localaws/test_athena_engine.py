"""The local Athena engine's process-level behaviour that needs no running stack."""

from __future__ import annotations

import math
import random
import struct
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb

from localaws.athena import results

ROOT = Path(__file__).resolve().parents[3]

# A fresh interpreter: the engine's modules imported the way the server imports them, then the first
# translations made concurrently by query threads, as a freshly started engine does.
FIRST_CONCURRENT_QUERIES = """
import sys, threading
import localaws.athena.server
from localaws.athena.transpile import transpile_expression

print(all(m in sys.modules for m in ("sqlglot.dialects.athena", "sqlglot.dialects.duckdb")))
out, start = [], threading.Barrier(8)
def translate():
    start.wait()
    out.append(transpile_expression("to_unixtime(arrivaltime)"))
threads = [threading.Thread(target=translate) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(sorted(set(out)))
"""


def test_sql_dialects_are_complete_before_the_first_query_thread() -> None:
    # sqlglot exposes a dialect in its registry before attaching its generator; a query thread that loaded
    # one itself could get the base generator and send DuckDB "TIME_TO_UNIX(...)"
    done = subprocess.run([sys.executable, "-c", FIRST_CONCURRENT_QUERIES], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == ["True", "['EPOCH(arrivaltime)']"], done.stderr


# ------------------------------------------------------------------------------ doubles as Java writes them


def java_reference(value: float) -> str:
    """Java's Double.toString, from the shortest round-trip digits (Python's repr) via Decimal."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    sign, exact = ("-" if value < 0 else ""), Decimal(repr(abs(value)))
    if Decimal("0.001") <= exact < Decimal(10_000_000):
        plain = format(exact, "f")
        return sign + (plain if "." in plain else plain + ".0")
    _, digit_tuple, exponent = exact.as_tuple()
    digits = "".join(map(str, digit_tuple))
    scientific = len(digits) + int(exponent) - 1
    digits = digits.rstrip("0") or "0"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{scientific}"


def some_doubles(count: int) -> list[float]:
    rng = random.Random(7)
    edges = [1.5, 1e20, 1e-4, 1e7, 9_999_999.999, 0.001, 0.00099999, 123_456_789.123, -1.5e-300, 5e-324,
             1.7976931348623157e308, 1e16, 1e15, 12_345_678.0, 99_999_999.5, -0.0, 0.0, math.nan, math.inf, -math.inf,
             0.1 + 0.2, 1_234_567.0]
    bits = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(count)]
    scaled = [rng.uniform(-1, 1) * 10 ** rng.randint(-20, 20) for _ in range(count)]
    return edges + bits + scaled


def test_result_doubles_are_written_as_java_writes_them() -> None:
    values = some_doubles(5000)
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest($values) AS x", {"values": values})
    table = results.to_text_table(con, "SELECT x FROM t", ["x"], ["DOUBLE"])
    # through DuckDB's text (the result path) and from Python floats (nested values): both as Java writes them
    assert table.column(0).to_pylist() == [java_reference(v) for v in values]
    assert [results.java_double(v) for v in values] == [java_reference(v) for v in values]


def test_result_reals_keep_float_digits_in_java_notation() -> None:
    con = duckdb.connect()
    table = results.to_text_table(con, "SELECT CAST(x AS FLOAT) FROM (VALUES (0.1), (1e-5), (3.4e38), (16777216)) v(x)",
                                  ["x"], ["FLOAT"])
    assert table.column(0).to_pylist() == ["0.1", "1.0E-5", "3.4E38", "1.6777216E7"]


def test_nested_values_render_by_their_type_an_empty_map_as_braces_and_reals_as_java_floats() -> None:
    con = duckdb.connect()
    sql = ("SELECT MAP {'a': []::INT[]} AS m, MAP {}::MAP(VARCHAR, INT) AS e, "
           "[CAST(1.1 AS REAL), CAST(3.4e38 AS REAL), CAST(1e-5 AS REAL), NULL] AS r, "
           "{'x': MAP {}::MAP(INT, INT), 'y': [CAST(2.5 AS REAL)]} AS s, [MAP {1: 2}, NULL] AS l")
    types = [str(t) for t in con.sql(sql).types]
    row = results.to_text_table(con, sql, ["m", "e", "r", "s", "l"], types).to_pylist()[0]
    assert list(row.values()) == ["{a=[]}", "{}", "[1.1, 3.4E38, 1.0E-5, null]", "{x={}, y=[2.5]}", "[{1=2}, null]"]


def test_a_failed_cast_from_varchar_reads_as_trinos_error() -> None:
    from localaws.athena.errors import from_duckdb

    expected = {"INTEGER": "Cannot cast 'x y' to INT", "BIGINT": "Cannot cast 'x y' to BIGINT",
                "REAL": "Cannot cast 'x y' to REAL", "BOOLEAN": "Cannot cast 'x y' to BOOLEAN",
                "DATE": "Value cannot be cast to date: x y", "TIMESTAMP": "Value cannot be cast to timestamp: x y",
                "DECIMAL(10,2)": "Cannot cast VARCHAR 'x y' to DECIMAL(10, 2). Value is not a number."}
    for duck_type, message in expected.items():
        try:
            duckdb.sql(f"SELECT CAST('x y' AS {duck_type})").fetchall()
        except duckdb.Error as error:
            assert str(from_duckdb(error)) == f"INVALID_CAST_ARGUMENT: {message}"
        else:
            raise AssertionError(f"casting 'x y' to {duck_type} succeeded")
