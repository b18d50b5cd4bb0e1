"""Benchmarks of the Wild Rydes platform (not timed tests): ``uv run python -m bench [name] [--quick]``.

A benchmark is a module of this package with ``NAME``, ``DESCRIPTION`` and ``main(argv) -> int`` that
writes its results to ``bench/results/``; ``python -m bench`` finds them by those attributes.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

RESULTS_DIR = Path(__file__).resolve().parent / "results"


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
