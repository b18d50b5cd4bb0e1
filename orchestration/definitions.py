"""The Wild Rydes code location: every definition under ``orchestration/defs/`` (one package per domain).

Loaded by ``workspace.yaml`` (``dagster dev -w workspace.yaml``, the webserver and the daemon) and by
``dg`` once pyproject.toml declares the project (``[tool.dg.project] root_module = "orchestration"``)."""

from pathlib import Path

import dagster as dg
from dagster_shared.utils.config import discover_config_file

import orchestration.defs

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def load() -> dg.Definitions:
    """Every definition of the code location, resolved (for tests and scripts)."""
    if discover_config_file(PROJECT_ROOT, lambda config: "project" in config) is not None:
        return dg.load_from_defs_folder(path_within_project=PROJECT_ROOT)
    # Without the [tool.dg] table the same folder is loaded directly (load_defs is deprecated for this).
    return dg.load_defs(orchestration.defs, project_root=PROJECT_ROOT)


@dg.definitions
def defs() -> dg.Definitions:
    return load()
