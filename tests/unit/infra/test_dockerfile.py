"""The code location's image (Dockerfile, .dockerignore, infra/docker/dagster-entrypoint.sh), checked without
`docker build`: what it copies is in the build context, everything the code location imports is copied or
locked, its Python dependencies are uv.lock's base ones installed frozen, its commands are console scripts of
locked packages that accept their arguments, and the task definitions in infra/dagster.yaml run those commands."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import click
import pytest
import yaml

from infra.deploy.dagster import DAGSTER_TEMPLATE_PATH
from infra.deploy.dagster_instance import instance_config
from infra.deploy.template import load_template
from localaws.settings import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
ENTRYPOINT = REPO_ROOT / "infra" / "docker" / "dagster-entrypoint.sh"
FIRST_PARTY = ("infra", "localaws", "streaming", "orchestration")


# ---------------------------------------------------------------------------------- reading the Dockerfile
@dataclass(frozen=True)
class Instruction:
    stage: int
    keyword: str
    arguments: str


def instructions(text: str) -> list[Instruction]:
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    found, stage = [], -1
    for line in logical:
        keyword, _, arguments = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            stage += 1
        found.append(Instruction(stage, keyword.upper(), arguments.strip()))
    return found


def exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list), f"not the exec form: {arguments}"
    return value


def flags_and_words(arguments: str) -> tuple[dict[str, str], list[str]]:
    flags, words = {}, []
    for word in shlex.split(arguments):
        if word.startswith("--"):
            key, _, value = word[2:].partition("=")
            flags[key] = value
        else:
            words.append(word)
    return flags, words


def env_of(items: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        if item.keyword == "ENV":
            for pair in shlex.split(item.arguments):
                key, _, value = pair.partition("=")
                env[key] = value.replace("$PATH", env.get("PATH", "$PATH"))
    return env


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return instructions(DOCKERFILE.read_text())


def final(dockerfile: list[Instruction]) -> list[Instruction]:
    last = max(item.stage for item in dockerfile)
    return [item for item in dockerfile if item.stage == last]


def context_copies(dockerfile: list[Instruction]) -> list[tuple[int, str, str]]:
    """(stage, source, destination) of every COPY from the build context, destinations made absolute."""
    copies, workdir = [], {}
    for item in dockerfile:
        if item.keyword == "WORKDIR":
            workdir[item.stage] = item.arguments
        if item.keyword != "COPY":
            continue
        flags, words = flags_and_words(item.arguments)
        if "from" in flags:
            continue
        *sources, destination = words
        into = destination.endswith("/") or destination in (".", "./")
        if not destination.startswith("/"):
            destination = str(PurePosixPath(workdir[item.stage]) / destination)
        for source in sources:
            # a file copied into a directory keeps its name; a directory's contents go into the destination
            is_file = (REPO_ROOT / source).is_file()
            target = str(PurePosixPath(destination) / PurePosixPath(source).name) if into and is_file else destination
            copies.append((item.stage, source, target))
    return copies


# ---------------------------------------------------------------------------------- .dockerignore
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match, plus ** for any number of directories) as a regex."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def ignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip().lstrip("/"))
        rules.append((negated, _pattern_regex(pattern)))
    return rules


def in_context(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """BuildKit's rule: the last pattern matching the path or one of its parent directories decides."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negated, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negated
    return not excluded


@pytest.fixture(scope="module")
def rules() -> list[tuple[bool, re.Pattern[str]]]:
    return ignore_rules(DOCKERIGNORE.read_text())


def test_the_ignore_matcher_follows_docker_semantics() -> None:
    rules = ignore_rules("*\n!keep/\n!deep/only.sh\nkeep/**/*.pyc\n")
    assert in_context("keep/a/b.py", rules) and not in_context("keep/a/b.pyc", rules)
    assert in_context("deep/only.sh", rules) and not in_context("deep/other.sh", rules)
    assert not in_context("README.md", rules) and not in_context(".venv/bin/python", rules)


def test_the_context_holds_the_code_location_and_nothing_else(rules: list[tuple[bool, re.Pattern[str]]]) -> None:
    for path in ("pyproject.toml", "uv.lock", "workspace.yaml", "orchestration/definitions.py",
                 "dbt_project/dbt_project.yml", "dbt_project/profiles.yml", "dbt_project/models/marts/dim_unicorn.sql",
                 "infra/docker/dagster-entrypoint.sh"):
        assert in_context(path, rules), path
    for path in (".venv/bin/python", ".wildrydes/deploy/outputs.json", ".git/config", "localaws/settings.py",
                 "infra/deploy/aws.py", "tests/conftest.py", "streaming/producer/__init__.py", "README.md",
                 "dbt_project/target/manifest.json", "dbt_project/logs/dbt.log", "dbt_project/.user.yml",
                 "orchestration/__pycache__/definitions.cpython-311.pyc", ".aws/credentials", ".env"):
        assert not in_context(path, rules), path


