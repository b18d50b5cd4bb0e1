"""What `make up` prints once the platform is up can be pasted into another shell as it is."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

from infra.cli.local import _banner, command_name
from localaws.settings import REPO_ROOT, LocalSettings


def test_the_banner_exports_what_a_client_needs(tmp_path: Path) -> None:
    settings = LocalSettings(tmp_path, port=4777)
    lines = _banner(settings, producing=20, map_url=None, dagster_url=None)
    shell = next(line for line in lines if line.strip().startswith("shell"))
    exported = dict(word.split("=", 1) for word in shlex.split(shell.split("export", 1)[1]))
    assert exported == settings.aws_env()
    assert exported["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4777"


def test_the_banner_names_the_command_as_the_shell_finds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    venv_bin = Path(sys.executable).parent
    if not (venv_bin / "wildrydes").exists():
        pytest.fail(f"the tests run from the project's environment, which has {venv_bin / 'wildrydes'}")
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    script = venv_bin / "wildrydes"
    assert command_name() == str(script.relative_to(REPO_ROOT) if script.is_relative_to(REPO_ROOT) else script)
    lines = _banner(LocalSettings(REPO_ROOT / ".wildrydes"), producing=20, map_url=None, dagster_url=None)
    assert any(f"`{command_name()} local down`" in line for line in lines)
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}/usr/bin:/bin")
    assert command_name() == "wildrydes"
