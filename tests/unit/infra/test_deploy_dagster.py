"""`wildrydes deploy --aws --with-dagster` without AWS: the Dagster stack's parameters from the main stack's
outputs, the dry run of both templates, and the deploy's sequence (create, then the instance configuration
from the new outputs; an image only once its repository exists) against fake CloudFormation calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from infra.deploy import DeployError
from infra.deploy import dagster as dagster_deploy
from infra.deploy.aws import StackRequest
from infra.deploy.dagster import (
    FROM_MAIN_STACK,
    DeployedDagster,
    deploy_dagster,
    next_steps,
    plan_dagster,
    render_dagster_dry_run,
    write_dagster_dry_run,
)
from infra.deploy.dagster_instance import render_instance_yaml
from infra.deploy.template import load_template
from localaws.settings import REPO_ROOT

MAIN_OUTPUTS = {
    "ArchiveBucketName": "wildrydes-archive-123456789012-us-east-1",
    "AthenaResultsBucketName": "wildrydes-athena-results-123456789012-us-east-1",
    "AthenaOutputLocation": "s3://wildrydes-athena-results-123456789012-us-east-1/athena-results/",
    "AthenaWorkGroupName": "wildrydes",
    "GlueDatabaseName": "wildrydes",
    "RawTableName": "unicorn_status",
    "SensorTableName": "UnicornSensorData",
    "SourceStreamName": "wildrydes",
    "SummaryStreamName": "wildrydes-summary",
    "ArchiveDeliveryStreamName": "wildrydes-archive",
    "AggregatorFunctionName": "wildrydes-aggregator",
    "AccessLogsBucketName": "wildrydes-access-logs-123456789012-us-east-1",
    "MapIdentityPoolId": "us-east-1:abc",  # not a Dagster parameter: ignored
}
DAGSTER_OUTPUTS = {
    "Region": "us-east-1", "MainStackName": "wildrydes", "RepositoryName": "wildrydes-dagster",
    "RepositoryUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/wildrydes-dagster", "ImageTag": "none",
    "ClusterName": "wildrydes-dagster", "WebserverServiceName": "webserver", "DaemonServiceName": "daemon",
    "WebserverContainerName": "webserver", "WebserverPort": "3000", "RunContainerName": "run",
    "PrivateSubnetIds": "subnet-0aaa,subnet-0bbb", "TaskSecurityGroupId": "sg-0ccc",
    "DatabaseEndpointAddress": "wildrydes-dagster-postgres.abc.us-east-1.rds.amazonaws.com",
    "DatabasePort": "5432", "DatabaseName": "dagster", "DagsterBucketName": "wildrydes-dagster-bucket-1",
    "ComputeLogPrefix": "compute-logs", "OperatorPolicyArn": "arn:aws:iam::123456789012:policy/operator",
}


def parameters(plan_or_request: Any) -> dict[str, str]:
    items = plan_or_request.stack_parameters() if hasattr(plan_or_request, "stack_parameters") \
        else plan_or_request.parameters
    return {p["ParameterKey"]: p["ParameterValue"] for p in items}


# ---------------------------------------------------------------------------------- plan
def test_the_main_stacks_outputs_fill_the_parameters() -> None:
    plan = plan_dagster("wildrydes", MAIN_OUTPUTS, start_date="2026-11-01")
    values = parameters(plan)
    assert plan.stack_name == "wildrydes-dagster"
    for name in FROM_MAIN_STACK:
        assert values[name] == MAIN_OUTPUTS[name] and plan.sources[name] == "main stack"
    assert "MapIdentityPoolId" not in values
    assert (values["MainStackName"], values["PartitionStartDate"]) == ("wildrydes", "2026-11-01")
    assert values["ImageTag"] == "" and values["InstanceConfig"] == ""  # a first create: no image, no outputs yet
    assert plan.sources["RunMemory"] == "default" and values["RunMemory"] == "2048"
    missing = {k: v for k, v in MAIN_OUTPUTS.items() if k != "SensorTableName"}
    with pytest.raises(DeployError, match="main stack wildrydes has no output SensorTableName: deploy it first"):
        plan_dagster("wildrydes", missing, start_date="2026-11-01")


def test_overrides_are_validated_and_what_the_deploy_sets_cannot_be_overridden() -> None:
    plan = plan_dagster("wildrydes", MAIN_OUTPUTS, overrides={"RunMemory": "4096", "PartitionStartDate": "2026-01-01"},
                        start_date="2026-11-01")
    assert parameters(plan)["RunMemory"] == "4096" and plan.sources["RunMemory"] == "override"
    assert parameters(plan)["PartitionStartDate"] == "2026-01-01" and plan.sources["PartitionStartDate"] == "override"
    with pytest.raises(DeployError, match="RunMemory=5 must be one of"):
        plan_dagster("wildrydes", MAIN_OUTPUTS, overrides={"RunMemory": "5"}, start_date="2026-11-01")
    for name in ("ImageTag", "InstanceConfig", "ArchiveBucketName", "MainStackName"):
        with pytest.raises(DeployError, match=f"{name} of the Dagster stack is set by the deploy"):
            plan_dagster("wildrydes", MAIN_OUTPUTS, overrides={name: "x"}, start_date="2026-11-01")
    with pytest.raises(DeployError, match="unknown parameter Nope"):
        plan_dagster("wildrydes", MAIN_OUTPUTS, overrides={"Nope": "1"}, start_date="2026-11-01")
    with pytest.raises(DeployError, match="ImageTag="):
        plan_dagster("wildrydes", MAIN_OUTPUTS, image_tag="no spaces", start_date="2026-11-01")


def test_a_deployed_stack_keeps_its_image_and_start_date_and_gets_its_instance_configuration() -> None:
    deployed = DeployedDagster({"ImageTag": "abc1234", "PartitionStartDate": "2026-10-01"}, DAGSTER_OUTPUTS)
    plan = plan_dagster("wildrydes", MAIN_OUTPUTS, deployed=deployed, start_date="2026-11-01")
    values = parameters(plan)
    assert (values["ImageTag"], values["PartitionStartDate"]) == ("abc1234", "2026-10-01")
    assert values["InstanceConfig"] == render_instance_yaml(DAGSTER_OUTPUTS) == plan.instance_yaml
    assert yaml.safe_load(values["InstanceConfig"])["run_launcher"]["config"]["run_task_kwargs"]["cluster"] == \
        "wildrydes-dagster"
    assert parameters(plan_dagster("wildrydes", MAIN_OUTPUTS, deployed=deployed, image_tag="def5678",
                                   start_date="2026-11-01"))["ImageTag"] == "def5678"


# ---------------------------------------------------------------------------------- dry run
def test_the_dry_run_shows_the_template_placeholders_and_the_instance_configuration(tmp_path: Path) -> None:
    plan = plan_dagster("wildrydes", None, overrides={"RunCpu": "2048"})
    text = render_dagster_dry_run(plan)
    assert plan.template.text.rstrip("\n") in text
    assert "ArchiveBucketName=<main stack output ArchiveBucketName>  # main stack\n" in text
    assert "PartitionStartDate=<the main stack's creation date>  # deploy\n" in text
    assert "RunCpu=2048  # override\n" in text
    assert "ImageTag=  # deploy (empty: no image yet, the services run no task)\n" in text
    config = text.split("# ---- BEGIN DAGSTER INSTANCE CONFIG")[1].split("\n", 1)[1].split("# ---- END")[0]
    launcher = yaml.safe_load(config)["run_launcher"]["config"]
    assert launcher["run_task_kwargs"]["cluster"] == "<ClusterName>" and launcher["container_name"] == "run"

    paths = write_dagster_dry_run(plan, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "dagster-stack/template.yaml", "dagster-stack/parameters.json", "dagster-stack/dagster.yaml"]
    assert paths[0].read_text() == plan.template.text
    written = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads(paths[1].read_text())}
    assert written["RunCpu"] == "2048" and set(written) == set(load_template(plan.template.path).parameters)
    assert paths[2].read_text() == plan.instance_yaml


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    return subprocess.run([sys.executable, "-m", "infra.cli", "deploy", *args], capture_output=True, text=True,
                          env=env, cwd=REPO_ROOT, timeout=180, stdin=subprocess.DEVNULL)


def test_cli_dry_run_renders_both_templates_and_writes_both(tmp_path: Path) -> None:
    result = cli("--aws", "--dry-run", "--with-dagster", "-P", "RunMemory=4096", "--output-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("AWSTemplateFormatVersion") == 2
    assert "# ---- BEGIN TEMPLATE" in out and "# ---- BEGIN DAGSTER TEMPLATE" in out
    assert "RunMemory=4096  # override" in out and "# ---- BEGIN DAGSTER INSTANCE CONFIG" in out
    assert (tmp_path / "template.yaml").read_text() == (REPO_ROOT / "infra" / "template.yaml").read_text()
    assert (tmp_path / "dagster-stack" / "template.yaml").read_text() == \
        (REPO_ROOT / "infra" / "dagster.yaml").read_text()
    assert f"# wrote {tmp_path / 'dagster-stack' / 'dagster.yaml'}" in out
    without = cli("--aws", "--dry-run")
    assert without.returncode == 0 and "DAGSTER" not in without.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--aws", "--dry-run", "--image-tag", "abc"],
     "--image-tag and --dagster-parameter only apply with --with-dagster"),
    (["--aws", "--dry-run", "-P", "RunCpu=1024"], "only apply with --with-dagster"),
    (["--with-dagster", "--dry-run"], "--with-dagster only applies with --aws"),
    (["--aws", "--dry-run", "--with-dagster", "-P", "ImageTag=x"],
     "ImageTag of the Dagster stack is set by the deploy"),
    (["--aws", "--with-dagster", "-P", "RunCpu=3"], "parameter RunCpu=3 must be one of"),
])
def test_cli_refuses_misused_flags_in_one_line(args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("wildrydes: error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr


# ---------------------------------------------------------------------------------- deploy
class FakeClient:
    def __init__(self, images: set[str]) -> None:
        self.images = images
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3's casing
        return {"Stacks": [{"StackName": StackName, "CreationTime": datetime(2026, 9, 14, 23, 59, tzinfo=UTC)}]}

    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": "123456789012"}

    def describe_images(self, repositoryName: str, imageIds: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(("describe_images", {"repositoryName": repositoryName, "imageIds": imageIds}))
        if imageIds[0]["imageTag"] not in self.images:
            raise ClientError({"Error": {"Code": "ImageNotFoundException", "Message": "no"}}, "DescribeImages")
        return {"imageDetails": [{}]}


class FakeSession:
    def __init__(self, images: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.client_ = FakeClient(set(images))

    def client(self, service: str) -> FakeClient:
        return self.client_


@pytest.fixture
def stacks(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """CloudFormation as ``existing_stack`` and ``apply_stack`` see it: the requests, and what each returns."""
    state: dict[str, Any] = {"stack": None, "requests": []}

    def existing(cfn: Any, name: str) -> dict[str, Any] | None:
        return state["stack"]

    def apply(cfn: Any, s3: Any, request: StackRequest, stack: Any, **kwargs: Any) -> dict[str, str]:
        state["requests"].append((request, kwargs["execute"]))
        state["stack"] = {"StackName": request.stack_name, "Parameters": request.parameters,
                          "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in DAGSTER_OUTPUTS.items()]}
        return dict(DAGSTER_OUTPUTS) if kwargs["execute"] else {}

    monkeypatch.setattr(dagster_deploy, "existing_stack", existing)
    monkeypatch.setattr(dagster_deploy, "apply_stack", apply)
    return state


def test_a_first_deploy_creates_then_sets_the_instance_configuration_from_the_new_outputs(
        stacks: dict[str, Any]) -> None:
    lines: list[str] = []
    outputs = deploy_dagster("wildrydes", MAIN_OUTPUTS, FakeSession(), artifact_bucket="artifacts",
                             out=lines.append, poll=lambda _: None)
    assert outputs == DAGSTER_OUTPUTS
    (create, first_execute), (update, second_execute) = stacks["requests"]
    assert create.stack_name == update.stack_name == "wildrydes-dagster"
    assert parameters(create)["InstanceConfig"] == "" and parameters(create)["ImageTag"] == ""
    assert parameters(create)["PartitionStartDate"] == "2026-09-14"  # the main stack's creation day
    assert parameters(update)["InstanceConfig"] == render_instance_yaml(DAGSTER_OUTPUTS)
    assert {k: v for k, v in parameters(update).items() if k != "InstanceConfig"} == \
        {k: v for k, v in parameters(create).items() if k != "InstanceConfig"}
    assert first_execute and second_execute
    assert any("instance configuration follows the outputs of wildrydes-dagster" in line for line in lines)

    # deploying again: one change set request, with the configuration already there (apply_stack finds no change)
    stacks["requests"].clear()
    deploy_dagster("wildrydes", MAIN_OUTPUTS, FakeSession(), artifact_bucket="artifacts", out=lines.append)
    ((again, _),) = stacks["requests"]
    assert parameters(again) == parameters(update)


def test_an_image_is_deployed_only_once_its_repository_holds_it(stacks: dict[str, Any]) -> None:
    with pytest.raises(DeployError, match="does not exist yet, so neither does its image repository"):
        deploy_dagster("wildrydes", MAIN_OUTPUTS, FakeSession({"abc1234"}), artifact_bucket="a", image_tag="abc1234")
    assert stacks["requests"] == []
    deploy_dagster("wildrydes", MAIN_OUTPUTS, FakeSession(), artifact_bucket="a", out=lambda _: None)
    stacks["requests"].clear()
    with pytest.raises(DeployError, match="no image wildrydes-dagster:def5678: build and push it first"):
        deploy_dagster("wildrydes", MAIN_OUTPUTS, FakeSession({"abc1234"}), artifact_bucket="a", image_tag="def5678")
    session = FakeSession({"abc1234"})
    deploy_dagster("wildrydes", MAIN_OUTPUTS, session, artifact_bucket="a", image_tag="abc1234", out=lambda _: None)
    ((request, _),) = stacks["requests"]
    assert parameters(request)["ImageTag"] == "abc1234"
    assert session.client_.calls == [("describe_images", {"repositoryName": "wildrydes-dagster",
                                                          "imageIds": [{"imageTag": "abc1234"}]})]


def test_no_execute_creates_the_change_set_only(stacks: dict[str, Any]) -> None:
    assert deploy_dagster("wildrydes", MAIN_OUTPUTS, FakeSession(), artifact_bucket="a", execute=False) == {}
    ((_, execute),) = stacks["requests"]
    assert execute is False


def test_next_steps_say_how_to_push_an_image_then_how_to_reach_the_ui() -> None:
    push = "\n".join(next_steps(DAGSTER_OUTPUTS))
    assert f"docker push {DAGSTER_OUTPUTS['RepositoryUri']}:$TAG" in push
    assert "wildrydes deploy --aws --with-dagster --image-tag $TAG" in push
    forward = "\n".join(next_steps({**DAGSTER_OUTPUTS, "ImageTag": "abc1234"}))
    assert "--cluster wildrydes-dagster --service-name webserver" in forward
    assert "--target ecs:wildrydes-dagster_${TASK##*/}_$RUNTIME" in forward
    assert "AWS-StartPortForwardingSession" in forward and '"portNumber":["3000"]' in forward
    assert DAGSTER_OUTPUTS["OperatorPolicyArn"] in forward
