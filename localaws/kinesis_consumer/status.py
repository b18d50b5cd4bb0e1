"""The ``status.json`` of a consumer process, read by `wildrydes local status`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_status(path: Path, body: dict[str, Any], *, started_at: float, updated_at: float) -> None:
    """Atomically replaces the file (a reader never sees half a file): the process id, when it started, when
    this was written, and ``body``."""
    payload = {"pid": os.getpid(), "started_at": started_at, "updated_at": updated_at, **body}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
    os.replace(tmp, path)
