"""Deploying infra/template.yaml: to the local endpoint (resource by resource) or to AWS (a stack).

- ``template``: load the template, validate parameters, resolve intrinsics, order resources;
- ``package``: the deterministic Lambda zip (only the handler modules and what they import);
- ``local`` + ``resources``: the local deployer (idempotent, repairs an interrupted deploy);
- ``aws``: package upload and stack create/update through change sets;
- ``cli``: ``wildrydes deploy``.
"""

from __future__ import annotations

from infra.errors import WildrydesError


class DeployError(WildrydesError):
    """A deploy failure the user can act on: the message is one line saying what to do."""


__all__ = ["DeployError"]
