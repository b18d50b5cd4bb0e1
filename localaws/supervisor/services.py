"""The processes `wildrydes local up` starts once the infrastructure is deployed: the fleet producer, the
live map, the history loader and Dagster (webserver and daemon). The backends under the endpoint are in
``supervisor.Supervisor.plan``.

They are ordinary clients of the platform: their only configuration is the environment, as on AWS: the
standard AWS variables of ``LocalSettings.aws_env`` and the deployed stack's outputs (``WILDRYDES_<OUTPUT>``,
handed over by the caller), plus ``WILDRYDES_DATA_DIR`` and, for Dagster, ``DAGSTER_HOME``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from localaws.settings import DEFAULT_HOST, REPO_ROOT, LocalSettings
from localaws.supervisor.dagster_home import DagsterHome
from localaws.supervisor.supervisor import BATCH_NICE, Component

DAGSTER_READY_TIMEOUT_S = 180.0  # the webserver loads the code location (dbt manifest included) first
HISTORY_MARKER = Path("history") / "loaded.json"


def wildrydes(*args: str) -> list[str]:
    return [sys.executable, "-m", "infra.cli", *args]


def platform_env(settings: LocalSettings, stack_outputs: dict[str, str]) -> dict[str, str]:
    """What every client of the platform gets: where AWS is, and the names of what is deployed."""
    return {**settings.aws_env(), **stack_outputs, "WILDRYDES_DATA_DIR": str(settings.data_dir)}


def producer(env: dict[str, str], unicorns: int) -> Component:
    return Component("producer", wildrydes("produce", "--unicorns", str(unicorns), "--report-every", "10"), env=env)


def live_map(settings: LocalSettings, env: dict[str, str], port: int) -> Component:
    return Component("map", wildrydes("map", "--port", str(port), "--data-dir", str(settings.data_dir),
                                      "--endpoint", settings.endpoint_url),
                     ready_url=f"http://{DEFAULT_HOST}:{port}/healthz", env=env)


def history(settings: LocalSettings, env: dict[str, str], hours: int, unicorns: int) -> Component:
    """Loads the hours before the current one once per data directory (the marker file says it is done),
    so that a fresh platform has complete hours for Dagster to register, reconcile and model."""
    return Component("history", wildrydes("backfill-history", "--hours", str(hours), "--unicorns", str(unicorns),
                                          "--marker", str(settings.data_dir / HISTORY_MARKER)),
                     env=env, oneshot=True, nice=BATCH_NICE)


def dagster_env(env: dict[str, str], home: DagsterHome) -> dict[str, str]:
    return {**env, "DAGSTER_HOME": str(home.path), "WILDRYDES_START_DATE": home.start_date}


def dagster_webserver(env: dict[str, str], home: DagsterHome, port: int) -> Component:
    bin_dir = Path(sys.executable).parent
    return Component("dagster", [str(bin_dir / "dagster-webserver"), "--host", DEFAULT_HOST, "--port", str(port),
                                 "--workspace", str(REPO_ROOT / "workspace.yaml")],
                     ready_url=f"http://{DEFAULT_HOST}:{port}/server_info", env=dagster_env(env, home),
                     ready_timeout=DAGSTER_READY_TIMEOUT_S)


def dagster_daemon(env: dict[str, str], home: DagsterHome) -> Component:
    bin_dir = Path(sys.executable).parent
    return Component("daemon", [str(bin_dir / "dagster-daemon"), "run", "--workspace",
                                str(REPO_ROOT / "workspace.yaml")],
                     env=dagster_env(env, home), nice=BATCH_NICE)
