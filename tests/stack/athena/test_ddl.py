"""Every statement kind the local Athena engine runs besides plain queries: SHOW/DESCRIBE/EXPLAIN,
databases, Hive DDL (Parquet, JSON, CSV tables), partitions (ALTER, MSCK, projection), CTAS, INSERT,
views in Glue, UNLOAD, and the Iceberg emulation (MERGE, UPDATE, DELETE) — each checked against
expected rows, the Glue catalog and the objects in S3."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.support.athena_stack import (
    ARCHIVE_BUCKET,
    DATABASE,
    AthenaStack,
    athena_stack,
    failed,
    results,
    run_query,
    succeeded,
    upload_archive,
    write_archive_parquet,
)

HOURS = ["00", "01", "02"]
ROWS_PER_HOUR = 2000
SCRATCH = "scratch"
BASE = f"s3://{ARCHIVE_BUCKET}/ddl-tests"


@pytest.fixture(scope="module")
def athena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaStack]:
    yield from athena_stack(tmp_path_factory.mktemp("athena-ddl"))


@pytest.fixture(scope="module")
def archive(athena: AthenaStack, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    files = write_archive_parquet(tmp_path_factory.mktemp("archive"), HOURS, ROWS_PER_HOUR)
    upload_archive(athena, files)
    return files


@pytest.fixture(scope="module")
def client(athena: AthenaStack, archive: Any) -> Any:
    athena_client = athena.client("athena")
    succeeded(athena_client, f"CREATE DATABASE IF NOT EXISTS {SCRATCH} COMMENT 'tests'")
    return athena_client


def rows_of(client: Any, sql: str) -> list[list[str | None]]:
    execution, rows = succeeded(client, sql)
    return rows[1:] if execution["StatementType"] == "DML" and execution["SubstatementType"] == "SELECT" else rows


def put(athena: AthenaStack, key: str, body: bytes) -> None:
    athena.client("s3").put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=body)


def glue_table(athena: AthenaStack, name: str, database: str = SCRATCH) -> dict[str, Any]:
    return athena.client("glue").get_table(DatabaseName=database, Name=name)["Table"]


# ---------------------------------------------------------------------------------------------
# SHOW, DESCRIBE, EXPLAIN
# ---------------------------------------------------------------------------------------------
def test_show_and_describe(client: Any) -> None:
    execution, rows = succeeded(client, "SHOW TABLES")
    assert execution["StatementType"] == "UTILITY" and execution["SubstatementType"] == "SHOW_TABLES"
    assert execution["ResultConfiguration"]["OutputLocation"].endswith(".txt")
    assert ["unicorn_status"] in rows
    assert [SCRATCH] in rows_of(client, "SHOW DATABASES")
    assert rows_of(client, "SHOW SCHEMAS LIKE 'wild*'") == [["wildrydes"]]
    assert rows_of(client, "SHOW PARTITIONS unicorn_status") == [[f"dt=2026-11-25/hour={h}"] for h in HOURS]
    # Hive pads each name to 20 characters, as Athena returns them
    assert [r[0] for r in rows_of(client, "SHOW COLUMNS IN unicorn_status")][-2:] == ["dt".ljust(20), "hour".ljust(20)]
    described = rows_of(client, "DESCRIBE unicorn_status")
    assert described[0] == ["name", "string", "unicorn name (the stream's partition key)"]
    assert ["# Partition Information", None, None] in described
    create = [r[0] for r in rows_of(client, "SHOW CREATE TABLE wildrydes.unicorn_status")]
    assert create[0] == "CREATE EXTERNAL TABLE `wildrydes`.`unicorn_status`("
    assert "PARTITIONED BY ( " in create and any("ParquetHiveSerDe" in line for line in create)
    props = dict((r[0], r[1]) for r in rows_of(client, "SHOW TBLPROPERTIES unicorn_status"))
    assert props["classification"] == "parquet"


def test_explain(client: Any) -> None:
    execution, rows = succeeded(client, "EXPLAIN SELECT name, count(*) FROM unicorn_status WHERE hour = '01' "
                                        "GROUP BY name")
    assert execution["SubstatementType"] == "EXPLAIN"
    columns, _ = results(client, execution["QueryExecutionId"])
    assert [c["Name"] for c in columns] == ["Query Plan"]
    plan = "\n".join(r[0] or "" for r in rows)
    assert "AGGREGATE" in plan.upper()


# ---------------------------------------------------------------------------------------------
# databases and external tables
# ---------------------------------------------------------------------------------------------
def test_create_and_drop_database(athena: AthenaStack, client: Any) -> None:
    succeeded(client, "CREATE SCHEMA IF NOT EXISTS throwaway")
    succeeded(client, "CREATE DATABASE IF NOT EXISTS throwaway")
    assert failed(client, "CREATE DATABASE throwaway").startswith("SCHEMA_ALREADY_EXISTS")
    succeeded(client, f"CREATE EXTERNAL TABLE throwaway.t (a int) STORED AS PARQUET LOCATION '{BASE}/throwaway/'")
    assert failed(client, "DROP DATABASE throwaway").startswith("SCHEMA_NOT_EMPTY")
    succeeded(client, "DROP DATABASE throwaway CASCADE")
    assert "throwaway" not in [d["Name"] for d in athena.client("glue").get_databases()["DatabaseList"]]
    succeeded(client, "DROP SCHEMA IF EXISTS throwaway")
    assert failed(client, "DROP DATABASE throwaway").startswith("SCHEMA_NOT_FOUND")


def test_json_csv_and_text_tables(athena: AthenaStack, client: Any) -> None:
    put(athena, "ddl-tests/json/dt=2024-01-01/a.json",
        b'{"Name": "Shadowfax", "Distance": 30.5, "seen": "2024-01-01 10:00:00.123", "tags": ["a", "b"]}\n'
        b'{"name": "Bucephalus", "distance": 1}\n')
    put(athena, "ddl-tests/json/elsewhere/b.json", b'{"NAME": "Rocinante", "DISTANCE": 2.5, "seen": 1704067200000}\n')
    succeeded(client, f"""CREATE EXTERNAL TABLE {SCRATCH}.sightings (
                            name string COMMENT 'who', distance double, seen timestamp, tags array<string>)
                          PARTITIONED BY (dt string)
                          ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
                          LOCATION '{BASE}/json/'""")
    succeeded(client, f"ALTER TABLE {SCRATCH}.sightings ADD IF NOT EXISTS PARTITION (dt='2024-01-01') "
                      f"PARTITION (dt='2024-01-02') LOCATION '{BASE}/json/elsewhere/'")
    table = glue_table(athena, "sightings")
    assert table["TableType"] == "EXTERNAL_TABLE" and table["Parameters"]["EXTERNAL"] == "TRUE"
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert table["StorageDescriptor"]["Columns"][3] == {"Name": "tags", "Type": "array<string>"}
    assert rows_of(client, f"SELECT name, distance, seen, tags, dt FROM {SCRATCH}.sightings ORDER BY name") == [
        ["Bucephalus", "1.0", None, None, "2024-01-01"],
        ["Rocinante", "2.5", "2024-01-01 00:00:00.000", None, "2024-01-02"],
        ["Shadowfax", "30.5", "2024-01-01 10:00:00.123", "[a, b]", "2024-01-01"],
    ]
    put(athena, "ddl-tests/csv/x.csv", b'id,name,score\n1,"a, b",1.5\n2,,\n')
    succeeded(client, f"""CREATE EXTERNAL TABLE {SCRATCH}.scores (id int, name string, score double)
                          ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
                          WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"')
                          LOCATION '{BASE}/csv/' TBLPROPERTIES ('skip.header.line.count'='1')""")
    assert rows_of(client, f"SELECT * FROM {SCRATCH}.scores ORDER BY id") == [["1", "a, b", "1.5"], ["2", "", None]]
    put(athena, "ddl-tests/text/x.txt", b"1|a|2024-01-01\n2|\\N|\n")
    succeeded(client, f"CREATE EXTERNAL TABLE {SCRATCH}.piped (id bigint, name string, day date) "
                      f"ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' LOCATION '{BASE}/text/'")
    assert rows_of(client, f"SELECT * FROM {SCRATCH}.piped ORDER BY id") == [["1", "a", "2024-01-01"],
                                                                            ["2", None, None]]
    assert failed(client, f"CREATE EXTERNAL TABLE {SCRATCH}.piped (id int) LOCATION '{BASE}/text/'").startswith(
        "ALREADY_EXISTS")
    succeeded(client, f"CREATE EXTERNAL TABLE IF NOT EXISTS {SCRATCH}.piped (id int) LOCATION '{BASE}/text/'")


def test_alter_table(athena: AthenaStack, client: Any, archive: Any) -> None:
    succeeded(client, f"""CREATE EXTERNAL TABLE {SCRATCH}.copy (name string, distance double)
                          PARTITIONED BY (dt string, hour string) STORED AS PARQUET
                          LOCATION 's3://{ARCHIVE_BUCKET}/raw/'""")
    succeeded(client, f"ALTER TABLE {SCRATCH}.copy ADD PARTITION (dt='2026-11-25', hour='00') "
                      f"PARTITION (dt='2026-11-25', hour='01') PARTITION (hour='02', dt='2026-11-25')")
    assert rows_of(client, f"SELECT count(*) FROM {SCRATCH}.copy") == [[str(3 * ROWS_PER_HOUR)]]
    assert failed(client, f"ALTER TABLE {SCRATCH}.copy ADD PARTITION (dt='2026-11-25', hour='00')").startswith(
        "ALREADY_EXISTS")
    succeeded(client, f"ALTER TABLE {SCRATCH}.copy DROP PARTITION (dt='2026-11-25', hour='00'), "
                      f"PARTITION (dt='2026-11-25', hour='01')")
    assert rows_of(client, f"SHOW PARTITIONS {SCRATCH}.copy") == [["dt=2026-11-25/hour=02"]]
    assert failed(client, f"ALTER TABLE {SCRATCH}.copy DROP PARTITION (dt='1999-01-01')").startswith(
        "PARTITION_NOT_FOUND")
    succeeded(client, f"ALTER TABLE {SCRATCH}.copy DROP IF EXISTS PARTITION (dt='1999-01-01')")
    succeeded(client, f"ALTER TABLE {SCRATCH}.copy SET TBLPROPERTIES ('owner_team'='unicorns', 'x'='1')")
    assert glue_table(athena, "copy")["Parameters"]["owner_team"] == "unicorns"
    succeeded(client, f"ALTER TABLE {SCRATCH}.copy ADD COLUMNS (healthpoints int, not_in_files string)")
    assert rows_of(client, f"SELECT count(healthpoints), count(not_in_files) FROM {SCRATCH}.copy") == [
        [str(ROWS_PER_HOUR), "0"]]
    succeeded(client, f"ALTER TABLE {SCRATCH}.copy RENAME TO {SCRATCH}.copy_renamed")
    assert rows_of(client, f"SHOW PARTITIONS {SCRATCH}.copy_renamed") == [["dt=2026-11-25/hour=02"]]
    assert failed(client, f"SELECT * FROM {SCRATCH}.copy").startswith("TABLE_NOT_FOUND")
    succeeded(client, f"DROP TABLE {SCRATCH}.copy_renamed")
    assert athena.client("s3").list_objects_v2(Bucket=ARCHIVE_BUCKET, Prefix="raw/")["KeyCount"] == len(HOURS)


def test_msck_repair_adds_partitions_found_in_s3(athena: AthenaStack, client: Any, archive: Any) -> None:
    for (day, hour), path in archive.items():
        athena.client("s3").upload_file(str(path), ARCHIVE_BUCKET, f"ddl-tests/msck/dt={day}/hour={hour}/x.parquet")
    succeeded(client, f"""CREATE EXTERNAL TABLE {SCRATCH}.repaired (name string, healthpoints int)
                          PARTITIONED BY (dt string, hour int) STORED AS PARQUET LOCATION '{BASE}/msck/'""")
    succeeded(client, f"ALTER TABLE {SCRATCH}.repaired ADD PARTITION (dt='2026-11-25', hour='00')")
    execution, rows = succeeded(client, f"MSCK REPAIR TABLE {SCRATCH}.repaired")
    assert execution["SubstatementType"] == "MSCK_REPAIR_TABLE"
    added = [r[0] for r in rows if (r[0] or "").startswith("Repair:")]
    assert added == ["Repair: Added partition to metastore repaired:dt=2026-11-25/hour=01",
                     "Repair: Added partition to metastore repaired:dt=2026-11-25/hour=02"]
    assert rows_of(client, f"SHOW PARTITIONS {SCRATCH}.repaired") == [
        ["dt=2026-11-25/hour=00"], ["dt=2026-11-25/hour=01"], ["dt=2026-11-25/hour=02"]]
    assert rows_of(client, f"MSCK REPAIR TABLE {SCRATCH}.repaired") == []
    assert rows_of(client, f"SELECT count(*) FROM {SCRATCH}.repaired WHERE hour = 2") == [[str(ROWS_PER_HOUR)]]


def test_partition_projection(athena: AthenaStack, client: Any, archive: Any) -> None:
    for (_, hour), path in archive.items():
        athena.client("s3").upload_file(str(path), ARCHIVE_BUCKET, f"ddl-tests/projected/2026/11/25/{hour}/x.parquet")
    succeeded(client, f"""CREATE EXTERNAL TABLE {SCRATCH}.projected (name string, distance double)
                          PARTITIONED BY (day string, hour int) STORED AS PARQUET LOCATION '{BASE}/projected/'
                          TBLPROPERTIES ('projection.enabled'='true',
                            'projection.day.type'='date', 'projection.day.format'='yyyy/MM/dd',
                            'projection.day.range'='2026/11/20,2026/11/30',
                            'projection.hour.type'='integer', 'projection.hour.range'='0,23',
                            'projection.hour.digits'='2',
                            'storage.location.template'='{BASE}/projected/${{day}}/${{hour}}/')""")
    execution, rows = succeeded(client, f"SELECT count(*) FROM {SCRATCH}.projected WHERE day = '2026/11/25' AND "
                                        "hour IN (1, 2)")
    assert rows[1] == [str(2 * ROWS_PER_HOUR)]
    assert execution["Statistics"]["DataScannedInBytes"] == sum(
        archive[("2026-11-25", h)].stat().st_size for h in ("01", "02"))
    assert rows_of(client, f"SELECT count(*) FROM {SCRATCH}.projected") == [[str(3 * ROWS_PER_HOUR)]]
    succeeded(client, f"""CREATE EXTERNAL TABLE {SCRATCH}.injected (name string) PARTITIONED BY (hour string)
                          STORED AS PARQUET LOCATION 's3://{ARCHIVE_BUCKET}/raw/dt=2026-11-25/'
                          TBLPROPERTIES ('projection.enabled'='true', 'projection.hour.type'='injected')""")
    assert rows_of(client, f"SELECT count(*) FROM {SCRATCH}.injected WHERE hour = '01'") == [[str(ROWS_PER_HOUR)]]
    assert failed(client, f"SELECT count(*) FROM {SCRATCH}.injected").startswith("CONSTRAINT_VIOLATION")


# ---------------------------------------------------------------------------------------------
# CTAS, INSERT, UNLOAD
# ---------------------------------------------------------------------------------------------
def test_ctas_partitioned_hive_parquet(athena: AthenaStack, client: Any, archive: Any,
                                       tmp_path: Path) -> None:
    location = f"{BASE}/ctas/hourly/"
    execution, _ = succeeded(client, f"""CREATE TABLE {SCRATCH}.hourly WITH (
                                  table_type='hive', is_external=true, external_location='{location}',
                                  partitioned_by=ARRAY['hour'], format='parquet', write_compression='snappy')
                                AS SELECT name, sum(distance) AS distance, count(*) AS records, hour
                                FROM unicorn_status GROUP BY name, hour""")
    assert execution["StatementType"] == "DDL" and execution["SubstatementType"] == "CREATE_TABLE_AS_SELECT"
    update = client.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    assert update["UpdateCount"] == 7 * len(HOURS)
    manifest = execution["Statistics"]["DataManifestLocation"]
    s3 = athena.client("s3")
    bucket, key = manifest[5:].split("/", 1)
    files = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().split()
    assert len(files) == len(HOURS) and all(f.startswith(location + "hour=") for f in files)
    table = glue_table(athena, "hourly")
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["name", "distance", "records"]
    assert [c["Type"] for c in table["StorageDescriptor"]["Columns"]] == ["string", "double", "bigint"]
    assert table["PartitionKeys"] == [{"Name": "hour", "Type": "string"}]
    assert table["StorageDescriptor"]["Location"] == location
    partitions = athena.client("glue").get_partitions(DatabaseName=SCRATCH, TableName="hourly")["Partitions"]
    assert sorted(p["Values"][0] for p in partitions) == HOURS
    # the objects are Parquet that DuckDB reads directly, with the same numbers
    local = tmp_path / "hourly.parquet"
    s3.download_file(ARCHIVE_BUCKET, files[0].split(ARCHIVE_BUCKET + "/", 1)[1], str(local))
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{local}')").fetchall() == [(7,)]
    reference = duckdb.sql(
        "SELECT sum(distance), count(*) FROM read_parquet([" + ", ".join(f"'{p}'" for p in archive.values()) + "])"
    ).fetchall()[0]
    total = rows_of(client, f"SELECT sum(distance), sum(records) FROM {SCRATCH}.hourly")[0]
    assert abs(float(total[0]) - reference[0]) < 1e-6 and int(total[1]) == reference[1]
    assert failed(client, f"CREATE TABLE {SCRATCH}.again WITH (external_location='{location}') AS SELECT 1 AS a"
                  ).startswith("HIVE_PATH_ALREADY_EXISTS")
    assert failed(client, f"CREATE TABLE {SCRATCH}.hourly AS SELECT 1 AS a").startswith("ALREADY_EXISTS")
    succeeded(client, f"CREATE TABLE IF NOT EXISTS {SCRATCH}.hourly AS SELECT 1 AS a")


def test_ctas_errors_and_defaults(athena: AthenaStack, client: Any) -> None:
    assert failed(client, f"CREATE TABLE {SCRATCH}.bad WITH (partitioned_by=ARRAY['a']) AS SELECT 1 AS a, 2 AS b"
                  ).startswith("HIVE_COLUMN_ORDER_MISMATCH")
    assert failed(client, f"CREATE TABLE {SCRATCH}.bad AS SELECT 1, 2 AS b").startswith(
        "MISSING_COLUMN_NAME: Column name not specified at position 1")
    assert failed(client, f"CREATE TABLE {SCRATCH}.bad WITH (partitioned_by=ARRAY['p']) AS "
                          "SELECT x AS v, x AS p FROM UNNEST(sequence(1, 101)) AS t(x)").startswith(
        "HIVE_TOO_MANY_OPEN_PARTITIONS")
    assert failed(client, f"CREATE TABLE {SCRATCH}.bad AS SELECT current_timestamp AS t").startswith("NOT_SUPPORTED")
    # without a location the data goes under the query's result location, tables/<query id>/
    execution, _ = succeeded(client, f"CREATE TABLE {SCRATCH}.defaults AS SELECT 1 AS a, 'x' AS b")
    location = glue_table(athena, "defaults")["StorageDescriptor"]["Location"]
    assert location.endswith(f"/tables/{execution['QueryExecutionId']}/")
    succeeded(client, f"CREATE TABLE {SCRATCH}.empty WITH (format='parquet') AS SELECT 1 AS a WITH NO DATA")
    assert rows_of(client, f"SELECT count(*) FROM {SCRATCH}.empty") == [["0"]]
    succeeded(client, f"CREATE TABLE {SCRATCH}.texty WITH (format='TEXTFILE', field_delimiter=',') AS "
                      "SELECT 1 AS a, 'x' AS b, CAST(NULL AS varchar) AS c")
    assert rows_of(client, f"SELECT * FROM {SCRATCH}.texty") == [["1", "x", None]]
    succeeded(client, f"CREATE TABLE {SCRATCH}.jsony WITH (format='JSON') AS SELECT 1 AS a, 'x' AS b")
    assert rows_of(client, f"SELECT * FROM {SCRATCH}.jsony") == [["1", "x"]]


def test_insert_into_hive_table(athena: AthenaStack, client: Any) -> None:
    succeeded(client, f"CREATE TABLE {SCRATCH}.events WITH (external_location='{BASE}/events/', "
                      "partitioned_by=ARRAY['day']) AS SELECT 'a' AS who, 1 AS n, '2024-01-01' AS day")
    execution, _ = succeeded(client, f"INSERT INTO {SCRATCH}.events SELECT 'b', 2, '2024-01-01' UNION ALL "
                                     "SELECT 'c', 3, '2024-01-02'")
    assert execution["StatementType"] == "DML" and execution["SubstatementType"] == "INSERT"
    assert client.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["UpdateCount"] == 2
    succeeded(client, f"INSERT INTO {SCRATCH}.events (day, who) VALUES ('2024-01-03', 'd')")
    assert rows_of(client, f"SELECT who, n, day FROM {SCRATCH}.events ORDER BY who") == [
        ["a", "1", "2024-01-01"], ["b", "2", "2024-01-01"], ["c", "3", "2024-01-02"], ["d", None, "2024-01-03"]]
    assert rows_of(client, f"SHOW PARTITIONS {SCRATCH}.events") == [
        ["day=2024-01-01"], ["day=2024-01-02"], ["day=2024-01-03"]]
    assert failed(client, f"INSERT INTO {SCRATCH}.events SELECT 'x', 'not a number', '2024-01-01'").startswith(
        "TYPE_MISMATCH")
    assert failed(client, f"INSERT INTO {SCRATCH}.events SELECT 'x'").startswith("TYPE_MISMATCH")


def test_unload_writes_parquet_and_a_manifest(athena: AthenaStack, client: Any) -> None:
    execution, _ = succeeded(client, f"UNLOAD (SELECT name, healthpoints, hour FROM unicorn_status WHERE hour = '01') "
                                     f"TO '{BASE}/unload/' WITH (format = 'PARQUET', partitioned_by = ARRAY['hour'])")
    assert execution["SubstatementType"] == "UNLOAD"
    listed = athena.client("s3").list_objects_v2(Bucket=ARCHIVE_BUCKET, Prefix="ddl-tests/unload/hour=01/")
    assert listed["KeyCount"] == 1
    assert failed(client, f"UNLOAD (SELECT 1 AS a) TO '{BASE}/unload/'").startswith("HIVE_PATH_ALREADY_EXISTS")


# ---------------------------------------------------------------------------------------------
# views
# ---------------------------------------------------------------------------------------------
def test_views_are_presto_views_in_glue(athena: AthenaStack, client: Any) -> None:
    sql = "SELECT name, max(healthpoints) AS max_hp, count(*) AS n FROM wildrydes.unicorn_status GROUP BY name"
    execution, _ = succeeded(client, f"CREATE OR REPLACE VIEW {SCRATCH}.vitals AS {sql}")
    assert execution["SubstatementType"] == "CREATE_VIEW"
    view = glue_table(athena, "vitals")
    assert view["TableType"] == "VIRTUAL_VIEW" and view["Parameters"]["presto_view"] == "true"
    assert view["ViewExpandedText"] == "/* Presto View */"
    encoded = view["ViewOriginalText"].removeprefix("/* Presto View: ").removesuffix(" */")
    definition = json.loads(base64.b64decode(encoded))
    assert definition["originalSql"] == sql and definition["schema"] == DATABASE  # the session's schema
    assert definition["columns"] == [{"name": "name", "type": "varchar"}, {"name": "max_hp", "type": "integer"},
                                     {"name": "n", "type": "bigint"}]
    assert view["StorageDescriptor"]["Columns"] == [{"Name": "name", "Type": "string"},
                                                    {"Name": "max_hp", "Type": "int"},
                                                    {"Name": "n", "Type": "bigint"}]
    assert rows_of(client, f"SELECT sum(n) FROM {SCRATCH}.vitals") == [[str(len(HOURS) * ROWS_PER_HOUR)]]
    # a view over a view: its unqualified names resolve in the schema it was created in
    execution = run_query(client, "CREATE VIEW top AS SELECT name FROM vitals WHERE max_hp > 100", database=SCRATCH)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert len(rows_of(client, f"SELECT * FROM {SCRATCH}.top")) == 7
    assert failed(client, f"CREATE VIEW {SCRATCH}.top AS SELECT 1 AS a").startswith("ALREADY_EXISTS")
    succeeded(client, f"CREATE OR REPLACE VIEW {SCRATCH}.top AS SELECT 1 AS a")
    assert rows_of(client, f"SELECT * FROM {SCRATCH}.top") == [["1"]]
    assert failed(client, f"CREATE VIEW {SCRATCH}.unnamed AS SELECT 1").startswith("MISSING_COLUMN_NAME")
    succeeded(client, f"CREATE VIEW {SCRATCH}.renamed (who, readings) AS SELECT name, count(*) FROM unicorn_status "
                      "GROUP BY name")
    execution, rows = succeeded(client, f"SELECT who, readings FROM {SCRATCH}.renamed ORDER BY who LIMIT 1")
    assert rows == [["who", "readings"], ["Unicorn-0", str(len(HOURS) * ROWS_PER_HOUR // 7 + 1)]]
    succeeded(client, f"DROP VIEW {SCRATCH}.renamed")
    assert failed(client, f"DROP TABLE {SCRATCH}.top").startswith("NOT_SUPPORTED")
    assert rows_of(client, f"SHOW VIEWS IN {SCRATCH}") == [["top"], ["vitals"]]
    succeeded(client, f"DROP VIEW {SCRATCH}.top")
    succeeded(client, f"DROP VIEW IF EXISTS {SCRATCH}.top")
    assert failed(client, f"SELECT * FROM {SCRATCH}.top").startswith("TABLE_NOT_FOUND")


# ---------------------------------------------------------------------------------------------
# Iceberg (emulated)
# ---------------------------------------------------------------------------------------------
def test_iceberg_ctas_merge_update_delete(athena: AthenaStack, client: Any) -> None:
    succeeded(client, f"""CREATE TABLE {SCRATCH}.ice WITH (table_type='iceberg', location='{BASE}/ice/',
                          is_external=false, partitioning=ARRAY['day'])
                          AS SELECT * FROM (VALUES ('a', 1, '2024-01-01'), ('b', 2, '2024-01-02')) AS t(k, v, day)""")
    table = glue_table(athena, "ice")
    assert table["Parameters"]["table_type"] == "ICEBERG" and table["PartitionKeys"] == []
    execution, _ = succeeded(client, f"""MERGE INTO {SCRATCH}.ice AS target
        USING (SELECT * FROM (VALUES ('b', 20, '2024-01-02'), ('c', 3, '2024-01-03')) AS s(k, v, day)) AS src
        ON target.k = src.k
        WHEN MATCHED THEN UPDATE SET v = src.v
        WHEN NOT MATCHED THEN INSERT (k, v, day) VALUES (src.k, src.v, src.day)""")
    assert execution["SubstatementType"] == "MERGE"
    assert client.get_query_results(QueryExecutionId=execution["QueryExecutionId"])["UpdateCount"] == 2
    assert rows_of(client, f"SELECT k, v, day FROM {SCRATCH}.ice ORDER BY k") == [
        ["a", "1", "2024-01-01"], ["b", "20", "2024-01-02"], ["c", "3", "2024-01-03"]]
    succeeded(client, f"UPDATE {SCRATCH}.ice SET v = v + 100 WHERE k = 'a'")
    succeeded(client, f"DELETE FROM {SCRATCH}.ice WHERE k = 'c'")
    succeeded(client, f"INSERT INTO {SCRATCH}.ice VALUES ('d', 4, '2024-01-04')")
    assert rows_of(client, f"SELECT k, v FROM {SCRATCH}.ice ORDER BY k") == [["a", "101"], ["b", "20"], ["d", "4"]]
    succeeded(client, f"OPTIMIZE {SCRATCH}.ice REWRITE DATA USING BIN_PACK")
    succeeded(client, f"VACUUM {SCRATCH}.ice")
    assert rows_of(client, f"SELECT count(*) FROM {SCRATCH}.ice") == [["3"]]
    assert failed(client, f"DELETE FROM {SCRATCH}.events WHERE day = 'x'").startswith("NOT_SUPPORTED")
    succeeded(client, f"DROP TABLE {SCRATCH}.ice")
    assert athena.client("s3").list_objects_v2(Bucket=ARCHIVE_BUCKET, Prefix="ddl-tests/ice/")["KeyCount"] == 0
