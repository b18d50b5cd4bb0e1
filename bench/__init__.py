"""Benchmarks of the Wild Rydes platform (not timed tests): ``uv run python -m bench [name] [--quick]``.

A benchmark is a module of this package with ``NAME``, ``DESCRIPTION`` and ``main(argv) -> int`` that
writes its results to ``bench/results/``; ``python -m bench`` finds them by those attributes.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def host() -> dict[str, Any]:
    """What a result was measured on and with: the hosts are shared and change between runs (another kernel
    build, the same load costing a third more CPU), so only figures of one host compare."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in load], "commit": commit}


def discover() -> tuple[dict[str, ModuleType], dict[str, str]]:
    """The benchmarks by NAME, and the modules of bench/ that failed to import (module -> error)."""
    found: dict[str, ModuleType] = {}
    broken: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{__name__}.{info.name}")
        except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the others
            broken[info.name] = f"{type(error).__name__}: {error}"
            continue
        name = getattr(module, "NAME", None)
        if isinstance(name, str) and callable(getattr(module, "main", None)):
            found[name] = module
    return found, broken
