"""The local Athena engine, queried through the Athena API with boto3 and pyathena (default and pandas
cursors), against the Glue table of a deployed local stack, compared with DuckDB run directly on the
same Parquet files."""

from __future__ import annotations

import json
import math
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest

from tests.support.athena_stack import (
    ARCHIVE_BUCKET,
    DATABASE,
    RESULTS_BUCKET,
    WORKGROUP,
    AthenaStack,
    athena_stack,
    failed,
    results,
    run_query,
    start_engine,
    stop_engine,
    succeeded,
    upload_archive,
    write_archive_parquet,
)

HOURS = ["00", "01", "02", "03"]
ROWS_PER_HOUR = 3000


@pytest.fixture(scope="module")
def athena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaStack]:
    yield from athena_stack(tmp_path_factory.mktemp("athena-select"))


@pytest.fixture(scope="module")
def archive(athena: AthenaStack, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    files = write_archive_parquet(tmp_path_factory.mktemp("archive"), HOURS, ROWS_PER_HOUR)
    upload_archive(athena, files)
    return files


@pytest.fixture(scope="module")
def local(archive: dict[tuple[str, str], Path]) -> duckdb.DuckDBPyConnection:
    """DuckDB over the very same Parquet files, as the reference."""
    con = duckdb.connect()
    paths = ", ".join(f"'{p}'" for p in archive.values())
    con.execute(f"CREATE VIEW unicorn_status AS SELECT * FROM read_parquet([{paths}], hive_partitioning = true)")
    return con


@pytest.fixture(scope="module")
def client(athena: AthenaStack) -> Any:
    return athena.client("athena")


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _same_rows(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert len(got) == len(want)
        assert all(_close(g, w) for g, w in zip(got, want, strict=True)), (got, want)


# ---------------------------------------------------------------------------------------------
# API basics
# ---------------------------------------------------------------------------------------------
def test_health(athena: AthenaStack) -> None:
    with urllib.request.urlopen(f"{athena.athena_url}/_wildrydes/health", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read())["status"] in ("ok",)


def test_query_execution_fields_and_enforced_output_location(client: Any, archive: Any) -> None:
    execution = run_query(client, "SELECT name, count(*) AS n FROM unicorn_status GROUP BY name",
                          ResultConfiguration={"OutputLocation": f"s3://{ARCHIVE_BUCKET}/elsewhere/"})
    assert execution["Status"]["State"] == "SUCCEEDED"
    query_id = execution["QueryExecutionId"]
    # the workgroup enforces its output location over the client's
    assert execution["ResultConfiguration"]["OutputLocation"] == \
        f"s3://{RESULTS_BUCKET}/athena-results/{query_id}.csv"
    assert execution["StatementType"] == "DML"
    assert execution["SubstatementType"] == "SELECT"
    assert execution["QueryExecutionContext"] == {"Database": DATABASE, "Catalog": "awsdatacatalog"}
    assert execution["WorkGroup"] == WORKGROUP
    assert execution["EngineVersion"]["EffectiveEngineVersion"] == "Athena engine version 3"
    statistics = execution["Statistics"]
    assert statistics["DataScannedInBytes"] == sum(p.stat().st_size for p in archive.values())
    assert statistics["EngineExecutionTimeInMillis"] >= 0
    assert execution["Status"]["SubmissionDateTime"] <= execution["Status"]["CompletionDateTime"]


def test_get_query_results_pages_with_header_first_and_typed_column_info(client: Any, archive: Any,
                                                                          local: Any) -> None:
    execution = run_query(client, "SELECT name, arrivaltime, distance, healthpoints FROM unicorn_status "
                                  "WHERE hour = '01' ORDER BY arrivaltime, sequencenumber")
    query_id = execution["QueryExecutionId"]
    first = client.get_query_results(QueryExecutionId=query_id, MaxResults=1000)
    info = first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in info] == [
        ("name", "varchar"), ("arrivaltime", "timestamp"), ("distance", "double"), ("healthpoints", "integer")]
    for column in info:
        assert set(column) >= {"Name", "Label", "Type", "Precision", "Scale", "Nullable", "CaseSensitive"}
    assert info[0]["CaseSensitive"] is True and info[3]["Precision"] == 10
    assert [d["VarCharValue"] for d in first["ResultSet"]["Rows"][0]["Data"]] == [
        "name", "arrivaltime", "distance", "healthpoints"]
    assert len(first["ResultSet"]["Rows"]) == 1000 and "NextToken" in first
    _, rows = results(client, query_id, page_size=777)
    assert len(rows) == ROWS_PER_HOUR + 1
    expected = local.execute("SELECT name, strftime(arrivaltime, '%Y-%m-%d %H:%M:%S.%g'), distance, healthpoints "
                             "FROM unicorn_status WHERE hour = '01' ORDER BY arrivaltime, sequencenumber").fetchall()
    for row, want in zip(rows[1:], expected, strict=True):
        assert row[0] == want[0] and row[1] == want[1] and row[3] == str(want[3])
        assert (row[2] is None and want[2] is None) or float(row[2]) == want[2]
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.get_query_results(QueryExecutionId=query_id, MaxResults=1001)


def test_execution_parameters(client: Any, archive: Any) -> None:
    execution = run_query(client, "SELECT count(*), ? AS label FROM unicorn_status WHERE hour = ?",
                          ExecutionParameters=["'hourly'", "'02'"])
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert execution["ExecutionParameters"] == ["'hourly'", "'02'"]
    assert results(client, execution["QueryExecutionId"])[1][1] == [str(ROWS_PER_HOUR), "hourly"]
    assert failed(client, "SELECT ?", ExecutionParameters=["1", "2"]).startswith("INVALID_PARAMETER_USAGE")


def test_result_csv_and_metadata_are_athenas_format(athena: AthenaStack, client: Any) -> None:
    execution = run_query(client, "SELECT 'a' AS s, CAST(NULL AS varchar) AS n, '' AS e, 'say \"hi\"' AS q, "
                                  "1.5e0 AS d, 7 / 2 AS i")
    bucket, key = execution["ResultConfiguration"]["OutputLocation"][5:].split("/", 1)
    s3 = athena.client("s3")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body == '"s","n","e","q","d","i"\n"a",,"","say ""hi""","1.5","3"\n'
    metadata = s3.get_object(Bucket=bucket, Key=key + ".metadata")["Body"].read()
    assert b"\x22" in metadata and b"varchar" in metadata and b"hive" in metadata


def test_partition_pruning_scans_only_the_partitions_asked_for(client: Any, archive: Any) -> None:
    execution, rows = succeeded(client, "SELECT count(*) FROM unicorn_status WHERE dt = '2026-11-25' AND hour = '02'")
    assert rows[1] == [str(ROWS_PER_HOUR)]
    assert execution["Statistics"]["DataScannedInBytes"] == archive[("2026-11-25", "02")].stat().st_size
    execution, rows = succeeded(client, "SELECT count(*) FROM unicorn_status WHERE hour IN ('00', '03')")
    assert rows[1] == [str(2 * ROWS_PER_HOUR)]
    assert execution["Statistics"]["DataScannedInBytes"] == sum(
        archive[("2026-11-25", h)].stat().st_size for h in ("00", "03"))
    execution, rows = succeeded(client, "SELECT count(*) FROM unicorn_status WHERE hour > '01' AND hour <= '02'")
    assert rows[1] == [str(ROWS_PER_HOUR)]
    execution, rows = succeeded(client, "SELECT count(*) FROM unicorn_status WHERE hour = '99'")
    assert rows[1] == ["0"] and execution["Statistics"]["DataScannedInBytes"] == 0


# ---------------------------------------------------------------------------------------------
# pyathena
# ---------------------------------------------------------------------------------------------
QUERIES = [
    "SELECT name, sum(distance) AS total, count(*) AS n, min(healthpoints) AS hp, max(magicpoints) AS mp "
    "FROM unicorn_status GROUP BY name ORDER BY name",
    "WITH per_hour AS (SELECT name, hour, sum(distance) AS d FROM unicorn_status GROUP BY name, hour) "
    "SELECT name, hour, d, rank() OVER (PARTITION BY hour ORDER BY d DESC) AS r, "
    "sum(d) OVER (PARTITION BY name ORDER BY hour ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running "
    "FROM per_hour ORDER BY hour, name",
    "SELECT name, hour FROM unicorn_status WHERE healthpoints < 92 AND hour = '00' "
    "UNION SELECT name, hour FROM unicorn_status WHERE magicpoints > 150 AND hour = '03' ORDER BY 1, 2",
    "SELECT hour, count(*) AS n, count(distance) AS with_distance, avg(healthpoints) AS avg_hp "
    "FROM unicorn_status WHERE dt = '2026-11-25' GROUP BY hour HAVING count(*) > 10 ORDER BY hour",
    "SELECT name, arrivaltime, distance, lag(distance) OVER (PARTITION BY name ORDER BY arrivaltime) AS previous "
    "FROM unicorn_status WHERE hour = '03' ORDER BY arrivaltime, name LIMIT 50",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_pyathena_default_cursor_matches_duckdb_on_the_same_files(athena: AthenaStack, archive: Any, local: Any,
                                                                   sql: str) -> None:
    from pyathena import connect

    with athena.environment():
        cursor = connect(work_group=WORKGROUP, schema_name=DATABASE, poll_interval=0.05).cursor()
        cursor.execute(sql)
        actual = cursor.fetchall()
        assert cursor.description is not None
    expected = local.execute(sql).fetchall()
    _same_rows(actual, expected)


def test_pyathena_parameters_and_types(athena: AthenaStack, archive: Any) -> None:
    from pyathena import connect

    with athena.environment():
        cursor = connect(work_group=WORKGROUP, schema_name=DATABASE, poll_interval=0.05).cursor()
        cursor.execute("SELECT max(arrivaltime) AS t, DATE '2026-11-25' AS d, count(*) AS n, "
                       "CAST(1.25 AS decimal(10, 2)) AS x, true AS b FROM unicorn_status WHERE hour = %(h)s",
                       {"h": "02"})
        row = cursor.fetchone()
    assert isinstance(row[0], datetime) and row[0].hour == 2
    assert row[1] == date(2026, 11, 25)
    assert row[2] == ROWS_PER_HOUR
    assert str(row[3]) == "1.25" and row[4] is True


def test_pyathena_pandas_cursor_reads_the_csv_from_s3(athena: AthenaStack, archive: Any, local: Any) -> None:
    from pyathena import connect
    from pyathena.pandas.cursor import PandasCursor

    sql = ("SELECT name, arrivaltime, distance, healthpoints, hour FROM unicorn_status "
           "WHERE hour IN ('01', '02') ORDER BY arrivaltime, name")
    with athena.environment():
        cursor = connect(work_group=WORKGROUP, schema_name=DATABASE, poll_interval=0.05,
                         cursor_class=PandasCursor).cursor()
        frame = cursor.execute(sql).as_pandas()
    expected = local.execute(sql).fetchall()
    assert list(frame.columns) == ["name", "arrivaltime", "distance", "healthpoints", "hour"]
    assert len(frame) == len(expected) == 2 * ROWS_PER_HOUR
    for (_, got), want in zip(frame.iterrows(), expected, strict=True):
        assert got["name"] == want[0] and got["arrivaltime"].to_pydatetime() == want[1]
        # pandas' default CSV float parser may differ from the text in the last bit
        assert (want[2] is None and got["distance"] != got["distance"]) or math.isclose(got["distance"], want[2])
        assert int(got["healthpoints"]) == want[3] and got["hour"] == want[4]


# ---------------------------------------------------------------------------------------------
# Athena (Trino) semantics that DuckDB does not share
# ---------------------------------------------------------------------------------------------
SEMANTICS = [
    ("SELECT 7 / 2, -7 / 2, 7.0 / 2, 7 % 3", [["3", "-3", "3.5", "1"]], ["integer", "integer", "decimal", "integer"]),
    ("SELECT date_add('day', 1, DATE '2024-01-31'), date_trunc('month', DATE '2024-01-31')",
     [["2024-02-01", "2024-01-01"]], ["date", "date"]),
    ("SELECT date_add('hour', 2, TIMESTAMP '2024-01-31 23:30:00.250')", [["2024-02-01 01:30:00.250"]],
     ["timestamp"]),
    ("SELECT format_datetime(TIMESTAMP '2024-03-05 07:08:09.123', 'yyyy/MM/dd HH:mm:ss.SSS')",
     [["2024/03/05 07:08:09.123"]], ["varchar"]),
    ("SELECT parse_datetime('05/03/2024 07:08', 'dd/MM/yyyy HH:mm')", [["2024-03-05 07:08:00.000 UTC"]],
     ["timestamp with time zone"]),
    ("SELECT date_format(TIMESTAMP '2024-03-05 07:08:09', '%Y-%m-%d %H:%i:%s')", [["2024-03-05 07:08:09"]],
     ["varchar"]),
    ("SELECT date_parse('2024-03-05 07:08:09', '%Y-%m-%d %H:%i:%s')", [["2024-03-05 07:08:09.000"]],
     ["timestamp"]),
    ("SELECT CAST(1.5e0 AS varchar), CAST(1e20 AS varchar), CAST(0.0001 AS double)", [["1.5", "1.0E20", "1.0E-4"]],
     ["varchar", "varchar", "double"]),
    ("SELECT sum(x), count(*), approx_percentile(x, 0.5) FROM (VALUES 1, 2, 3, 4, 5) AS t(x)",
     [["15", "5", "3"]], ["bigint", "bigint", "integer"]),
    ("SELECT map_agg(k, v)['b'] FROM (VALUES ('a', 1), ('b', 2)) AS t(k, v)", [["2"]], ["integer"]),
    ("SELECT ARRAY[1, 2], MAP(ARRAY['a'], ARRAY[1]), CAST(ROW(1, 'x') AS ROW(a integer, b varchar))",
     [["[1, 2]", "{a=1}", "{a=1, b=x}"]], ["array", "map", "row"]),
    ("SELECT x, o FROM UNNEST(ARRAY['p', 'q']) WITH ORDINALITY AS t(x, o) ORDER BY o",
     [["p", "1"], ["q", "2"]], ["varchar", "bigint"]),
    ("SELECT cardinality(split('a,b,c', ',')), element_at(ARRAY[5, 6], 2), regexp_extract('ab12', '[0-9]+')",
     [["3", "6", "12"]], ["bigint", "integer", "varchar"]),
    ("SELECT slice(ARRAY[1, 2, 3, 4], 2, 2), array_distinct(ARRAY[3, 1, 3, 2]), any_match(ARRAY[1, 5], x -> x > 4), "
     "arrays_overlap(ARRAY[1], ARRAY[2]), format('%s-%d', 'a', 5)",
     [["[2, 3]", "[3, 1, 2]", "true", "false", "a-5"]], ["array", "array", "boolean", "boolean", "varchar"]),
    ("SELECT to_hex(CAST('hi' AS varbinary)), from_unixtime(0), to_iso8601(DATE '2024-01-02')",
     [["6869", "1970-01-01 00:00:00.000 UTC", "2024-01-02"]], ["varchar", "timestamp with time zone", "varchar"]),
]


@pytest.mark.parametrize(("sql", "rows", "types"), SEMANTICS)
def test_trino_semantics(client: Any, sql: str, rows: list[list[str]], types: list[str]) -> None:
    execution = run_query(client, sql)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    columns, got = results(client, execution["QueryExecutionId"])
    assert [c["Type"] for c in columns] == types
    assert got[1:] == rows


# ---------------------------------------------------------------------------------------------
# errors and security
# ---------------------------------------------------------------------------------------------
def test_errors_are_athenas(client: Any, archive: Any) -> None:
    execution = run_query(client, "SELECT nope FROM unicorn_status")
    status = execution["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith("COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved")
    assert status["AthenaError"]["ErrorCategory"] == 2 and status["AthenaError"]["Retryable"] is False
    assert status["AthenaError"]["ErrorMessage"] == status["StateChangeReason"]
    assert failed(client, "SELECT * FROM missing_table").startswith(
        "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.wildrydes.missing_table' does not exist")
    assert failed(client, "SELECT * FROM nodb.t").startswith("SCHEMA_NOT_FOUND: line 1:15: Schema 'nodb'")
    assert failed(client, "SELEC 1").startswith("SYNTAX_ERROR: line 1:1")
    assert failed(client, "SELECT no_such_function(1)").startswith("FUNCTION_NOT_FOUND: line 1:8:")
    assert failed(client, "SELECT 1; SELECT 2").startswith("SYNTAX_ERROR")
    assert failed(client, "SELECT CAST('x' AS integer)").startswith("INVALID_CAST_ARGUMENT")
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.start_query_execution(QueryString="SELECT 1", WorkGroup="no-such-workgroup")
    with pytest.raises(client.exceptions.InvalidRequestException):
        client.get_query_execution(QueryExecutionId="00000000-0000-0000-0000-000000000000")


SECURITY_ATTEMPTS = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "COPY (SELECT 1) TO '/tmp/x'",
    "ATTACH '/tmp/x.db'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SELECT * FROM 'file:///etc/passwd'",
    "SELECT * FROM read_parquet('http://127.0.0.1:1/x.parquet')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM query('SELECT 1')",
    "SELECT current_setting('home_directory')",
    "PRAGMA version",
    "SET enable_external_access = true",
    "EXPORT DATABASE '/tmp/x'",
    "SELECT * FROM \"/etc/passwd\"",
    "SELECT * FROM unicorn_status, read_json_auto('/etc/passwd')",
    "CREATE TABLE x AS SELECT * FROM read_csv('/etc/passwd')",
    "INSERT INTO unicorn_status SELECT * FROM read_parquet('/etc/x.parquet')",
]


@pytest.mark.parametrize("sql", SECURITY_ATTEMPTS)
def test_no_sql_reaches_files_urls_or_extensions(client: Any, archive: Any, sql: str) -> None:
    reason = failed(client, sql)
    assert reason.split(":")[0] in ("PERMISSION_DENIED", "NOT_SUPPORTED"), reason
    assert "not allowed" in reason or "not an Athena statement" in reason or "not supported" in reason


# ---------------------------------------------------------------------------------------------
# the rest of the API
# ---------------------------------------------------------------------------------------------
def wait_until_running(client: Any, query_id: str, timeout: float = 30.0) -> None:
    """Until the engine has started the query (it leaves QUEUED); it must then be RUNNING, not already finished."""
    deadline = time.monotonic() + timeout
    state = "QUEUED"
    while state == "QUEUED" and time.monotonic() < deadline:
        state = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"]
        if state == "QUEUED":
            time.sleep(0.05)
    assert state == "RUNNING", f"query {query_id} is {state} after waiting for it to run"


def test_stop_batch_get_list_and_idempotency(client: Any, archive: Any) -> None:
    slow = client.start_query_execution(
        QueryString="SELECT count(*) FROM unicorn_status a CROSS JOIN unicorn_status b CROSS JOIN unicorn_status c",
        QueryExecutionContext={"Database": DATABASE}, WorkGroup=WORKGROUP)["QueryExecutionId"]
    wait_until_running(client, slow)
    client.stop_query_execution(QueryExecutionId=slow)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = client.get_query_execution(QueryExecutionId=slow)["QueryExecution"]["Status"]["State"]
        if state != "RUNNING":
            break
        time.sleep(0.1)
    assert state == "CANCELLED"
    token = "wildrydes-idempotency-token-0001"
    first = client.start_query_execution(QueryString="SELECT 1", WorkGroup=WORKGROUP, ClientRequestToken=token)
    again = client.start_query_execution(QueryString="SELECT 1", WorkGroup=WORKGROUP, ClientRequestToken=token)
    assert first["QueryExecutionId"] == again["QueryExecutionId"]
    batch = client.batch_get_query_execution(QueryExecutionIds=[slow, first["QueryExecutionId"], "missing"])
    assert {e["QueryExecutionId"] for e in batch["QueryExecutions"]} == {slow, first["QueryExecutionId"]}
    assert [u["QueryExecutionId"] for u in batch["UnprocessedQueryExecutionIds"]] == ["missing"]
    listed = client.list_query_executions(WorkGroup=WORKGROUP, MaxResults=3)
    assert len(listed["QueryExecutionIds"]) == 3 and "NextToken" in listed
    more = client.list_query_executions(WorkGroup=WORKGROUP, MaxResults=3, NextToken=listed["NextToken"])
    assert not set(more["QueryExecutionIds"]) & set(listed["QueryExecutionIds"])


def test_catalog_operations(athena: AthenaStack, client: Any, archive: Any) -> None:
    # the endpoint sends the data-catalog control plane to moto; the engine answers it too
    engine = boto3.client("athena", endpoint_url=athena.engine_url, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    assert engine.get_data_catalog(Name="AwsDataCatalog")["DataCatalog"]["Type"] == "GLUE"
    names = [d["Name"] for d in client.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]]
    assert DATABASE in names
    tables = client.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=DATABASE)["TableMetadataList"]
    assert "unicorn_status" in [t["Name"] for t in tables]
    metadata = client.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=DATABASE,
                                         TableName="unicorn_status")["TableMetadata"]
    assert [k["Name"] for k in metadata["PartitionKeys"]] == ["dt", "hour"]
    assert metadata["Columns"][0] == {"Name": "name", "Type": "string",
                                      "Comment": "unicorn name (the stream's partition key)"}
    with pytest.raises(client.exceptions.MetadataException):
        client.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=DATABASE, TableName="nope")
    assert client.get_work_group(WorkGroup=WORKGROUP)["WorkGroup"]["Configuration"]["EnforceWorkGroupConfiguration"]
    assert WORKGROUP in [w["Name"] for w in client.list_work_groups()["WorkGroups"]]


