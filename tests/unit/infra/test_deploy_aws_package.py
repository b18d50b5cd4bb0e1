"""The AWS dry run and the Lambda package's contents, checked against two oracles that do not share the
packager's code: ``modulefinder`` (static, over bytecode) and a fresh interpreter importing each handler
from the zip alone (dynamic). The zip must hold exactly the repository modules the handlers import,
transitively; the standard library and boto3 (with its dependencies) come from the Lambda runtime."""

from __future__ import annotations

import hashlib
import io
import json
import modulefinder
import os
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from infra.deploy.aws import ARTIFACT_BUCKET_PLACEHOLDER, plan_aws, render_dry_run, write_dry_run
from infra.deploy.package import RUNTIME_PROVIDED, LambdaPackage, build_package
from infra.deploy.template import load_template
from localaws.settings import REPO_ROOT

TEMPLATE = load_template()
HANDLERS = TEMPLATE.function_handlers()
RUNTIME_ALLOWED_TOPS = set(sys.stdlib_module_names) | set(RUNTIME_PROVIDED)
# botocore imports certifi when it is installed and falls back to its own CA bundle when it is not
OPTIONAL_BOTOCORE_IMPORTS = {"certifi"}


@pytest.fixture(scope="module")
def package() -> LambdaPackage:
    return build_package(HANDLERS)


def archive_path(module_file: str, root: Path = REPO_ROOT) -> str:
    return Path(module_file).resolve().relative_to(root.resolve()).as_posix()


def modulefinder_closure(handler: str, root: Path = REPO_ROOT) -> tuple[set[str], set[str]]:
    """(repository files, names it could not resolve) of the handler module's import closure, found by
    modulefinder with only ``root`` on its path, so anything outside the repository stays unresolved."""
    finder = modulefinder.ModuleFinder(path=[str(root)])
    finder.import_hook(handler.rpartition(".")[0])
    files = {archive_path(module.__file__, root) for module in finder.modules.values() if module.__file__}
    return files, set(finder.badmodules)


def boto3_distribution_tops() -> set[str]:
    """Top-level import names of boto3 and every distribution it requires, transitively (the Lambda
    Python runtime ships them together)."""
    wanted, seen = ["boto3"], set()
    while wanted:
        name = wanted.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" in requirement:
                continue
            wanted.append(re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0])
    tops = {top for top, dists in metadata.packages_distributions().items()
            if any(d.lower().replace("_", "-") in seen for d in dists)}
    return tops | OPTIONAL_BOTOCORE_IMPORTS


# ---------------------------------------------------------------------------------- static oracle
@pytest.mark.parametrize("handler", HANDLERS)
def test_each_handler_uses_exactly_its_modulefinder_closure(package: LambdaPackage, handler: str) -> None:
    files, unresolved = modulefinder_closure(handler)
    assert set(package.handler_files[handler]) == files
    # whatever modulefinder could not find in the repository is the standard library or boto3/botocore
    outside = {name for name in unresolved if name.split(".")[0] not in RUNTIME_ALLOWED_TOPS}
    assert not outside, f"{handler} imports {sorted(outside)}, which the Lambda runtime does not provide"


def test_the_zip_holds_exactly_the_union_of_the_handlers_closures(package: LambdaPackage) -> None:
    union: set[str] = set()
    for handler in HANDLERS:
        union |= modulefinder_closure(handler)[0]
    names = zipfile.ZipFile(io.BytesIO(package.zip_bytes)).namelist()
    assert sorted(names) == sorted(union) == list(package.files)
    assert all(name.endswith(".py") and "/tests/" not in name and not name.startswith("tests/") for name in names)
    for name in names:  # the zip's bytes are the repository's sources
        assert zipfile.ZipFile(io.BytesIO(package.zip_bytes)).read(name) == (REPO_ROOT / name).read_bytes()


