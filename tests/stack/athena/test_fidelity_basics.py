"""Athena fidelity, first slice: parameterized queries (pyathena's pyformat and qmark styles, Athena's
ExecutionParameters), DECIMAL values and arithmetic as Trino types them, and what CTAS / INSERT / UNLOAD
report (a single ``rows`` bigint column, no data rows, the count in UpdateCount)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.support.athena_stack import (
    DATABASE,
    RESULTS_BUCKET,
    WORKGROUP,
    AthenaStack,
    athena_stack,
    failed,
    results,
    run_query,
    succeeded,
)

ROWS_COLUMN = ("rows", "bigint", None, None, 19, 0, "UNKNOWN")


@pytest.fixture(scope="module")
def athena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaStack]:
    yield from athena_stack(tmp_path_factory.mktemp("athena-fidelity"))


@pytest.fixture(scope="module")
def client(athena: AthenaStack) -> Any:
    return athena.client("athena")


@pytest.fixture
def cursor(athena: AthenaStack) -> Iterator[Any]:
    from pyathena import connect

    with athena.environment():
        yield connect(work_group=WORKGROUP, schema_name=DATABASE, poll_interval=0.05).cursor()


@pytest.fixture(scope="module")
def prices(client: Any) -> str:
    """A table with a DECIMAL(10, 2) column (1.00, 2.00, 2.00) and a DECIMAL(38, 11) one."""
    succeeded(client, "CREATE TABLE fidelity_prices AS SELECT CAST(x AS DECIMAL(10, 2)) AS price, "
                      "CAST(x * DECIMAL '0.00000000001' AS DECIMAL(38, 11)) AS tiny FROM (VALUES 1, 2, 2) t(x)")
    return "fidelity_prices"


# ---------------------------------------------------------------------------------------------
# 1. parameterized queries
# ---------------------------------------------------------------------------------------------
AWKWARD_STRINGS = ["it's", 'say "hi"', "50% off", "ünïcødé ☃ 日本", "two\nlines", "tab\there", "ends with \\",
                   "back\\'slash", "?", "'; DROP TABLE x; --", "it''s"]


@pytest.mark.parametrize("value", AWKWARD_STRINGS)
def test_pyformat_strings_come_back_unchanged(cursor: Any, value: str) -> None:
    cursor.execute("SELECT %(v)s AS v, length(%(v)s) AS n", {"v": value})
    assert cursor.description[0][:2] == ("v", "varchar")
    assert cursor.fetchall() == [(value, len(value))]


def test_pyformat_values_of_every_type_and_in_where(cursor: Any) -> None:
    cursor.execute("SELECT %(n)s AS n, %(i)s AS i, %(f)s AS f, %(d)s AS d, %(dt)s AS dt, %(b)s AS b",
                   {"n": None, "i": -7, "f": 1.5, "d": Decimal("0.00000000001"), "dt": date(2026, 11, 25),
                    "b": True})
    row = cursor.fetchone()
    assert row[:3] == (None, -7, 1.5)
    assert row[3] == Decimal("0.00000000001") and row[3].as_tuple().exponent == -11
    assert row[4:] == (date(2026, 11, 25), True)
    assert [d[:2] for d in cursor.description][3] == ("d", "decimal")
    assert cursor.description[3][4:6] == (11, 11)
    cursor.execute("SELECT count(*) FROM (VALUES 'it''s', 'x', '50%%') t(s) WHERE s IN %(s)s OR s = %(one)s",
                   {"s": ["it's", "nope"], "one": "50%"})
    assert cursor.fetchall() == [(2,)]


def test_qmark_parameters_are_sql_literals_in_order(cursor: Any) -> None:
    cursor.execute("SELECT ? AS a, '?' AS b, ? AS c /* ? */, \"?\" AS d -- ?\nFROM (SELECT 1 AS \"?\")",
                   ["'it''s 50% é\nok'", "DECIMAL '-0.50'"], paramstyle="qmark")
    assert cursor.fetchall() == [("it's 50% é\nok", "?", Decimal("-0.50"), 1)]
    assert [d[:2] for d in cursor.description] == [("a", "varchar"), ("b", "varchar"), ("c", "decimal"),
                                                   ("d", "integer")]
    cursor.execute("SELECT count(*) FROM (VALUES ('a', DATE '2026-11-25'), ('b', DATE '2026-11-26')) t(s, d) "
                   "WHERE s = ? AND d = ?", ["'a'", "DATE '2026-11-25'"], paramstyle="qmark")
    assert cursor.fetchall() == [(1,)]


def test_execution_parameters_are_echoed_and_a_substituted_question_mark_stays_a_value(client: Any) -> None:
    execution, rows = succeeded(client, "SELECT ?, ?", ExecutionParameters=["'?'", "'a''b'"])
    assert execution["ExecutionParameters"] == ["'?'", "'a''b'"]
    assert rows[1] == ["?", "a'b"]


@pytest.mark.parametrize(("sql", "parameters", "expected", "found"), [
    ("SELECT ? AS a, ? AS b", ["'a'"], 2, 1),
    ("SELECT ? AS a", ["'a'", "'b'"], 1, 2),
    ("SELECT 1 AS a", ["'a'"], 0, 1),
    ("SELECT ? AS a, '?' AS b", None, 1, 0),
    ("CREATE TABLE fidelity_never AS SELECT ? AS a", None, 1, 0),
])
def test_a_parameter_count_mismatch_is_athenas_error(client: Any, sql: str, parameters: list[str] | None,
                                                     expected: int, found: int) -> None:
    extra = {"ExecutionParameters": parameters} if parameters else {}
    reason = failed(client, sql, **extra)
    assert reason == f"INVALID_PARAMETER_USAGE: line 1:1: Incorrect number of parameters: expected {expected} " \
                     f"but found {found}"


def test_pyathena_reports_a_parameter_count_mismatch(cursor: Any) -> None:
    from pyathena.error import OperationalError

    with pytest.raises(OperationalError, match="INVALID_PARAMETER_USAGE.*expected 2 but found 1"):
        cursor.execute("SELECT ? AS a, ? AS b", ["'a'"], paramstyle="qmark")


def test_parameters_in_ctas_insert_and_unload(athena: AthenaStack, client: Any, cursor: Any) -> None:
    cursor.execute("CREATE TABLE fidelity_params AS SELECT ? AS s, ? AS n", ["'a''b'", "1"], paramstyle="qmark")
    cursor.execute("INSERT INTO fidelity_params VALUES (?, ?)", ["'?'", "2"], paramstyle="qmark")
    cursor.execute("INSERT INTO fidelity_params VALUES (%(s)s, %(n)s)", {"s": "50% é", "n": 3})
    cursor.execute("SELECT s, n FROM fidelity_params ORDER BY n")
    assert cursor.fetchall() == [("a'b", 1), ("?", 2), ("50% é", 3)]
    location = f"s3://{RESULTS_BUCKET}/fidelity-unload/"
    succeeded(client, f"UNLOAD (SELECT s FROM fidelity_params WHERE n = ?) TO '{location}' WITH (format = 'JSON')",
              ExecutionParameters=["2"])
    s3 = athena.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=RESULTS_BUCKET, Prefix="fidelity-unload/")["Contents"]]
    lines = [json.loads(line) for key in keys
             for line in s3.get_object(Bucket=RESULTS_BUCKET, Key=key)["Body"].read().decode().splitlines()]
    assert lines == [{"s": "?"}]


# ---------------------------------------------------------------------------------------------
# 2. DECIMAL
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("expression", "text", "precision", "scale"), [
    ("CAST('0.00000000001' AS DECIMAL(38, 11))", "0.00000000001", 38, 11),
    ("CAST('-0.00000000001' AS DECIMAL(38, 11))", "-0.00000000001", 38, 11),
    ("CAST('123456789012345678901234567.12345678901' AS DECIMAL(38, 11))",
     "123456789012345678901234567.12345678901", 38, 11),
    ("CAST('-1.5' AS DECIMAL(10, 2))", "-1.50", 10, 2),
    ("DECIMAL '0.00000000001'", "0.00000000001", 11, 11),
    ("CAST('7.5' AS DECIMAL)", "8", 38, 0),
    ("0.1 + 0.2", "0.3", 2, 1),
    ("CAST(1.25 AS DECIMAL(10, 2)) * CAST(2.5 AS DECIMAL(10, 2))", "3.1250", 20, 4),
    ("CAST(99999999.99 AS DECIMAL(10, 2)) * CAST(99999999.99 AS DECIMAL(10, 2))", "9999999998000000.0001", 20, 4),
    ("CAST(1.5 AS DECIMAL(10, 2)) * 2", "3.00", 20, 2),
    ("CAST(-0.00000000001 AS DECIMAL(38, 11)) * 3", "-0.00000000003", 38, 11),
    ("CAST(1.5 AS DECIMAL(10, 2)) + CAST(1 AS DECIMAL(5, 3))", "2.500", 12, 3),
    ("CAST(1 AS DECIMAL(10, 2)) - CAST(2.5 AS DECIMAL(10, 2))", "-1.50", 11, 2),
    ("CAST(2 AS DECIMAL(10, 2)) / CAST(3 AS DECIMAL(10, 2))", "0.67", 12, 2),
    ("CAST(-1 AS DECIMAL(10, 2)) / CAST(8 AS DECIMAL(10, 2))", "-0.13", 12, 2),
    ("CAST(1 AS DECIMAL(10, 2)) / 3", "0.33", 10, 2),
    ("CAST('12345678901234567890.12' AS DECIMAL(38, 2)) / CAST(1 AS DECIMAL(10, 2))",
     "12345678901234567890.12", 38, 2),
])
def test_decimal_text_and_type_are_trinos(client: Any, expression: str, text: str, precision: int,
                                          scale: int) -> None:
    execution = run_query(client, f"SELECT {expression} AS x")
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    columns, rows = results(client, execution["QueryExecutionId"])
    assert rows[1] == [text]
    assert (columns[0]["Type"], columns[0]["Precision"], columns[0]["Scale"]) == ("decimal", precision, scale)


def test_decimal_division_by_zero_fails_as_trino_does(client: Any) -> None:
    assert failed(client, "SELECT CAST(1 AS DECIMAL(10, 2)) / 0").startswith("DIVISION_BY_ZERO")


def test_decimal_aggregates_of_a_table(client: Any, prices: str) -> None:
    execution = run_query(client, f"SELECT sum(price), avg(price), avg(price) * 2, sum(tiny), avg(tiny), "
                                  f"max(price) * max(price) FROM {prices}")
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    columns, rows = results(client, execution["QueryExecutionId"])
    assert rows[1] == ["5.00", "1.67", "3.34", "0.00000000005", "0.00000000002", "4.0000"]
    assert [(c["Type"], c["Precision"], c["Scale"]) for c in columns] == [
        ("decimal", 38, 2), ("decimal", 10, 2), ("decimal", 20, 2), ("decimal", 38, 11), ("decimal", 38, 11),
        ("decimal", 20, 4)]


def test_pyathena_reads_decimals_as_exact_decimals(cursor: Any, prices: str) -> None:
    cursor.execute(f"SELECT CAST('0.00000000001' AS DECIMAL(38, 11)), CAST('-1.5' AS DECIMAL(10, 2)), "
                   f"avg(price) FROM {prices}")
    row = cursor.fetchone()
    assert row == (Decimal("0.00000000001"), Decimal("-1.50"), Decimal("1.67"))
    assert [r.as_tuple().exponent for r in row] == [-11, -2, -2]
    assert [d[4:6] for d in cursor.description] == [(38, 11), (10, 2), (10, 2)]


# ---------------------------------------------------------------------------------------------
# 3. what CTAS, INSERT and UNLOAD report
# ---------------------------------------------------------------------------------------------
def test_pyathena_sees_rows_bigint_after_ctas_and_insert(cursor: Any) -> None:
    cursor.execute("CREATE TABLE fidelity_ctas AS SELECT 1 AS x UNION ALL SELECT 2")
    assert cursor.description == [ROWS_COLUMN]
    assert cursor.rowcount == 2
    assert cursor.fetchone() is None
    cursor.execute("INSERT INTO fidelity_ctas SELECT 3")
    assert cursor.description == [ROWS_COLUMN]
    assert cursor.rowcount == 1
    assert cursor.fetchall() == []


WRITES = [
    ("CREATE TABLE fidelity_counted AS SELECT x FROM (VALUES 1, 2, 3) t(x)", 3),
    ("INSERT INTO fidelity_counted VALUES 4, 5", 2),
    (f"UNLOAD (SELECT x FROM fidelity_counted) TO 's3://{RESULTS_BUCKET}/fidelity-counted/' "
     "WITH (format = 'PARQUET')", 5),
]


def test_get_query_results_of_a_write_is_one_rows_column_and_the_update_count(client: Any) -> None:
    for sql, count in WRITES:
        execution = run_query(client, sql)
        assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
        page = client.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
        info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        assert [(c["Name"], c["Label"], c["Type"], c["Precision"], c["Scale"]) for c in info] == [
            ("rows", "rows", "bigint", 19, 0)], sql
        assert page["ResultSet"]["Rows"] == [], sql
        assert page["UpdateCount"] == count, sql


def test_pyathena_unload_reports_rows_bigint(cursor: Any) -> None:
    cursor.execute(f"UNLOAD (SELECT 1 AS x) TO 's3://{RESULTS_BUCKET}/fidelity-pyathena-unload/' "
                   "WITH (format = 'PARQUET')")
    assert cursor.description == [ROWS_COLUMN]
    assert cursor.fetchone() is None
