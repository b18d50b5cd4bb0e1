"""The local deployer's files in ``<data dir>/deploy/``.

- ``state.json``: per resource, what the last deploy applied (type, name, Ref, properties), written
  after every resource, so an interrupted deploy leaves an accurate record of what it finished;
- ``in-progress.json``: present while a deploy runs; found at the start of the next deploy it means
  the previous one was interrupted (that deploy then converges every resource again);
- ``lock``: one deploy at a time per data directory;
- ``outputs.json``: the resolved stack outputs and parameters of the last successful deploy.

This module is the only reader of ``outputs.json`` (``read_outputs``). The processes of the platform get the
outputs as environment variables (``outputs_environment``: ``ArchiveBucketName`` ->
``WILDRYDES_ARCHIVE_BUCKET_NAME``), as a container on AWS would get them from the stack.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from infra.deploy import DeployError

STATE_VERSION = 1


class DeployFiles:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "deploy"
        self.state_path = self.dir / "state.json"
        self.marker_path = self.dir / "in-progress.json"
        self.lock_path = self.dir / "lock"
        self.outputs_path = self.dir / "outputs.json"
        self._state: dict[str, Any] = {"version": STATE_VERSION, "resources": {}, "orphans": []}

    @contextmanager
    def locked(self) -> Iterator[None]:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            handle: IO[str] = self.lock_path.open("a+")
        except OSError as error:
            raise DeployError(f"cannot write to the data directory {self.dir.parent}: {error.strerror}") from None
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DeployError(
                    f"another deploy is running on {self.dir.parent}: wait for it to finish, then deploy again"
                ) from None
            yield
        finally:
            handle.close()

    # ---- interrupted deploys -------------------------------------------------------------
    def interrupted(self) -> dict[str, Any] | None:
        """The marker a deploy that did not finish left behind, if any."""
        return _read_json(self.marker_path)

    def begin(self, info: dict[str, Any]) -> None:
        _write_json(self.marker_path, {**info, "pid": os.getpid()})

    def finish(self) -> None:
        self.marker_path.unlink(missing_ok=True)

    # ---- per-resource record -------------------------------------------------------------
    def load(self) -> dict[str, Any]:
        state = _read_json(self.state_path)
        if state and state.get("version") == STATE_VERSION:
            self._state = {"version": STATE_VERSION, "resources": state.get("resources", {}),
                           "orphans": state.get("orphans", [])}
        return self._state

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self._state["resources"]

    @property
    def orphans(self) -> list[dict[str, Any]]:
        return self._state["orphans"]

    def record(self, logical_id: str, entry: dict[str, Any]) -> None:
        previous = self.resources.get(logical_id)
        if previous and previous.get("Name") != entry.get("Name"):
            # The resource was renamed: the old one is cleaned up at the end of the deploy.
            self.orphans.append({**previous, "LogicalId": logical_id})
        self.resources[logical_id] = entry
        self.save()

    def forget(self, logical_id: str) -> None:
        self.resources.pop(logical_id, None)
        self.save()

    def forget_orphan(self, orphan: dict[str, Any]) -> None:
        if orphan in self.orphans:
            self.orphans.remove(orphan)
        self.save()

    def save(self) -> None:
        _write_json(self.state_path, self._state)

    def write_outputs(self, payload: dict[str, Any]) -> None:
        _write_json(self.outputs_path, payload)


def read_outputs(data_dir: Path) -> dict[str, Any] | None:
    """What the last successful local deploy wrote: ``StackName``, ``Region``, ``EndpointUrl``, ``Outputs``…;
    None before the first deploy."""
    return _read_json(DeployFiles(data_dir).outputs_path)


def output_variable(output: str) -> str:
    """``ArchiveBucketName`` -> ``WILDRYDES_ARCHIVE_BUCKET_NAME``."""
    return "WILDRYDES_" + re.sub(r"(?<!^)(?=[A-Z])", "_", output).upper()


def outputs_environment(document: dict[str, Any] | None) -> dict[str, str]:
    """The stack's outputs as the environment variables the platform's processes read."""
    outputs = (document or {}).get("Outputs") or {}
    return {output_variable(name): str(value) for name, value in sorted(outputs.items()) if value is not None}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    """Atomically: a reader (or a deploy killed mid-write) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise DeployError(f"cannot write {path}: {error.strerror}") from None
