"""Where the dbt project is, and its manifest (parsed when missing or older than the project's files)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtProject

# The checkout's dbt project, unless the code location runs from an installed package (an image on AWS).
DBT_DIR = Path(os.environ.get("WILDRYDES_DBT_PROJECT_DIR") or Path(__file__).resolve().parents[3] / "dbt_project")
SOURCES = ("models", "macros", "tests", "dbt_project.yml", "profiles.yml")

project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


def _newest_source_mtime(root: Path) -> float:
    newest = 0.0
    for name in SOURCES:
        path = root / name
        paths = [path] if path.is_file() else (path.rglob("*") if path.is_dir() else [])
        for item in paths:
            if item.is_file():
                newest = max(newest, item.stat().st_mtime)
    return newest


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def ensure_manifest(root: Path = DBT_DIR) -> Path:
    """``target/manifest.json``, running ``dbt parse`` first if it is missing or stale (under a lock:
    the webserver and the daemon load the code location at the same time)."""
    manifest = root / "target" / "manifest.json"
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime(root):
        return manifest
    (root / "target").mkdir(exist_ok=True)
    with open(root / "target" / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(root):
            subprocess.run(
                [dbt_executable(), "parse", "--project-dir", str(root), "--profiles-dir", str(root), "--quiet"],
                check=True, cwd=root, env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                stdout=subprocess.DEVNULL,
            )
    return manifest


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration (dbt reads its profile from them)."""
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
