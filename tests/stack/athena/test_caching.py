"""The engine's performance paths, on a real local stack. What the engine keeps between queries (Glue
partitions, S3 listings) is checked against the local endpoint's mutation stamps: queries through the
Athena API see every change to tables, partitions and objects made between them, whoever made it. Also:
the moto host's stamps and its cache of large object bodies, GetQueryExecution answering when a query
finishes, and large CSV results uploaded in parts while the query runs (whole, or not at all)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bench.athena import engine_phases
from localaws.athena.store import RUNNING, SUCCEEDED, QueryRecord, QueryStore
from localaws.moto.counters import FILE_NAME as COUNTS_FILE
from localaws.moto.counters import CountersView
from localaws.moto.host import ValueCache
from tests.support.athena_stack import (
    ARCHIVE_BUCKET,
    DATABASE,
    RESULTS_BUCKET,
    AthenaStack,
    athena_stack,
    run_query,
    succeeded,
    upload_archive,
    write_archive_parquet,
)

DAY = "2026-11-25"
STAMP = "x-wildrydes-mutations"


@pytest.fixture(scope="module")
def athena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaStack]:
    yield from athena_stack(tmp_path_factory.mktemp("athena-caching"))


@pytest.fixture(scope="module")
def client(athena: AthenaStack) -> Any:
    return athena.client("athena")


def _stamp(response: dict[str, Any]) -> str | None:
    return response["ResponseMetadata"]["HTTPHeaders"].get(STAMP)


def _parquet(directory: Path, rows: int, seed: float) -> Path:
    """One archive-like Parquet file of ``rows`` rows."""
    files = write_archive_parquet(directory, ["00"], rows, seed=seed)
    return next(iter(files.values()))


def _expected(paths: list[Path]) -> list[str]:
    """count(*) and sum(healthpoints) of the files, by DuckDB directly."""
    if not paths:
        return ["0", ""]
    listed = ", ".join(f"'{p}'" for p in paths)
    sql = f"SELECT count(*), sum(healthpoints) FROM read_parquet([{listed}])"
    count, total = duckdb.connect().execute(sql).fetchone()
    return [str(count), str(total)]


def _api(client: Any, table: str) -> list[str | None]:
    _, rows = succeeded(client, f"SELECT count(*), sum(healthpoints) FROM {table}")
    return [v if v is not None else "" for v in rows[1]]


def test_the_moto_host_stamps_reads_with_the_mutations_of_their_scope(athena: AthenaStack) -> None:
    s3, glue = athena.client("s3"), athena.client("glue")
    first = _stamp(glue.get_table(DatabaseName=DATABASE, Name="unicorn_status"))
    assert first is not None
    assert _stamp(glue.get_partitions(DatabaseName=DATABASE, TableName="unicorn_status")) == first  # reads: same
    glue.create_database(DatabaseInput={"Name": "stamp_probe"})
    after = _stamp(glue.get_table(DatabaseName=DATABASE, Name="unicorn_status"))
    assert after is not None and after != first

    archive = _stamp(s3.head_bucket(Bucket=ARCHIVE_BUCKET))
    assert archive is not None and _stamp(s3.list_objects_v2(Bucket=ARCHIVE_BUCKET)) == archive
    s3.put_object(Bucket=RESULTS_BUCKET, Key="stamp-probe/other-bucket.txt", Body=b"x")
    assert _stamp(s3.head_bucket(Bucket=ARCHIVE_BUCKET)) == archive  # another bucket's write
    s3.put_object(Bucket=ARCHIVE_BUCKET, Key="stamp-probe/a.txt", Body=b"x")
    written = _stamp(s3.head_bucket(Bucket=ARCHIVE_BUCKET))
    assert written is not None and written != archive
    s3.delete_object(Bucket=ARCHIVE_BUCKET, Key="stamp-probe/a.txt")
    assert _stamp(s3.head_bucket(Bucket=ARCHIVE_BUCKET)) not in (archive, written)


def test_the_engine_reads_the_same_stamps_from_motos_counts_file(athena: AthenaStack) -> None:
    argv = athena.stack.run_state()["components"]["athena"]["argv"]
    path = Path(argv[argv.index("--moto-counts") + 1])
    assert path == athena.stack.data_dir / "moto" / COUNTS_FILE
    view, s3, glue = CountersView(path), athena.client("s3"), athena.client("glue")
    assert view.stamp("glue") == _stamp(glue.get_database(Name=DATABASE)) is not None
    assert view.stamp(f"s3:{ARCHIVE_BUCKET}") == _stamp(s3.head_bucket(Bucket=ARCHIVE_BUCKET)) is not None
    before = view.stamp(f"s3:{ARCHIVE_BUCKET}")
    s3.put_object(Bucket=ARCHIVE_BUCKET, Key="stamp-probe/counted.txt", Body=b"x")
    assert view.stamp(f"s3:{ARCHIVE_BUCKET}") == _stamp(s3.head_bucket(Bucket=ARCHIVE_BUCKET)) != before
    s3.delete_object(Bucket=ARCHIVE_BUCKET, Key="stamp-probe/counted.txt")


def test_queries_see_partitions_and_objects_that_change_between_them(athena: AthenaStack, client: Any,
                                                                      tmp_path: Path) -> None:
    s3, glue = athena.client("s3"), athena.client("glue")
    table = "unicorn_status"
    hour = {h: _parquet(tmp_path / f"h{h}", rows, seed) for h, rows, seed in
            (("00", 500, 0.1), ("01", 400, 0.2), ("02", 300, 0.3))}
    upload_archive(athena, {(DAY, "00"): hour["00"], (DAY, "01"): hour["01"]}, prefix="cachetest")
    key = {h: f"cachetest/dt={DAY}/hour={h}/part-0000.parquet" for h in hour}
    current = [hour["00"], hour["01"]]
    assert _api(client, table) == _expected(current)
    assert _api(client, table) == _expected(current)  # unchanged: the same answer again

    # a partition added in Glue (and its object in S3), not through the engine
    upload_archive(athena, {(DAY, "02"): hour["02"]}, prefix="cachetest")
    current.append(hour["02"])
    assert _api(client, table) == _expected(current)

    # an object replaced in S3 only (Glue unchanged)
    replacement = _parquet(tmp_path / "replacement", 700, 0.4)
    s3.upload_file(str(replacement), ARCHIVE_BUCKET, key["01"])
    current[1] = replacement
    assert _api(client, table) == _expected(current)

    # a second object in a partition, then deleted again
    extra = _parquet(tmp_path / "extra", 200, 0.5)
    s3.upload_file(str(extra), ARCHIVE_BUCKET, f"cachetest/dt={DAY}/hour=02/part-0001.parquet")
    assert _api(client, table) == _expected([*current, extra])
    s3.delete_object(Bucket=ARCHIVE_BUCKET, Key=f"cachetest/dt={DAY}/hour=02/part-0001.parquet")
    assert _api(client, table) == _expected(current)

    # a partition dropped from Glue (its object stays in S3)
    glue.batch_delete_partition(DatabaseName=DATABASE, TableName=table,
                                PartitionsToDelete=[{"Values": [DAY, "00"]}])
    current.remove(hour["00"])
    assert _api(client, table) == _expected(current)

    # a partition moved to another location in Glue
    moved = _parquet(tmp_path / "moved", 50, 0.6)
    s3.upload_file(str(moved), ARCHIVE_BUCKET, "cachetest-moved/part-0000.parquet")
    partition = glue.get_partition(DatabaseName=DATABASE, TableName=table, PartitionValues=[DAY, "02"])["Partition"]
    descriptor = dict(partition["StorageDescriptor"], Location=f"s3://{ARCHIVE_BUCKET}/cachetest-moved/")
    glue.update_partition(DatabaseName=DATABASE, TableName=table, PartitionValueList=[DAY, "02"],
                          PartitionInput={"Values": [DAY, "02"], "StorageDescriptor": descriptor})
    current[current.index(hour["02"])] = moved
    assert _api(client, table) == _expected(current)


def test_unpartitioned_tables_see_objects_that_change_between_queries(athena: AthenaStack, client: Any,
                                                                       tmp_path: Path) -> None:
    s3 = athena.client("s3")
    succeeded(client, f"CREATE EXTERNAL TABLE cache_flat (name string, healthpoints int) STORED AS PARQUET "
                      f"LOCATION 's3://{ARCHIVE_BUCKET}/cache-flat/'")
    one, two = _parquet(tmp_path / "one", 120, 0.7), _parquet(tmp_path / "two", 80, 0.8)
    assert _api(client, "cache_flat") == _expected([])
    s3.upload_file(str(one), ARCHIVE_BUCKET, "cache-flat/one.parquet")
    assert _api(client, "cache_flat") == _expected([one])
    assert _api(client, "cache_flat") == _expected([one])
    s3.upload_file(str(two), ARCHIVE_BUCKET, "cache-flat/two.parquet")
    assert _api(client, "cache_flat") == _expected([one, two])
    s3.upload_file(str(two), ARCHIVE_BUCKET, "cache-flat/one.parquet")  # replaced by other content
    assert _api(client, "cache_flat") == _expected([two, two])
    s3.delete_object(Bucket=ARCHIVE_BUCKET, Key="cache-flat/two.parquet")
    assert _api(client, "cache_flat") == _expected([two])
    # the table itself replaced in Glue: another location
    s3.upload_file(str(one), ARCHIVE_BUCKET, "cache-flat-2/one.parquet")
    succeeded(client, "DROP TABLE cache_flat")
    succeeded(client, f"CREATE EXTERNAL TABLE cache_flat (name string, healthpoints int) STORED AS PARQUET "
                      f"LOCATION 's3://{ARCHIVE_BUCKET}/cache-flat-2/'")
    assert _api(client, "cache_flat") == _expected([one])


def test_a_query_run_again_sees_its_table_changed_in_glue(athena: AthenaStack, client: Any, tmp_path: Path) -> None:
    """The engine keeps a query as prepared (its tables, its DuckDB SQL) and runs it again on them while
    it checks Glue: a table changed in between, by anyone, is read again."""
    s3, glue = athena.client("s3"), athena.client("glue")
    s3.upload_file(str(_parquet(tmp_path / "p", 90, 0.9)), ARCHIVE_BUCKET, "cache-schema/one.parquet")
    succeeded(client, f"CREATE EXTERNAL TABLE cache_schema (name string) STORED AS PARQUET "
                      f"LOCATION 's3://{ARCHIVE_BUCKET}/cache-schema/'")
    query = "SELECT * FROM cache_schema ORDER BY name LIMIT 1"
    assert succeeded(client, query)[1][0] == ["name"]
    assert succeeded(client, query)[1][0] == ["name"]
    table = glue.get_table(DatabaseName=DATABASE, Name="cache_schema")["Table"]
    descriptor = dict(table["StorageDescriptor"], Columns=[{"Name": "name", "Type": "string"},
                                                           {"Name": "healthpoints", "Type": "int"}])
    glue.update_table(DatabaseName=DATABASE, TableInput={"Name": "cache_schema", "TableType": "EXTERNAL_TABLE",
                                                         "StorageDescriptor": descriptor})
    assert succeeded(client, query)[1][0] == ["name", "healthpoints"]
    glue.delete_table(DatabaseName=DATABASE, Name="cache_schema")
    execution = run_query(client, query)
    assert execution["Status"]["State"] == "FAILED"
    assert "TABLE_NOT_FOUND" in execution["Status"]["StateChangeReason"]


def test_a_query_run_again_with_other_parameters_uses_them(athena: AthenaStack, client: Any,
                                                           tmp_path: Path) -> None:
    athena.client("s3").upload_file(str(_parquet(tmp_path / "p", 60, 0.95)), ARCHIVE_BUCKET,
                                    "cache-params/one.parquet")
    succeeded(client, f"CREATE EXTERNAL TABLE cache_params (name string, healthpoints int) STORED AS PARQUET "
                      f"LOCATION 's3://{ARCHIVE_BUCKET}/cache-params/'")
    query = "SELECT count(*) FROM cache_params WHERE healthpoints > ?"
    _, high = succeeded(client, query, ExecutionParameters=["1000"])
    _, low = succeeded(client, query, ExecutionParameters=["0"])
    assert high[1] == ["0"] and int(low[1][0] or 0) > 0
    assert succeeded(client, query, ExecutionParameters=["1000"])[1] == high


def _phases(athena: AthenaStack, query_id: str) -> dict[str, float]:
    log = athena.engine_log or athena.stack.data_dir / "logs" / "athena.log"
    return engine_phases(log, {query_id}).get(query_id, {})


def test_a_query_run_again_runs_as_bound_in_the_connection_kept_from_before(athena: AthenaStack, client: Any,
                                                                          tmp_path: Path) -> None:
    """The views registered and the query bound by the first run are kept with its connection: runs after
    it (one at a time, or several at once) only execute, and all read the current objects."""
    s3 = athena.client("s3")
    first = _parquet(tmp_path / "one", 120, 0.7)
    s3.upload_file(str(first), ARCHIVE_BUCKET, "cache-kept/one.parquet")
    succeeded(client, f"CREATE EXTERNAL TABLE cache_kept (name string, healthpoints int) STORED AS PARQUET "
                      f"LOCATION 's3://{ARCHIVE_BUCKET}/cache-kept/'")
    query = "SELECT count(*), sum(healthpoints) FROM cache_kept"
    runs = [succeeded(client, query) for _ in range(3)]
    assert all(rows[1] == _expected([first]) for _, rows in runs)
    phases = [_phases(athena, execution["QueryExecutionId"]) for execution, _ in runs]
    assert "register" in phases[0] and "bind" in phases[0]
    assert all("execute" in p and "register" not in p and "bind" not in p for p in phases[1:]), phases

    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda _: succeeded(client, query), range(8)))
    assert all(rows[1] == _expected([first]) for _, rows in together)

    second = _parquet(tmp_path / "two", 80, 0.8)  # another object: other views, bound again
    s3.upload_file(str(second), ARCHIVE_BUCKET, "cache-kept/two.parquet")
    execution, rows = succeeded(client, query)
    assert rows[1] == _expected([first, second])
    assert "register" in _phases(athena, execution["QueryExecutionId"])


def test_large_objects_read_in_ranges_are_always_the_current_body(athena: AthenaStack) -> None:
    s3 = athena.client("s3")
    first = bytes(range(256)) * (12 * 1024)  # 3 MiB: above the moto host's body cache threshold
    second = bytes(reversed(range(256))) * (16 * 1024)
    key = "cache-bodies/large.bin"
    s3.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=first)
    for start, end in ((0, 999), (1_000_000, 2_500_000), (len(first) - 10, len(first) - 1)):
        body = s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key, Range=f"bytes={start}-{end}")["Body"].read()
        assert body == first[start:end + 1]
    assert s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read() == first
    s3.put_object(Bucket=ARCHIVE_BUCKET, Key=key, Body=second)  # overwritten: the cached body is dropped
    assert s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key, Range="bytes=5-4000000")["Body"].read() == second[5:4000001]
    assert s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key)["Body"].read() == second
    s3.delete_object(Bucket=ARCHIVE_BUCKET, Key=key)
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=ARCHIVE_BUCKET, Key=key, Range="bytes=0-10")


def test_value_cache_is_bounded_and_forgets() -> None:
    class Key:
        pass

    cache = ValueCache(max_bytes=10, min_bytes=3)
    a, b, c = Key(), Key(), Key()
    cache.put(a, b"aaaa")
    cache.put(b, b"bb")  # below min_bytes: not kept
    assert cache.get(a) == b"aaaa" and cache.get(b) is None
    cache.put(b, b"bbbb")
    cache.put(c, b"cccc")  # 12 bytes > 10: the least recently used (a) goes
    assert cache.get(a) is None and cache.get(b) == b"bbbb" and cache.get(c) == b"cccc"
    cache.forget(b)
    assert cache.get(b) is None
    cache.put(a, b"x" * 11)  # larger than the whole cache: not kept
    assert cache.get(a) is None and cache.get(c) == b"cccc"


def test_wait_final_answers_when_the_query_finishes(tmp_path: Path) -> None:
    store = QueryStore(tmp_path)
    try:
        store.insert(QueryRecord(id="q1", query="SELECT 1", workgroup="primary", state=RUNNING,
                                 submitted=time.time()))
        started = time.monotonic()
        assert store.wait_final("q1", 0.05).state == RUNNING  # nothing happened: the state after the wait
        assert time.monotonic() - started >= 0.05
        finisher = threading.Timer(0.1, lambda: store.update("q1", only_if_state=(RUNNING,), state=SUCCEEDED))
        finisher.start()
        started = time.monotonic()
        record = store.wait_final("q1", 30.0)
        assert record is not None and record.state == SUCCEEDED
        assert time.monotonic() - started < 15.0  # woken by the change, not by the 30 s timeout
        finisher.join()
    finally:
        store.close()


def test_get_query_execution_of_a_finished_query_answers_at_once(client: Any) -> None:
    execution = run_query(client, "SELECT 1")
    assert execution["Status"]["State"] == SUCCEEDED
    started = time.monotonic()
    again = client.get_query_execution(QueryExecutionId=execution["QueryExecutionId"])["QueryExecution"]
    assert again["Status"]["State"] == SUCCEEDED and time.monotonic() - started < 5.0


def test_a_large_result_goes_up_in_parts_and_is_athenas_csv(athena: AthenaStack, client: Any) -> None:
    rows = 100_000  # ~21 MB of CSV: more than one 16 MiB part
    execution, page = succeeded(client, "SELECT x, lpad(CAST(x AS varchar), 200, 'y') AS s, "
                                        "CASE WHEN x % 7 = 0 THEN NULL ELSE x / 2 END AS h "
                                        f"FROM UNNEST(sequence(1, {rows})) AS t(x) ORDER BY x")
    assert page[:3] == [["x", "s", "h"], ["1", "y" * 199 + "1", "0"], ["2", "y" * 199 + "2", "1"]]
    bucket, key = execution["ResultConfiguration"]["OutputLocation"][5:].split("/", 1)
    body = athena.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    expected = ['"x","s","h"'] + [
        f'"{x}","{str(x).rjust(200, "y")}",' + ("" if x % 7 == 0 else f'"{x // 2}"') for x in range(1, rows + 1)]
    assert len(body) > 16 * 1024 * 1024
    assert body == "\n".join(expected) + "\n"


def test_a_large_result_that_fails_midway_leaves_no_object(athena: AthenaStack, client: Any) -> None:
    s3 = athena.client("s3")
    before = _stamp(s3.head_bucket(Bucket=RESULTS_BUCKET))
    # the failing rows come after more than a part's worth of CSV (rows in order, converted as they stream)
    execution = run_query(client, "SELECT x, s, CAST(CASE WHEN x > 250000 THEN 'not a number' ELSE '1' END "
                                  "AS integer) AS bad FROM (SELECT x, lpad(CAST(x AS varchar), 200, 'y') AS s "
                                  "FROM UNNEST(sequence(1, 300000)) AS t(x) ORDER BY x LIMIT 300000)")
    assert execution["Status"]["State"] == "FAILED", execution["Status"]
    bucket, key = execution["ResultConfiguration"]["OutputLocation"][5:].split("/", 1)
    assert bucket == RESULTS_BUCKET
    assert _stamp(s3.head_bucket(Bucket=bucket)) != before  # parts were written, then the upload aborted
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key=key)
    with pytest.raises(s3.exceptions.NoSuchKey):  # nor its .metadata
        s3.get_object(Bucket=bucket, Key=f"{key}.metadata")
    assert not [u for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) if u["Key"] == key]
