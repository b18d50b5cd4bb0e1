"""Benchmarks of the Wild Rydes platform (not timed tests): ``uv run python -m bench [name] [--quick]``.

A benchmark is a module of this package with ``NAME``, ``DESCRIPTION`` and ``main(argv) -> int`` that
writes its results to ``bench/results/``; ``python -m bench`` finds them by those attributes.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
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
    commit = _git("rev-parse", "--short", "HEAD").strip()
    # changed tracked files other than results: the code measured is not the commit's
    changed = [line[3:] for line in _git("status", "--porcelain", "--untracked-files=no").splitlines()
               if not line[3:].startswith("bench/results/")]
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in load], "commit": commit,
            "uncommitted_changes": changed}


def commit_of(machine: dict[str, Any]) -> str:
    """The commit a result measured, for its markdown; says so when the tree had uncommitted changes."""
    changed = machine.get("uncommitted_changes") or []
    return f"`{machine.get('commit') or '?'}`" + (
        f" **with uncommitted changes** to {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''}"
        if changed else "")


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).parent,
                              timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def add_result_options(parser: argparse.ArgumentParser) -> None:
    """``--tag`` and ``--overwrite``: where a run's result goes, and whether it may replace a saved one."""
    parser.add_argument("--tag", type=_tag, help="save the result as <name>-TAG beside the others "
                                                 "(e.g. the commit or change measured)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a result the repository holds (the docs may quote it)")


def result_stem(name: str, args: argparse.Namespace, now: datetime | None = None) -> str:
    """The file name (without suffix) of this run's result under bench/results/: ``name``, or ``name-TAG``.

    A result the repository holds is not overwritten without ``--overwrite``: the docs quote saved results, so
    a run whose name is taken goes beside them, as ``name-<UTC time>`` (``--tag`` taken too: refused, before
    the run rather than after it)."""
    tag = getattr(args, "tag", None)
    stem = f"{name}-{tag}" if tag else name
    if getattr(args, "overwrite", False) or not _held(stem):
        return stem
    if tag:
        raise SystemExit(f"bench/results/{stem} is a saved result (the docs may quote it): pass another --tag, "
                         "or --overwrite to replace it")
    stamped = f"{name}-{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}"
    print(f"bench/results/{stem} is a saved result (the docs may quote it): this run goes to {stamped}",
          file=sys.stderr, flush=True)
    return stamped


def _held(stem: str) -> bool:
    return bool(_git("ls-files", "--", f"{RESULTS_DIR.name}/{stem}.*").split())


def _tag(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text):
        raise argparse.ArgumentTypeError(f"{text!r}: letters, digits, '.', '_' and '-' only")
    return text


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
