"""The workshop's question end to end: records produced to the stream are archived by the local
Firehose as Parquet under raw/dt=/hour=/, MSCK REPAIR TABLE (through the local Athena) registers the
partitions, and pyathena's "total distance per unicorn" equals DuckDB's over the archived objects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.support.athena_stack import ARCHIVE_BUCKET, DATABASE, WORKGROUP, AthenaStack, athena_stack, succeeded

RECORDS = 600


@pytest.fixture(scope="module")
def athena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaStack]:
    yield from athena_stack(tmp_path_factory.mktemp("athena-archive"),
                            ["--parameter", "ArchiveBufferIntervalSeconds=2", "--parameter", "ArchiveBufferSizeMB=1"])


def archived(s3: Any, directory: Path) -> list[Path]:
    paths = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=ARCHIVE_BUCKET, Prefix="raw/"):
        for item in page.get("Contents", []):
            path = directory / item["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(ARCHIVE_BUCKET, item["Key"], str(path))
            paths.append(path)
    return paths


def test_produced_records_are_queryable_through_pyathena(athena: AthenaStack, tmp_path: Path) -> None:
    produced = athena.stack.cli("produce", "--unicorns", "4", "--count", str(RECORDS), "--seed", "7", "--rate", "60",
                                timeout=300)
    assert produced.returncode == 0, produced.stderr
    s3 = athena.client("s3")
    deadline = time.monotonic() + 180
    while True:
        files = archived(s3, tmp_path / f"round-{int(time.monotonic())}")
        count = duckdb.sql("SELECT count(*) FROM read_parquet([" + ", ".join(f"'{p}'" for p in files) + "])"
                           ).fetchall()[0][0] if files else 0
        if count >= RECORDS:
            break
        assert time.monotonic() < deadline, f"only {count} of {RECORDS} records archived"
        time.sleep(2)
    client = athena.client("athena")
    succeeded(client, "MSCK REPAIR TABLE unicorn_status")
    from pyathena import connect

    with athena.environment():
        cursor = connect(work_group=WORKGROUP, schema_name=DATABASE, poll_interval=0.05).cursor()
        cursor.execute("SELECT name, sum(distance) AS distance, count(*) AS records FROM unicorn_status "
                       "GROUP BY name ORDER BY name")
        actual = cursor.fetchall()
    paths = ", ".join(f"'{p}'" for p in files)
    expected = duckdb.sql(f"SELECT name, sum(distance), count(*) FROM read_parquet([{paths}]) GROUP BY name "
                          "ORDER BY name").fetchall()
    assert [(n, c) for n, _, c in actual] == [(n, c) for n, _, c in expected]
    assert all(abs(a[1] - e[1]) < 1e-6 for a, e in zip(actual, expected, strict=True))
    assert sum(c for _, _, c in actual) == count