def test_the_closures_differ_so_the_check_is_per_handler(package: LambdaPackage) -> None:
    """The shared zip is a union: the archive transform needs neither boto3 helpers nor the aggregator."""
    transform = set(package.handler_files["streaming.lambdas.archive_transform.handler"])
    assert "streaming/lambdas/aggregator.py" not in transform
    assert "streaming/lambdas/kinesis_put.py" not in transform
    assert transform < set(package.files)


def test_the_packager_agrees_with_modulefinder_on_a_tricky_tree(tmp_path: Path) -> None:
    """Lazy (function-level) imports, ``import a.b as c`` and submodule-by-``from`` imports are
    followed; tests, unimported modules and other packages are left out."""
    files = {
        "streaming/__init__.py": "",
        "streaming/lambdas/__init__.py": "",
        "streaming/lambdas/h.py": (
            "import json\nimport streaming.lambdas.a as a\nfrom streaming.lambdas import b\n"
            "def handler(e, c):\n    from . import lazy\n    return a, b, lazy\n"
        ),
        "streaming/lambdas/a.py": "from .sub import deep\n",
        "streaming/lambdas/b.py": "import boto3\n",
        "streaming/lambdas/lazy.py": "from botocore.exceptions import ClientError\n",
        "streaming/lambdas/sub/__init__.py": "",
        "streaming/lambdas/sub/deep.py": "import datetime\n",
        "streaming/lambdas/sub/unused.py": "import json\n",
        "streaming/lambdas/tests/test_h.py": "import pytest\n",
        "streaming/producer.py": "import numpy\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    built = build_package(["streaming.lambdas.h.handler"], tmp_path)
    expected, _ = modulefinder_closure("streaming.lambdas.h.handler", tmp_path)
    assert set(built.files) == expected == {
        "streaming/__init__.py", "streaming/lambdas/__init__.py", "streaming/lambdas/h.py",
        "streaming/lambdas/a.py", "streaming/lambdas/b.py", "streaming/lambdas/lazy.py",
        "streaming/lambdas/sub/__init__.py", "streaming/lambdas/sub/deep.py"}


# ---------------------------------------------------------------------------------- dynamic oracle
@pytest.mark.parametrize("handler", HANDLERS)
def test_importing_each_handler_from_the_zip_loads_exactly_its_files(package: LambdaPackage, handler: str,
                                                                     tmp_path: Path) -> None:
    archive = tmp_path / "code.zip"
    archive.write_bytes(package.zip_bytes)
    script = (
        "import importlib, json, sys\n"
        "before = set(sys.modules)\n"
        f"module = importlib.import_module({handler.rpartition('.')[0]!r})\n"
        f"assert callable(getattr(module, {handler.rpartition('.')[2]!r}))\n"
        "new = set(sys.modules) - before\n"
        "ours = [n for n in new if n.split('.')[0] == 'streaming']\n"
        "files = sorted(getattr(sys.modules[n], '__file__', None) or '' for n in ours)\n"
        "tops = sorted({n.split('.')[0] for n in new} - set(sys.stdlib_module_names))\n"
        "print(json.dumps({'files': files, 'tops': tops}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["PYTHONPATH"] = str(archive)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    prefix = f"{archive}{os.sep}"
    assert all(path.startswith(prefix) for path in loaded["files"]), loaded["files"]
    assert sorted(path.removeprefix(prefix) for path in loaded["files"]) == list(package.handler_files[handler])
    # besides its own modules, the handler loads only what the Lambda runtime provides
    extra = set(loaded["tops"]) - {"streaming", "__mp_main__"} - boto3_distribution_tops()
    assert not extra, f"{handler} loads {sorted(extra)}"


# ---------------------------------------------------------------------------------- the dry run
def test_dry_run_text_holds_the_exact_template_parameters_and_files() -> None:
    plan = plan_aws({"SourceStreamShardCount": "3"}, artifact_bucket=None)
    text = render_dry_run(plan)
    body = re.search(r"^# ---- BEGIN TEMPLATE[^\n]*\n(.*)\n# ---- END TEMPLATE", text, re.S | re.M)
    assert body is not None
    template_bytes = TEMPLATE.path.read_bytes()
    assert (body.group(1) + "\n").encode() == template_bytes
    assert hashlib.sha256(template_bytes).hexdigest() in text
    assert "sent as TemplateBody" in text
    parameters = {key: (value, source) for key, value, source
                  in re.findall(r"^(\w+)=(\S+)  # (default|override|deploy)$", text, re.M)}
    assert set(parameters) == set(TEMPLATE.parameters)
    assert {key for key, (_, source) in parameters.items() if source == "default"} == \
        set(TEMPLATE.parameters) - {"SourceStreamShardCount", "LambdaCodeBucket", "LambdaCodeKey"}
    assert "SourceStreamShardCount=3  # override" in text
    assert "SummaryStreamShardCount=1  # default" in text
    assert f"LambdaCodeBucket={ARTIFACT_BUCKET_PLACEHOLDER}  # deploy" in text
    assert f"LambdaCodeKey={plan.package.s3_key}  # deploy" in text
    for name in zipfile.ZipFile(io.BytesIO(plan.package.zip_bytes)).namelist():
        content = (REPO_ROOT / name).read_bytes()
        assert re.search(rf"^  {re.escape(name)} +{len(content)} bytes  sha256 "
                         rf"{hashlib.sha256(content).hexdigest()}$", text, re.M), name
    for logical_id, resource in TEMPLATE.resources.items():
        if resource["Type"] == "AWS::Lambda::Function":
            handler = resource["Properties"]["Handler"]
            assert f"{logical_id}: {handler} imports {len(plan.package.handler_files[handler])} files" in text


def test_dry_run_files_are_what_the_deploy_would_send(tmp_path: Path) -> None:
    plan = plan_aws({"AggregatorBatchSize": "500"}, artifact_bucket="my-artifacts")
    paths = write_dry_run(plan, tmp_path / "out")
    by_name = {path.name: path for path in paths}
    assert by_name["template.yaml"].read_bytes() == TEMPLATE.path.read_bytes()
    assert json.loads(by_name["parameters.json"].read_text()) == plan.stack_parameters()
    zip_path = by_name[Path(plan.package.s3_key).name]
    assert hashlib.sha256(zip_path.read_bytes()).hexdigest() == plan.package.sha256
    manifest = json.loads(by_name["manifest.json"].read_text())
    assert manifest["package"]["s3_uri"] == f"s3://my-artifacts/{plan.package.s3_key}"
    infos = {info.filename: info.file_size for info in zipfile.ZipFile(zip_path).infolist()}
    assert {f["path"]: f["size"] for f in manifest["package"]["files"]} == infos
    assert manifest["parameters"]["AggregatorBatchSize"] == {"value": "500", "source": "override"}
    assert manifest["template"]["sha256"] == hashlib.sha256(TEMPLATE.path.read_bytes()).hexdigest()


def test_cli_dry_run_writes_the_files_and_calls_no_aws(tmp_path: Path) -> None:
    # no credentials and an unroutable proxy: any AWS call would fail the command
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WILDRYDES_ARTIFACT"))}
    env.update({"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
                "AWS_EC2_METADATA_DISABLED": "true"})
    out = tmp_path / "dry"
    result = subprocess.run([sys.executable, "-m", "infra.cli", "deploy", "--aws", "--dry-run", "--output-dir",
                             str(out)], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"# wrote {out / 'template.yaml'}" in result.stdout
    assert (out / "template.yaml").read_bytes() == TEMPLATE.path.read_bytes()
    local = subprocess.run([sys.executable, "-m", "infra.cli", "deploy", "--output-dir", str(out)],
                           capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120)
    assert local.returncode != 0 and "--output-dir only applies with --aws --dry-run" in local.stderr