# ---------------------------------------------------------------------------------- what is copied
def test_every_copied_path_exists_and_is_in_the_context(dockerfile: list[Instruction],
                                                         rules: list[tuple[bool, re.Pattern[str]]]) -> None:
    copies = context_copies(dockerfile)
    assert copies
    for _, source, _ in copies:
        assert (REPO_ROOT / source).exists(), source
        assert in_context(source.rstrip("/"), rules), f"{source} is excluded by .dockerignore"


def test_the_repository_layout_is_kept_under_the_workdir(dockerfile: list[Instruction]) -> None:
    """orchestration/ and dbt_project/ stay siblings: the code finds the dbt project as ../../../dbt_project."""
    copied = {source.rstrip("/"): destination.rstrip("/") for stage, source, destination in context_copies(dockerfile)
              if stage == final(dockerfile)[0].stage}
    assert copied["orchestration"] == "/app/orchestration" and copied["dbt_project"] == "/app/dbt_project"
    assert copied["workspace.yaml"] == "/app/workspace.yaml"
    project = (REPO_ROOT / "orchestration/defs/dbt/project.py").read_text()
    assert 'parents[3] / "dbt_project"' in project
    assert PurePosixPath(copied["orchestration"], "defs/dbt/project.py").parents[3] / "dbt_project" == \
        PurePosixPath(copied["dbt_project"])


def image_files(dockerfile: list[Instruction], rules: list[tuple[bool, re.Pattern[str]]]) -> set[str]:
    """Repository-relative paths of the files the final image gets from the context."""
    files = set()
    last = final(dockerfile)[0].stage
    for stage, source, _ in context_copies(dockerfile):
        if stage != last:
            continue
        root = REPO_ROOT / source
        paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        relative = (p.relative_to(REPO_ROOT).as_posix() for p in paths)
        files |= {path for path in relative if in_context(path, rules)}
    return files


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def module_file(name: str) -> str | None:
    base = REPO_ROOT / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(REPO_ROOT).as_posix()
    return None


def locked_closure() -> set[str]:
    """Normalized names of the packages `uv sync --no-dev` installs: the project's base dependencies, transitively
    (no dev group, no optional extra of the project itself)."""
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    packages: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        packages.setdefault(package["name"], []).append(package)
    (root,) = packages["wildrydes"]
    seen: set[str] = set()
    pending = [(dep["name"], tuple(dep.get("extra", ()))) for dep in root["dependencies"]]
    while pending:
        name, extras = pending.pop()
        key = f"{name}[{','.join(extras)}]"
        if key in seen:
            continue
        seen.add(key)
        for package in packages[name]:
            deps = list(package.get("dependencies", []))
            for extra in extras:
                deps += package.get("optional-dependencies", {}).get(extra, [])
            pending += [(dep["name"], tuple(dep.get("extra", ()))) for dep in deps]
    return {key.split("[")[0] for key in seen}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions_of(module: str) -> set[str]:
    return {normalize(d) for d in importlib.metadata.packages_distributions().get(module.split(".")[0], [])}


def test_everything_the_code_location_imports_is_in_the_image_or_locked(
        dockerfile: list[Instruction], rules: list[tuple[bool, re.Pattern[str]]]) -> None:
    files = image_files(dockerfile, rules)
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    modules = [entry["python_module"]["module_name"] for entry in workspace["load_from"]]
    assert modules == ["orchestration.definitions"] and module_file(modules[0]) in files
    closure = locked_closure()
    # load_from_defs_folder imports every module under orchestration/defs, so every file is a root
    sources = sorted(path for path in files if path.endswith(".py"))
    assert len(sources) > 20
    for source in sources:
        for name in imports_of(REPO_ROOT / source):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top == "__future__":
                continue
            if top in FIRST_PARTY:
                resolved = module_file(name) or module_file(name.rpartition(".")[0])
                assert resolved in files, f"{source} imports {name}, which the image does not have"
                continue
            assert distributions_of(name) & closure, f"{source} imports {name}, which uv.lock's base set lacks"
    # what the instance configuration and the dbt profile load by name
    outputs = {name: "x" for name in ("DatabaseEndpointAddress", "DatabasePort", "DatabaseName", "ClusterName",
                                      "RunContainerName", "PrivateSubnetIds", "TaskSecurityGroupId",
                                      "DagsterBucketName", "ComputeLogPrefix")}
    config = instance_config(outputs)
    for name in (config["run_launcher"]["module"], config["compute_logs"]["module"], "dagster_postgres"):
        assert distributions_of(name) & closure, name
    profile = yaml.safe_load((REPO_ROOT / "dbt_project/profiles.yml").read_text())
    adapter = profile["wildrydes"]["outputs"]["athena"]["type"]
    assert "dbt-athena-community" in closure and importlib.util.find_spec(f"dbt.adapters.{adapter}") is not None