def _supervised_engine_pid(athena: AthenaStack) -> int | None:
    try:
        state = json.loads((athena.stack.data_dir / "run" / "stack.json").read_text())
        return int(state["components"]["athena"]["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


@pytest.mark.faults
def test_state_survives_an_engine_kill(athena: AthenaStack, client: Any, archive: Any) -> None:
    """kill -9 while a query runs: after the restart the old ids still answer, the running one FAILED."""
    done = run_query(client, "SELECT count(*) FROM unicorn_status")
    running = client.start_query_execution(
        QueryString="SELECT count(*) FROM unicorn_status a CROSS JOIN unicorn_status b CROSS JOIN unicorn_status c",
        QueryExecutionContext={"Database": DATABASE}, WorkGroup=WORKGROUP)["QueryExecutionId"]
    wait_until_running(client, running)
    if athena.engine is not None:
        stop_engine(athena.engine, signal.SIGKILL)
        process, url = start_engine(athena.stack, athena.engine_log or Path("/dev/null"))
        athena.engine, athena.athena_url = process, url
    else:  # the stack supervises the engine: kill it and let the supervisor restart it
        pid = _supervised_engine_pid(athena)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _supervised_engine_pid(athena) not in (None, pid):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the supervisor did not restart the engine")
    restarted = athena.client("athena")
    deadline = time.monotonic() + 60
    while True:
        try:
            restarted.get_query_execution(QueryExecutionId=done["QueryExecutionId"])
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    old = restarted.get_query_execution(QueryExecutionId=done["QueryExecutionId"])["QueryExecution"]
    assert old["Status"]["State"] == "SUCCEEDED"
    _, rows = results(restarted, done["QueryExecutionId"])
    assert rows[1] == [str(len(HOURS) * ROWS_PER_HOUR)]
    interrupted = restarted.get_query_execution(QueryExecutionId=running)["QueryExecution"]["Status"]
    assert interrupted["State"] == "FAILED"
    assert "stopped while this query was queued or running" in interrupted["StateChangeReason"]
    assert interrupted["AthenaError"]["ErrorCategory"] == 1 and interrupted["AthenaError"]["Retryable"] is True


def test_query_cli_prints_a_table_json_and_errors(athena: AthenaStack, archive: Any) -> None:
    """`wildrydes query` (runnable as python -m infra.cli.query until it is registered)."""
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "infra.cli.query", *args], capture_output=True,
                              text=True, timeout=120, env={**os.environ, **athena.env})

    table = cli("SELECT name, count(*) AS n FROM unicorn_status WHERE hour = '00' GROUP BY name ORDER BY name")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["name", "n"] and lines[2].split() == ["Unicorn-0", str(ROWS_PER_HOUR // 7 + 1)]
    assert "data scanned:" in lines[-1] and "time:" in lines[-1] and "(7 rows;" in lines[-1]
    as_json = cli("--format", "json", "SELECT 1 AS a, 'x' AS b, CAST(NULL AS double) AS c")
    assert json.loads(as_json.stdout) == [{"a": 1, "b": "x", "c": None}]
    assert "data scanned:" in as_json.stderr
    as_csv = cli("--format", "csv", "SHOW TABLES")
    assert as_csv.stdout.splitlines() == ['"tab_name"', '"unicorn_status"']
    error = cli("SELECT nope FROM unicorn_status")
    assert error.returncode == 1 and "COLUMN_NOT_FOUND" in error.stderr


def test_concurrent_queries_timeouts_and_one_engine_per_data_dir(athena: AthenaStack, client: Any, archive: Any,
                                                                 tmp_path: Path) -> None:
    # several queries at once (the engine runs them on its workers) all finish, with their own results
    ids = [client.start_query_execution(QueryString=f"SELECT count(*) + {i} FROM unicorn_status WHERE hour = '01'",
                                        QueryExecutionContext={"Database": DATABASE}, WorkGroup=WORKGROUP)
           ["QueryExecutionId"] for i in range(8)]
    for i, query_id in enumerate(ids):
        deadline = time.monotonic() + 120
        while client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"] in (
                "QUEUED", "RUNNING"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert results(client, query_id)[1][1] == [str(ROWS_PER_HOUR + i)]
    # a second engine on the same data directory refuses to start
    state = json.loads((athena.stack.data_dir / "run" / "stack.json").read_text())
    if athena.engine is None and "athena" in state["components"]:
        import subprocess
        import sys

        second = subprocess.run([sys.executable, "-m", "localaws.athena", "--port", "1", "--data-dir",
                                 str(athena.stack.data_dir)], capture_output=True, text=True, timeout=60,
                                env={**os.environ, **athena.stack.env})
        assert second.returncode == 1 and "one engine per data directory" in second.stderr
    # a query running past the engine's timeout fails with EXCEEDED_TIME_LIMIT instead of hanging
    quick = start_engine(athena.stack, tmp_path / "short-timeout.log", data_dir=tmp_path / "short-timeout",
                         extra=("--query-timeout", "1"))
    try:
        engine_client = boto3.client("athena", endpoint_url=quick[1], region_name="us-east-1",
                                     aws_access_key_id="test", aws_secret_access_key="test")
        reason = failed(engine_client, "SELECT count(*) FROM unicorn_status a CROSS JOIN unicorn_status b "
                                       "CROSS JOIN unicorn_status c")
        assert reason.startswith("EXCEEDED_TIME_LIMIT: Query exceeded the maximum execution time limit")
    finally:
        stop_engine(quick[0])


def test_object_cache_is_bounded_and_keeps_pinned_copies(athena: AthenaStack, archive: Any, tmp_path: Path) -> None:
    from localaws.athena.objects import ObjectStore

    store = ObjectStore(athena.client("s3"), tmp_path / "cache", max_cache_bytes=1)
    objects = store.list(f"s3://{ARCHIVE_BUCKET}/raw/")
    assert len(objects) == len(HOURS)
    with store.pinned(objects) as local:
        assert all(path.exists() and path.stat().st_size == obj.size for obj, path in local.items())
        store.evict()  # over the bound, but every copy is in use
        assert all(path.exists() for path in local.values())
    # released: the bound applies
    assert not any(path.exists() for path in local.values())
