"""`pip install wildrydes` for Dagster on AWS installs none of the local runtime's dependencies (moto,
DuckDB, aiohttp, psutil: the `local` extra), and the code location still imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from localaws.settings import REPO_ROOT

LOCAL_ONLY = ("moto", "duckdb", "aiohttp", "psutil")
CHECK = """
import importlib, importlib.util, json, pkgutil
import orchestration.definitions, orchestration.defs
modules = [m.name for m in pkgutil.walk_packages(orchestration.defs.__path__, "orchestration.defs.")]
for name in modules:
    importlib.import_module(name)
print(json.dumps({"modules": modules, "file": orchestration.__file__,
                  "installed": {m: importlib.util.find_spec(m) is not None for m in LOCAL_ONLY}}))
""".replace("LOCAL_ONLY", repr(LOCAL_ONLY))


def uv() -> str:
    found = REPO_ROOT / ".tools" / "bin" / "uv"  # where `make` installs it
    return str(found) if found.exists() else shutil.which("uv") or "uv"


def run(*args: str, cwd: Path = REPO_ROOT, **kwargs: object) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload]
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_wheel_without_the_local_extra_imports_the_orchestration(tmp_path: Path) -> None:
    run(uv(), "build", "--wheel", "--offline", "--out-dir", str(tmp_path / "dist"))
    wheel = next((tmp_path / "dist").glob("wildrydes-*.whl"))
    requirements = run(uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--format", "requirements-txt",
                       "--quiet")
    assert "moto==" not in requirements and "dagster==" in requirements
    # The core dependencies exactly as locked, from the distributions `make install` cached: `uv sync` reads the
    # lock's URLs, where `uv pip install -r` would need the package index's pages, which a fresh cache lacks.
    venv = tmp_path / "venv"
    run(uv(), "sync", "--frozen", "--offline", "--quiet", "--no-dev", "--no-install-project", "--python",
        sys.executable, env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)})
    run(uv(), "pip", "install", "--quiet", "--offline", "--no-deps", "--python", str(venv / "bin" / "python"),
        str(wheel))

    # Run outside the checkout, so that only what the wheel installed can be imported; the dbt project comes
    # beside the package, as in an image.
    dbt_project = shutil.copytree(REPO_ROOT / "dbt_project", tmp_path / "dbt_project",
                                  ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
           "WILDRYDES_DBT_PROJECT_DIR": str(dbt_project)}
    report = json.loads(run(str(venv / "bin" / "python"), "-c", CHECK, cwd=tmp_path, env=env))
    assert Path(report["file"]).is_relative_to(venv)
    assert report["installed"] == {module: False for module in LOCAL_ONLY}
    assert {"orchestration.defs.quality.reconcile", "orchestration.defs.dbt.assets"} <= set(report["modules"])
    assert (dbt_project / "target" / "manifest.json").exists()  # dbt parsed it with the installed dbt-athena
