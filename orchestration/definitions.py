"""The Wild Rydes code location: every definition under ``orchestration/defs/`` (one package per domain).

Loaded by ``workspace.yaml`` (``dagster dev -w workspace.yaml``, the webserver and the daemon) and by
``dg`` (``dg list defs``, ``dg check defs``), which finds it through ``[tool.dg.project]`` in pyproject.toml."""

from pathlib import Path

import dagster as dg

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def load() -> dg.Definitions:
    """Every definition of the code location, resolved (for tests and scripts)."""
    return dg.load_from_defs_folder(path_within_project=PROJECT_ROOT)


@dg.definitions
def defs() -> dg.Definitions:
    return load()