# ---------------------------------------------------------------------------------- dependencies
def test_python_dependencies_are_exactly_uv_locks_base_set(dockerfile: list[Instruction]) -> None:
    runs = [item.arguments for item in dockerfile if item.keyword == "RUN"]
    text = " ".join(runs)
    assert not re.search(r"\bpip3?\s+install\b|\buv\s+pip\b|\buv\s+add\b|\bpoetry\b|\bconda\b", text), text
    syncs = [shlex.split(re.sub(r"--mount=\S+", "", run)) for run in runs if "uv sync" in run]
    assert len(syncs) == 1
    sync = syncs[0]
    assert "--frozen" in sync and "--no-dev" in sync
    assert not {"--extra", "--all-extras", "--group", "--all-groups", "--upgrade", "-U"} & set(sync)
    # the lock is what pyproject.toml says (uv refuses a stale lock with --frozen only silently)
    uv = REPO_ROOT / ".tools" / "bin" / "uv"
    uv_path = str(uv) if uv.exists() else shutil.which("uv")
    if uv_path is None:
        pytest.fail("uv is not installed: run `make` (it installs uv into .tools/)")
    check = subprocess.run([uv_path, "lock", "--check", "--offline"], cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=120, env={**os.environ, "UV_OFFLINE": "1"})
    assert check.returncode == 0, check.stderr
    copied_to_build = {source for stage, source, _ in context_copies(dockerfile) if stage == 1}
    assert copied_to_build == {"pyproject.toml", "uv.lock"}  # the sync sees nothing else of the repository


