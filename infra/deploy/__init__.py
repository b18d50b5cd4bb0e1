"""Deploying infra/template.yaml: to the local endpoint (resource by resource) or to AWS (a stack).

- ``template``: load the template, validate parameters, resolve intrinsics, order resources;
- ``package``: the deterministic Lambda zip (only the handler modules and what they import);
- ``local`` + ``resources``: the local deployer (idempotent, repairs an interrupted deploy);
- ``aws``: package upload and stack create/update through change sets;
- ``dagster`` + ``dagster_instance``: the Dagster stack (infra/dagster.yaml) from the main stack's outputs, and
  the Dagster instance configuration rendered from its own outputs;
- ``state``: the deployer's files, and the one reader of the stack outputs it writes.

``wildrydes deploy`` is ``infra/cli/deploy.py``.
"""

from __future__ import annotations

from pathlib import Path

from infra.errors import WildrydesError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REGION = "us-east-1"


class DeployError(WildrydesError):
    """A deploy failure the user can act on: the message is one line saying what to do."""


__all__ = ["DEFAULT_REGION", "REPO_ROOT", "DeployError"]
