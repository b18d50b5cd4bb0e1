"""dbt-athena, unchanged, against the local Athena engine: seed, a view, a partitioned Hive Parquet
table, incremental append and insert_overwrite, an Iceberg table model (rebuilt and renamed) and an
Iceberg incremental merge, dbt test and dbt docs generate, run as subprocesses with
nothing but the AWS endpoint and dummy credentials in their environment; the tables it builds are
compared with DuckDB run directly on the same Parquet files."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from localaws.settings import REPO_ROOT
from tests.support.athena_stack import AthenaStack, athena_stack, succeeded, upload_archive, write_archive_parquet

PROJECT = REPO_ROOT / "tests" / "support" / "dbt_athena_project"
HOURS = ["00", "01", "02", "03"]
ROWS_PER_HOUR = 1500
SCHEMA = "dbt_local"
DBT = str(Path(sys.executable).parent / "dbt")


@pytest.fixture(scope="module")
def athena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaStack]:
    yield from athena_stack(tmp_path_factory.mktemp("athena-dbt"))


@pytest.fixture(scope="module")
def archive(athena: AthenaStack, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    files = write_archive_parquet(tmp_path_factory.mktemp("archive"), HOURS, ROWS_PER_HOUR)
    upload_archive(athena, files)
    return files


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project, so dbt's target/, logs/ and user files stay out of the repository."""
    root = tmp_path_factory.mktemp("dbt") / "project"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return root


