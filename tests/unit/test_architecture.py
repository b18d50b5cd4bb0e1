"""The layout's rules (docs/architecture.md): imports point one way, with no cycle at any depth, and no
module grows past 600 lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from localaws.settings import REPO_ROOT

PACKAGES = ("infra", "localaws", "streaming", "orchestration")
MAX_LINES = 600
GENERATED = ("streaming/map/site/",)  # the map's bundle, built by esbuild


def test_import_rules_hold() -> None:
    """The contracts in pyproject.toml's [tool.importlinter]: layers, and no cycles."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " kept, 0 broken." in result.stdout


def test_no_source_file_is_over_600_lines() -> None:
    tracked = subprocess.run(["git", "ls-files", *PACKAGES], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    sources = [path for path in tracked if path.endswith((".py", ".js", ".mjs")) and not path.startswith(GENERATED)]
    assert len(sources) > 100
    long = {path: n for path in sources if (n := len((REPO_ROOT / path).read_text().splitlines())) > MAX_LINES}
    assert long == {}