def test_uv_is_the_makefiles_version_and_the_environment_keeps_its_path(dockerfile: list[Instruction]) -> None:
    version = re.search(r"^UV_VERSION := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.M).group(1)
    froms = [item.arguments for item in dockerfile if item.keyword == "FROM"]
    assert f"ghcr.io/astral-sh/uv:{version} AS uv" in froms
    # the environment is built on the image it runs on: its interpreter is the same /usr/local/bin/python3
    assert froms[1] == "${PYTHON_IMAGE} AS build" and froms[2] == "${PYTHON_IMAGE}"
    build_env = env_of([item for item in dockerfile if item.stage == 1])
    assert build_env["UV_PROJECT_ENVIRONMENT"] == "/app/.venv"
    venv_copies = [flags_and_words(item.arguments) for item in final(dockerfile) if item.keyword == "COPY"
                   and "--from=build" in item.arguments]
    assert [words for _, words in venv_copies] == [["/app/.venv", "/app/.venv"]]


# ---------------------------------------------------------------------------------- commands
def console_script(name: str) -> importlib.metadata.EntryPoint:
    (entry,) = [ep for ep in importlib.metadata.entry_points(group="console_scripts") if ep.name == name]
    return entry


def accepts(command: click.Command, args: list[str], name: str) -> None:
    """Parse ``args`` as the command line would, without running it (subcommands of groups included)."""
    try:
        context = command.make_context(name, list(args))
    except click.exceptions.Exit as done:  # --help
        assert done.exit_code == 0
        return
    with warnings.catch_warnings():  # click 8.2+ deprecates protected_args, which still holds the subcommand
        warnings.simplefilter("ignore", DeprecationWarning)
        rest = [*context.protected_args, *context.args]
    if isinstance(command, click.Group) and rest:
        sub = command.get_command(context, rest[0])
        assert sub is not None, f"{name} has no command {rest[0]}"
        accepts(sub, rest[1:], f"{name} {rest[0]}")


def command_object(executable: str) -> click.Command:
    loaded = console_script(executable).load()
    if isinstance(loaded, click.Command):
        return loaded
    factories = {"dagster": "dagster._cli:create_dagster_cli",
                 "dagster-daemon": "dagster._daemon.cli:create_dagster_daemon_cli",
                 "dagster-webserver": "dagster_webserver.cli:dagster_webserver"}
    module, _, attribute = factories[executable].partition(":")
    target = getattr(__import__(module, fromlist=[attribute]), attribute)
    return target if isinstance(target, click.Command) else target()


def test_commands_are_console_scripts_of_locked_packages_that_accept_their_arguments(
        dockerfile: list[Instruction]) -> None:
    template = load_template(DAGSTER_TEMPLATE_PATH)
    closure = locked_closure()
    default = exec_form([item for item in final(dockerfile) if item.keyword == "CMD"][-1].arguments)
    commands = {"image default": default}
    for logical_id, resource in template.resources.items():
        if resource["Type"] == "AWS::ECS::TaskDefinition":
            (definition,) = resource["Properties"]["ContainerDefinitions"]
            commands[logical_id] = definition["Command"]
            check = definition.get("HealthCheck", {}).get("Command", ["CMD"])[1:]
            if check and check[0] != "python":
                commands[f"{logical_id} health check"] = check
    # what EcsRunLauncher gives each run's task (dagster._grpc.types.ExecuteRunArgs.get_command_args)
    commands["EcsRunLauncher"] = ["dagster", "api", "execute_run", "{}"]
    commands["Dockerfile dbt parse"] = ["dbt", "parse", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project",
                                        "--quiet"]
    assert commands["WebserverTaskDefinition"] == default  # the image's default is the webserver's command
    assert commands["WebserverTaskDefinition"][:3] == ["dagster-webserver", "-h", "0.0.0.0"]
    assert commands["DaemonTaskDefinition"] == ["dagster-daemon", "run", "-w", "workspace.yaml"]
    assert commands["DaemonTaskDefinition health check"] == ["dagster-daemon", "liveness-check"]
    for where, command in commands.items():
        executable, *args = command
        entry = console_script(executable)
        assert normalize(entry.dist.name) in closure, (where, executable)
        if executable != "dbt":
            accepts(command_object(executable), args, executable)
    assert "dbt parse" in " ".join(item.arguments for item in final(dockerfile) if item.keyword == "RUN")


def test_the_image_runs_as_a_user_with_dagster_home_and_the_entrypoint(dockerfile: list[Instruction]) -> None:
    last = final(dockerfile)
    users = [item.arguments for item in last if item.keyword == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")
    env = env_of(last)
    assert env["DAGSTER_HOME"].startswith("/") and env["PYTHONPATH"] == "/app"
    assert env["PATH"].startswith("/app/.venv/bin:")
    (entrypoint,) = [exec_form(item.arguments) for item in last if item.keyword == "ENTRYPOINT"]
    destinations = {destination: source for _, source, destination in context_copies(dockerfile)}
    assert destinations[f"/usr/local/bin/{entrypoint[0]}"] == "infra/docker/dagster-entrypoint.sh"
    assert os.stat(ENTRYPOINT).st_mode & stat.S_IXUSR  # COPY keeps the mode
    workdirs = [item.arguments for item in last if item.keyword == "WORKDIR"]
    assert workdirs[-1] == "/app"  # where `-w workspace.yaml` is found


def run_entrypoint(home: Path, config: str | None, *command: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "DAGSTER_HOME": str(home)}
    if config is not None:
        env["DAGSTER_INSTANCE_CONFIG"] = config
    return subprocess.run(["/bin/sh", str(ENTRYPOINT), *command], env=env, capture_output=True, text=True,
                          timeout=30)


def test_the_entrypoint_writes_the_instance_configuration_then_runs_the_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = "storage:\n  postgres: {}\n"
    result = run_entrypoint(home, config, "cat", str(home / "dagster.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == config + "\n"
    assert stat.S_IMODE(os.stat(home / "dagster.yaml").st_mode) == 0o600
    kept = run_entrypoint(home, None, "sh", "-c", 'echo "$0 $1"', "runs", "unchanged")
    assert kept.returncode == 0 and kept.stdout == "runs unchanged\n"  # an existing dagster.yaml is used as is
    missing = run_entrypoint(tmp_path / "empty", "", "true")
    assert missing.returncode == 64 and "DAGSTER_INSTANCE_CONFIG is empty" in missing.stderr
    assert not (tmp_path / "empty" / "dagster.yaml").exists()