@pytest.fixture(scope="module")
def local(archive: dict[tuple[str, str], Path]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    paths = ", ".join(f"'{p}'" for p in archive.values())
    con.execute(f"CREATE VIEW raw AS SELECT * FROM read_parquet([{paths}], hive_partitioning = true)")
    con.execute(f"CREATE TABLE profiles AS SELECT * FROM read_csv('{PROJECT / 'seeds' / 'unicorn_profiles.csv'}')")
    return con


def dbt(athena: AthenaStack, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(project.parent),
        "DBT_PROFILES_DIR": str(project),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **{k: v for k, v in athena.env.items() if k.startswith("AWS_ENDPOINT_URL") or k.startswith("AWS_")
           and "KEY" in k},
    }
    assert set(env) - {"PATH", "HOME", "DBT_PROFILES_DIR", "DBT_SEND_ANONYMOUS_USAGE_STATS"} <= {
        "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ATHENA", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    result = subprocess.run([DBT, *args, "--project-dir", str(project)], capture_output=True, text=True,
                            env=env, cwd=project, timeout=900)
    assert result.returncode == 0, f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    return result


def query(athena: AthenaStack, sql: str) -> list[list[str | None]]:
    _, rows = succeeded(athena.client("athena"), sql)
    return rows[1:]


def _same(actual: list[list[str | None]], expected: list[tuple[Any, ...]]) -> None:
    assert len(actual) == len(expected), (actual[:5], expected[:5])
    for got, want in zip(actual, expected, strict=True):
        for g, w in zip(got, want, strict=True):
            if isinstance(w, float):
                assert g is not None and math.isclose(float(g), w, rel_tol=1e-9), (got, want)
            else:
                assert g == (None if w is None else str(w)), (got, want)


def test_seed_build_incremental_test_and_docs(athena: AthenaStack, archive: Any, project: Path, local: Any) -> None:
    glue = athena.client("glue")

    dbt(athena, project, "seed")
    with (PROJECT / "seeds" / "unicorn_profiles.csv").open() as handle:
        seeded = [[r["name"], r["colour"], r["born"]] for r in csv.DictReader(handle)]
    assert query(athena, f"SELECT name, colour, CAST(born AS varchar) FROM {SCHEMA}.unicorn_profiles ORDER BY name"
                 ) == seeded

    build = dbt(athena, project, "build", "--vars", '{"first_hour": "00", "last_hour": "01"}')
    assert "ERROR=0" in build.stdout and "PASS=" in build.stdout

    view = glue.get_table(DatabaseName=SCHEMA, Name="stg_unicorn_status")["Table"]
    assert view["TableType"] == "VIRTUAL_VIEW"
    table = glue.get_table(DatabaseName=SCHEMA, Name="distance_by_hour")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["hour"]
    assert "Parquet" in table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]

    _same(query(athena, f"SELECT name, colour, distance, records, min_health, hour FROM {SCHEMA}.distance_by_hour "
                        "ORDER BY hour, name"),
          local.execute("SELECT s.name, p.colour, sum(s.distance), count(*), min(s.healthpoints), s.hour "
                        "FROM raw s JOIN profiles p ON p.name = s.name WHERE s.dt = '2026-11-25' "
                        "GROUP BY s.name, p.colour, s.hour ORDER BY s.hour, s.name").fetchall())

    first_run = query(athena, f"SELECT DISTINCT run_id FROM {SCHEMA}.hourly_overwrite")
    assert len(first_run) == 1

    # the second run: append adds hours 01-02 again; insert_overwrite replaces partitions 01 and 02 only
    dbt(athena, project, "run", "--vars", '{"first_hour": "01", "last_hour": "02"}')
    _same(query(athena, f"SELECT hour, count(*), sum(records) FROM {SCHEMA}.vitals_append GROUP BY hour ORDER BY hour"),
          [("00", 7, ROWS_PER_HOUR), ("01", 14, 2 * ROWS_PER_HOUR), ("02", 7, ROWS_PER_HOUR)])
    runs = query(athena, f"SELECT hour, count(*), count(DISTINCT run_id), max(run_id) FROM {SCHEMA}.hourly_overwrite "
                         "GROUP BY hour ORDER BY hour")
    assert [r[:3] for r in runs] == [["00", "7", "1"], ["01", "7", "1"], ["02", "7", "1"]]
    assert runs[0][3] == first_run[0][0] and runs[1][3] == runs[2][3] != runs[0][3]
    _same(query(athena, f"SELECT name, hour, records, distance FROM {SCHEMA}.hourly_overwrite ORDER BY hour, name"),
          local.execute("SELECT name, hour, count(*), sum(distance) FROM raw WHERE hour BETWEEN '00' AND '02' "
                        "GROUP BY name, hour ORDER BY hour, name").fetchall())

    # Iceberg (emulated): merge updates the hours it sees again; the table model was rebuilt and renamed
    merged = query(athena, f"SELECT hour, count(*), count(DISTINCT run_id), max(run_id) FROM {SCHEMA}.vitals_merge "
                           "GROUP BY hour ORDER BY hour")
    assert [r[:3] for r in merged] == [["00", "7", "1"], ["01", "7", "1"], ["02", "7", "1"]]
    assert merged[0][3] == first_run[0][0] and merged[1][3] == merged[2][3] == runs[1][3]
    iceberg = glue.get_table(DatabaseName=SCHEMA, Name="latest_vitals")["Table"]
    assert iceberg["Parameters"]["table_type"] == "ICEBERG"
    _same(query(athena, f"SELECT name, last_seen, min_health FROM {SCHEMA}.latest_vitals ORDER BY name"),
          [(n, t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}", h) for n, t, h in local.execute(
              "SELECT name, max(arrivaltime), min(healthpoints) FROM raw WHERE dt = '2026-11-25' GROUP BY name "
              "ORDER BY name").fetchall()])

    tested = dbt(athena, project, "test")
    assert "ERROR=0" in tested.stdout and "PASS=11" in tested.stdout

    dbt(athena, project, "docs", "generate")
    catalog = json.loads((project / "target" / "catalog.json").read_text())
    nodes = catalog["nodes"]
    model = nodes["model.wildrydes_local_athena_check.distance_by_hour"]
    assert set(model["columns"]) >= {"name", "colour", "distance", "records", "min_health", "hour"}
    assert "model.wildrydes_local_athena_check.stg_unicorn_status" in nodes
