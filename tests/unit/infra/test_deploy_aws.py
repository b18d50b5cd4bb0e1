"""`wildrydes deploy --aws` without AWS: packaging, parameters, rendering, change detection, and the
create/update flow against moto's in-process CloudFormation."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.deploy import DeployError
from infra.deploy.aws import (
    ARTIFACT_BUCKET_PLACEHOLDER,
    deploy_aws,
    format_change_set,
    plan_aws,
    render_dry_run,
    stack_differences,
)
from infra.deploy.package import RUNTIME_PROVIDED, build_package, imports_of
from infra.deploy.template import load_template
from localaws.settings import REPO_ROOT

HANDLERS = load_template().function_handlers()


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


LAMBDAS = {
    "streaming/__init__.py": "",
    "streaming/lambdas/__init__.py": '"""handlers"""\n',
    "streaming/lambdas/aggregator.py": (
        "import json\nfrom . import shared\n\ndef handler(event, context):\n    return shared.x\n"
    ),
    "streaming/lambdas/shared.py": "import boto3\nfrom botocore.exceptions import ClientError\nx = 1\n",
    "streaming/lambdas/unused.py": "import requests\n",
    "streaming/producer.py": "import numpy\n",
}


# ---------------------------------------------------------------------------------- package
def test_package_holds_exactly_the_handlers_and_what_they_import(tmp_path: Path) -> None:
    root = write_tree(tmp_path, LAMBDAS)
    package = build_package(["streaming.lambdas.aggregator.handler"], root)
    assert list(package.files) == ["streaming/__init__.py", "streaming/lambdas/__init__.py",
                                   "streaming/lambdas/aggregator.py", "streaming/lambdas/shared.py"]


def test_the_real_package_imports_only_the_standard_library_and_boto3() -> None:
    package = build_package(HANDLERS)
    assert all(path.startswith("streaming/") and path.endswith(".py") for path in package.files)
    for handler in HANDLERS:
        module = handler.rpartition(".")[0]
        assert f"{module.replace('.', '/')}.py" in package.files
    for path in package.files:
        module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for imported in imports_of(REPO_ROOT / path, module):
            top = imported.split(".")[0]
            assert top in sys.stdlib_module_names or top in RUNTIME_PROVIDED or top == "streaming", (path, imported)
            if top == "streaming" and imported.count(".") >= 2:
                # the longest prefix that is a module must be inside the package
                parts = imported.split(".")
                modules = [".".join(parts[:n]) for n in range(len(parts), 0, -1)
                           if f"{'/'.join(parts[:n])}.py" in package.files
                           or f"{'/'.join(parts[:n])}/__init__.py" in package.files]
                assert modules, (path, imported)


def test_the_zip_alone_imports_every_handler(tmp_path: Path) -> None:
    package = build_package(HANDLERS)
    archive = tmp_path / "code.zip"
    archive.write_bytes(package.zip_bytes)
    modules = [h.rpartition(".")[0] for h in HANDLERS]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    m = importlib.import_module(name)\n"
        f"    assert m.__file__.startswith({str(archive)!r}), m.__file__\n"
        "    assert callable(m.handler)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(archive)}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_package_is_deterministic(tmp_path: Path) -> None:
    first = build_package(HANDLERS)
    assert build_package(HANDLERS).zip_bytes == first.zip_bytes
    copy = tmp_path / "copy"
    shutil.copytree(REPO_ROOT / "streaming", copy / "streaming",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in copy.rglob("*.py"):
        os.utime(path, (1_900_000_000, 1_900_000_000))  # other mtimes must not matter
    assert build_package(HANDLERS, copy).sha256 == first.sha256
    infos = zipfile.ZipFile(io.BytesIO(first.zip_bytes)).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert first.s3_key == f"lambda/wildrydes-lambdas-{first.sha256}.zip"
    # any change to a packaged source changes the hash
    target = copy / "streaming" / "lambdas" / "__init__.py"
    target.write_text(target.read_text() + "\n# changed\n")
    assert build_package(HANDLERS, copy).sha256 != first.sha256


@pytest.mark.parametrize(("files", "message"), [
    ({"streaming/lambdas/aggregator.py": "import requests\ndef handler(e, c): pass\n"},
     "imports requests, which is neither the standard library nor boto3"),
    ({"streaming/lambdas/aggregator.py": "from streaming import producer\ndef handler(e, c): pass\n"},
     "imports streaming.producer, outside the streaming.lambdas package"),
    ({"streaming/lambdas/aggregator.py": "import json\n"}, "defines no handler"),
    ({"streaming/lambdas/aggregator.py": "from .... import x\ndef handler(e, c): pass\n"},
     "relative import beyond the top-level package"),
])
def test_package_refuses_what_lambda_would_not_have(tmp_path: Path, files: dict[str, str], message: str) -> None:
    root = write_tree(tmp_path, {**LAMBDAS, **files})
    with pytest.raises(DeployError, match=message):
        build_package(["streaming.lambdas.aggregator.handler"], root)


def test_package_refuses_handlers_outside_the_package_or_missing(tmp_path: Path) -> None:
    root = write_tree(tmp_path, LAMBDAS)
    with pytest.raises(DeployError, match="outside the streaming.lambdas package"):
        build_package(["streaming.producer.handler"], root)
    with pytest.raises(DeployError, match="not found"):
        build_package(["streaming.lambdas.missing.handler"], root)


def test_type_checking_imports_are_not_followed(tmp_path: Path) -> None:
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import numpy\n"
              "else:\n    import json\ndef handler(e, c): pass\n")
    root = write_tree(tmp_path, {**LAMBDAS, "streaming/lambdas/aggregator.py": source})
    assert "streaming/lambdas/aggregator.py" in build_package(["streaming.lambdas.aggregator.handler"], root).files


# ---------------------------------------------------------------------------------- plan and render
def test_plan_uses_aws_limits_and_sets_the_code_location() -> None:
    plan = plan_aws({"TumblingWindowInSeconds": "5"}, artifact_bucket="my-artifacts")
    assert plan.parameters["TumblingWindowInSeconds"] == 5
    assert plan.parameters["LambdaCodeBucket"] == "my-artifacts"
    assert plan.parameters["LambdaCodeKey"] == plan.package.s3_key
    assert {"ParameterKey": "TumblingWindowInSeconds", "ParameterValue": "5"} in plan.stack_parameters()
    with pytest.raises(DeployError, match="ArchiveBufferIntervalSeconds=1 is below its minimum 60"):
        plan_aws({"ArchiveBufferIntervalSeconds": "1"}, artifact_bucket="my-artifacts")
    with pytest.raises(DeployError, match="LambdaCodeKey is set by the deploy"):
        plan_aws({"LambdaCodeKey": "x.zip"}, artifact_bucket="my-artifacts")
    with pytest.raises(DeployError, match="LambdaCodeBucket"):
        plan_aws({}, artifact_bucket="Not_A_Bucket")


def test_dry_run_prints_the_exact_template_parameters_and_package() -> None:
    plan = plan_aws({"SourceStreamShardCount": "2"}, artifact_bucket=None)
    text = render_dry_run(plan)
    assert plan.template.text.rstrip("\n") in text
    assert "SourceStreamShardCount=2  # override\n" in text
    assert f"LambdaCodeBucket={ARTIFACT_BUCKET_PLACEHOLDER}  # deploy\n" in text
    assert f"LambdaCodeKey={plan.package.s3_key}  # deploy\n" in text
    for path in plan.package.files:
        assert f"\n  {path} " in text
    assert plan.package.sha256 in text


def test_cli_dry_run_and_errors_are_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    run = [sys.executable, "-m", "infra.cli", "deploy", "--aws"]
    result = subprocess.run([*run, "--dry-run", "-p", "TumblingWindowInSeconds=30"], capture_output=True, text=True,
                            env=env, cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "TumblingWindowInSeconds=30  # override" in result.stdout and "AWSTemplateFormatVersion" in result.stdout
    bad = subprocess.run([*run, "--dry-run", "-p", "ArchiveBufferSizeMB=1"], capture_output=True, text=True,
                         env=env, cwd=REPO_ROOT, timeout=120)
    assert bad.returncode != 0
    assert bad.stderr.strip().splitlines() == [
        "wildrydes: error: parameter ArchiveBufferSizeMB=1 is below its minimum 64"]
    local = subprocess.run(run, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                           env={**env, "AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    assert local.returncode != 0 and "Traceback" not in local.stderr
    assert "unset it to deploy to AWS" in local.stderr


# ---------------------------------------------------------------------------------- change detection
def test_stack_differences() -> None:
    template = load_template().text
    params = {"A": "1", "B": "x"}
    assert stack_differences(None, {}, template, params) == ["the stack does not exist yet"]
    assert stack_differences(template, params, template, params) == []
    reformatted = "# a comment only\n" + template.replace("Description: >-", "Description: >-", 1)
    assert stack_differences(template, params, reformatted, params) == []
    assert stack_differences(template, params, template, {"A": "2", "B": "x"}) == ["parameter A: 1 -> 2"]
    assert stack_differences(template, params, template, {"A": "1", "B": "x", "C": "new"}) == \
        ["parameter C: (unset) -> new"]
    changed = template.replace("RetentionPeriodHours: 24", "RetentionPeriodHours: 48", 1)
    assert stack_differences(template, params, changed, params) == ["template changed"]


def test_format_change_set() -> None:
    changes = [
        {"ResourceChange": {"Action": "Add", "LogicalResourceId": "SourceStream",
                            "ResourceType": "AWS::Kinesis::Stream"}},
        {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "AggregatorMapping",
                            "ResourceType": "AWS::Lambda::EventSourceMapping", "Replacement": "False",
                            "Details": [{"Target": {"Attribute": "Properties", "Name": "TumblingWindowInSeconds"}}]}},
        {"ResourceChange": {"Action": "Modify", "LogicalResourceId": "ArchiveDeliveryStream",
                            "ResourceType": "AWS::KinesisFirehose::DeliveryStream", "Replacement": "True",
                            "Details": [{"Target": {"Attribute": "Properties", "Name": "DeliveryStreamType"}}]}},
    ]
    lines = format_change_set(changes)
    assert lines[0].split() == ["Add", "SourceStream", "AWS::Kinesis::Stream"]
    assert lines[1].endswith("(TumblingWindowInSeconds)")
    assert lines[2].endswith("(DeliveryStreamType) [replacement: True]")


# ---------------------------------------------------------------------------------- create / update flow
@pytest.fixture
def aws(in_process_aws: None) -> Any:
    session = boto3.Session(region_name="us-east-1")
    session.client("s3").create_bucket(Bucket="wildrydes-artifacts")
    return session


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_create_then_no_changes_then_update(aws: Any) -> None:
    lines: list[str] = []
    plan = plan_aws({}, artifact_bucket="wildrydes-artifacts")
    deploy_aws(plan, aws, out=lines.append, poll=lambda _: None)
    cfn = aws.client("cloudformation")
    stack = cfn.describe_stacks(StackName="wildrydes")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert aws.client("s3").head_object(Bucket="wildrydes-artifacts", Key=plan.package.s3_key)["ContentLength"] == \
        len(plan.package.zip_bytes)
    assert any("package uploaded" in line for line in lines)

    lines.clear()
    deploy_aws(plan, aws, out=lines.append, poll=lambda _: None)
    assert lines[-1] == "no changes: stack wildrydes is up to date"
    assert not cfn.list_change_sets(StackName="wildrydes").get("Summaries")[1:]  # no new change set

    lines.clear()
    changed = plan_aws({"TumblingWindowInSeconds": "5"}, artifact_bucket="wildrydes-artifacts")
    deploy_aws(changed, aws, out=lines.append, poll=lambda _: None)
    assert "  parameter TumblingWindowInSeconds: 60 -> 5" in lines
    parameters = {p["ParameterKey"]: p["ParameterValue"]
                  for p in cfn.describe_stacks(StackName="wildrydes")["Stacks"][0]["Parameters"]}
    assert parameters["TumblingWindowInSeconds"] == "5"


def test_a_stack_name_is_one_its_resources_can_be_named_after() -> None:
    for name in ("WildRydes", "wild-rydes", "1st", "x" * 33):
        with pytest.raises(DeployError, match="lowercase letters and digits"):
            plan_aws({}, artifact_bucket="b", stack_name=name)
    assert plan_aws({}, artifact_bucket="bucket", stack_name="wildrydesstaging").stack_name == "wildrydesstaging"


def test_a_missing_artifact_bucket_is_named(aws: Any) -> None:
    plan = plan_aws({}, artifact_bucket="no-such-bucket")
    with pytest.raises(DeployError, match="the artifact bucket no-such-bucket does not exist"):
        deploy_aws(plan, aws, out=lambda _: None, poll=lambda _: None)


def test_busy_or_failed_stacks_are_refused_with_a_reason() -> None:
    class FakeCfn:
        def __init__(self, status: str) -> None:
            self.status = status

        def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3's casing
            return {"Stacks": [{"StackName": StackName, "StackStatus": self.status}]}

    class FakeSession:
        def __init__(self, status: str) -> None:
            self.status = status

        def client(self, service: str) -> Any:
            return FakeCfn(self.status)

    plan = plan_aws({}, artifact_bucket="wildrydes-artifacts")
    with pytest.raises(DeployError, match="busy \\(UPDATE_IN_PROGRESS\\)"):
        deploy_aws(plan, FakeSession("UPDATE_IN_PROGRESS"))
    with pytest.raises(DeployError, match="delete-stack --stack-name wildrydes"):
        deploy_aws(plan, FakeSession("ROLLBACK_COMPLETE"))


def test_aws_deploy_writes_the_live_maps_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import json as _json

    from infra.cli.deploy import _write_map_config

    outputs = {"MapIdentityPoolId": "eu-west-1:1234", "SourceStreamName": "wildrydes", "MapStreamName": "wildrydes-map",
               "MapUnauthenticatedRoleArn": "arn:aws:iam::1:role/guest", "SummaryStreamName": "wildrydes-summary"}
    _write_map_config(argparse.Namespace(data_dir=tmp_path), outputs, "eu-west-1")
    written = _json.loads((tmp_path / "deploy" / "map-config.aws.json").read_text())
    assert "eu-west-1:1234" in _json.dumps(written) and "eu-west-1" in _json.dumps(written)
    assert written["streams"]["source"] == "wildrydes-map" and written["guestRoleArn"] == "arn:aws:iam::1:role/guest"
    _write_map_config(argparse.Namespace(data_dir=tmp_path / "other"), {}, "eu-west-1")
    assert "map config not written" in capsys.readouterr().out


def bounded_poll(limit: int = 50) -> Any:
    """A poll that fails the test instead of waiting forever for a status that never comes."""
    calls = {"n": 0}

    def poll(_: float) -> None:
        calls["n"] += 1
        assert calls["n"] <= limit, f"still waiting after {limit} polls"

    return poll


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_no_execute_leaves_the_change_set_for_review(aws: Any) -> None:
    lines: list[str] = []
    plan = plan_aws({}, artifact_bucket="wildrydes-artifacts")
    assert deploy_aws(plan, aws, out=lines.append, poll=bounded_poll(), execute=False) == {}
    cfn = aws.client("cloudformation")
    summaries = cfn.list_change_sets(StackName="wildrydes")["Summaries"]
    assert len(summaries) == 1 and summaries[0]["ExecutionStatus"] == "AVAILABLE"
    name = summaries[0]["ChangeSetName"]
    assert any(line.startswith("  Add ") for line in lines)
    assert f"--change-set-name {name}" in lines[-1] and "NOT executed" in lines[-1]
    assert cfn.describe_stacks(StackName="wildrydes")["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    # a stack under review is not "busy": deploying again makes another CREATE change set
    lines.clear()
    deploy_aws(plan, aws, out=lines.append, poll=bounded_poll(), execute=False)
    assert any(line.startswith("change set ") and line.endswith("(CREATE):") for line in lines)
    # (Executing the reviewed change set by hand is moto's business: in moto 5.2.5 the stack stays in
    # REVIEW_IN_PROGRESS when other tests ran before in the same process, so it is not asserted here.)


def test_cli_refuses_service_endpoints_and_conflicting_flags() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    run = [sys.executable, "-m", "infra.cli", "deploy", "--aws"]
    s3_only = subprocess.run(run, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                             env={**env, "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1"})
    assert s3_only.returncode != 0 and "AWS_ENDPOINT_URL_S3 is set" in s3_only.stderr
    both = subprocess.run([*run, "--dry-run", "--no-execute"], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=120, env=env)
    assert both.returncode != 0 and "use one or the other" in both.stderr
    local = subprocess.run([sys.executable, "-m", "infra.cli", "deploy", "--no-execute"], capture_output=True,
                           text=True, cwd=REPO_ROOT, timeout=120, env=env)
    assert local.returncode != 0 and "--no-execute only applies with --aws" in local.stderr
