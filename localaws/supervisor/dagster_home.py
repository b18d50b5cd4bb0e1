"""The Dagster instance of the local platform: ``DAGSTER_HOME`` under ``<data dir>/dagster``.

``prepare_home(data_dir)`` (called by `wildrydes local up` before it starts the webserver and the daemon)
creates the directory with a ``dagster.yaml`` (SQLite storage in the directory, or PostgreSQL with
``--dagster-storage postgres`` (postgres.py), at most two runs at a time — a laptop-sized queue —, dbt one at
a time, run monitoring and retries of crashed runs, no telemetry) and fixes the platform's partition start date
once, in ``start_date``; `local up` hands it to Dagster as
``WILDRYDES_START_DATE``, the variable the code location reads, so the partitions do not move from one
start to the next. Existing files are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestration.defs.platform.run_tags import DBT_RUNS_LIMIT, DBT_RUNS_TAG

RUN_LAUNCHER = """\
run_launcher:
  module: localaws.supervisor.dagster_launcher
  class: LocalRunLauncher
"""
OLD_RUN_QUEUE = "run_queue:\n  max_concurrent_runs: 2\n"
RUN_QUEUE = f"""\
run_queue:
  max_concurrent_runs: 2
  # dbt one run at a time: two builds race on the same Athena tables (orchestration/defs/platform/run_tags.py)
  tag_concurrency_limits:
    - key: {DBT_RUNS_TAG}
      limit: {DBT_RUNS_LIMIT}
"""
DAGSTER_YAML = f"""\
# Written once by localaws/supervisor/dagster_home.py; edit freely.
{RUN_QUEUE}# A run whose worker died (a killed process, a crashed machine) is noticed and run again; a run that failed
# on its own (e.g. a red blocking check) is not retried. Dagster's default launcher cannot tell a dead worker:
{RUN_LAUNCHER}run_monitoring:
  enabled: true
  poll_interval_seconds: 30
run_retries:
  enabled: true
  max_retries: 2
  retry_on_asset_or_op_failure: false
telemetry:
  enabled: false
"""
STORAGE_BEGIN = "# BEGIN storage: written at every start by `wildrydes local up --dagster-storage`"
STORAGE_END = "# END storage"
START_DATE_FILE = "start_date"
DAYS_BEFORE_FIRST_START = 1  # yesterday: the history loaded at the first start is inside the partitions


@dataclass(frozen=True)
class DagsterHome:
    path: Path
    start_date: str  # YYYY-MM-DD, UTC


def postgres_storage(port: int, username: str, db_name: str, password_env: str) -> str:
    """The storage section of an instance on a PostgreSQL server on this machine (dagster-postgres), the
    password read from the environment as on AWS."""
    return (f"storage:\n  postgres:\n    postgres_db:\n      username: {username}\n      password:\n"
            f"        env: {password_env}\n      hostname: 127.0.0.1\n      port: {port}\n      db_name: {db_name}\n")


def with_storage(config: str, storage: str | None) -> str:
    """``config`` with its managed storage section replaced by ``storage`` (None: none, SQLite in the home)."""
    lines = config.splitlines(keepends=True)
    if STORAGE_BEGIN + "\n" in lines and STORAGE_END + "\n" in lines:
        begin, end = lines.index(STORAGE_BEGIN + "\n"), lines.index(STORAGE_END + "\n")
        lines = lines[:begin] + lines[end + 1:]
    kept = "".join(lines)
    return kept if storage is None else f"{kept}{STORAGE_BEGIN}\n{storage}{STORAGE_END}\n"


def prepare_home(data_dir: Path, now: datetime | None = None, storage: str | None = None) -> DagsterHome:
    """``storage``: the instance's storage section (``postgres_storage``), None for SQLite in the home."""
    home = data_dir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    elif "run_launcher:" not in config.read_text():  # written by an earlier version
        config.write_text(config.read_text() + "# Added by a later version (dead run workers are noticed):\n"
                          + RUN_LAUNCHER)
    if OLD_RUN_QUEUE in config.read_text() and "tag_concurrency_limits:" not in config.read_text():
        # written before dbt runs were limited to one at a time
        config.write_text(config.read_text().replace(OLD_RUN_QUEUE, RUN_QUEUE, 1))
    config.write_text(with_storage(config.read_text(), storage))
    seed_reexecution_cursors(home)
    start = home / START_DATE_FILE
    if not start.exists():
        first = (now or datetime.now(UTC)).astimezone(UTC) - timedelta(days=DAYS_BEFORE_FIRST_START)
        start.write_text(f"{first:%Y-%m-%d}\n")
    return DagsterHome(home, start.read_text().strip())


def seed_reexecution_cursors(home: Path) -> None:
    """Start the daemon's run-retry consumer at the top of the event log, as it would itself, but without its
    warning on every fresh instance ("No cursor for event type …, ignoring older events"), which nobody can
    act on. (Dagster's own cursor names: its daemon would do exactly this on its first iteration.)"""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef
    from dagster._daemon.auto_run_reexecution.event_log_consumer import DAGSTER_EVENT_TYPES, _create_cursor_key

    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        keys = {_create_cursor_key(event_type) for event_type in DAGSTER_EVENT_TYPES}
        missing = keys - set(instance.daemon_cursor_storage.get_cursor_values(keys))
        if missing:
            top = instance.event_log_storage.get_maximum_record_id() or 0
            instance.daemon_cursor_storage.set_cursor_values({key: str(top) for key in missing})
    finally:
        instance.dispose()
