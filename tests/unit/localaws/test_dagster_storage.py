"""The Dagster instance's storage section, SQLite or PostgreSQL, as `local up` writes it into dagster.yaml
(localaws/supervisor/dagster_home.py): switched either way without touching the rest of the file, and valid
for Dagster's instance schema."""

from __future__ import annotations

from pathlib import Path

import yaml
from dagster._core.instance.config import dagster_instance_config_schema

from localaws.supervisor.dagster_home import (
    DAGSTER_YAML,
    OLD_RUN_QUEUE,
    STORAGE_BEGIN,
    postgres_storage,
    prepare_home,
    with_storage,
)

POSTGRES = postgres_storage(5433, "dagster", "dagster", "DAGSTER_PG_PASSWORD")


def test_postgres_storage_reads_the_password_from_the_environment() -> None:
    storage = yaml.safe_load(POSTGRES)["storage"]["postgres"]["postgres_db"]
    assert storage == {"username": "dagster", "password": {"env": "DAGSTER_PG_PASSWORD"}, "hostname": "127.0.0.1",
                       "port": 5433, "db_name": "dagster"}


def test_the_storage_section_is_replaced_and_removed_and_the_rest_kept() -> None:
    edited = DAGSTER_YAML + "# a user's own line\n"
    on_postgres = with_storage(edited, POSTGRES)
    assert on_postgres.startswith(edited) and on_postgres.count(STORAGE_BEGIN) == 1
    assert with_storage(on_postgres, POSTGRES) == on_postgres
    moved = with_storage(on_postgres, postgres_storage(6000, "dagster", "dagster", "DAGSTER_PG_PASSWORD"))
    assert "port: 6000" in moved and "port: 5433" not in moved
    assert with_storage(moved, None) == edited


def test_both_instances_fit_dagsters_schema() -> None:
    from dagster._config import validate_config

    for config in (DAGSTER_YAML, with_storage(DAGSTER_YAML, POSTGRES)):
        result = validate_config(dagster_instance_config_schema(), yaml.safe_load(config))
        assert result.success, result.errors


def test_a_home_written_before_the_dbt_limit_gets_it_once_and_keeps_the_rest(tmp_path: Path) -> None:
    config = tmp_path / "dagster" / "dagster.yaml"
    config.parent.mkdir()
    config.write_text(DAGSTER_YAML.replace(DAGSTER_YAML.split("# A run whose")[0].split("\n", 1)[1], OLD_RUN_QUEUE)
                      + "# a user's own line\n")
    assert "tag_concurrency_limits" not in config.read_text()
    prepare_home(tmp_path)
    prepare_home(tmp_path)
    text = config.read_text()
    assert text.count("tag_concurrency_limits:") == 1 and text.endswith("# a user's own line\n")
    assert yaml.safe_load(text)["run_queue"] == yaml.safe_load(DAGSTER_YAML)["run_queue"]
