"""The two linters every CloudFormation template of the project passes (cfn-lint, and checkov from its own
environment in infra/lint), run on one template: the template tests assert on what they report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from localaws.settings import REPO_ROOT

CHECKOV = REPO_ROOT / "infra" / "lint" / ".venv" / "bin" / "checkov"


def cfn_lint(template: Path) -> subprocess.CompletedProcess[str]:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run([str(cfn_lint), "--format", "parseable", str(template)],
                          capture_output=True, text=True, timeout=300)


def checkov(template: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """checkov's run and its JSON report."""
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed: run `uv sync --project infra/lint` (it creates {CHECKOV})")
    result = subprocess.run(
        [str(CHECKOV), "-f", str(template), "--framework", "cloudformation", "--output", "json",
         "--skip-download", "--compact"],
        capture_output=True, text=True, timeout=600,
    )
    return result, json.loads(result.stdout)
