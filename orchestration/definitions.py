"""The Wild Rydes code location: every definition under ``orchestration/defs/`` (one package per domain).

Loaded by ``workspace.yaml`` (``dagster dev -w workspace.yaml``, the webserver and the daemon) and by
``dg`` (``[tool.dg.project] root_module = "orchestration"``)."""

from pathlib import Path

import dagster as dg

import orchestration.defs

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def load() -> dg.Definitions:
    """Every definition of the code location, resolved (for tests and scripts)."""
    return dg.load_defs(orchestration.defs, project_root=PROJECT_ROOT)


@dg.definitions
def defs() -> dg.Definitions:
    return load()
