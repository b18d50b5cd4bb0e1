"""The Dagster stack (infra/dagster.yaml), deployed beside the main stack as ``<stack>-dagster``.

Its parameters come from the main stack's outputs (bucket, table, stream and catalog names), from the deploy
(the image tag, the partition start date, and ``InstanceConfig``, the instance's ``dagster.yaml`` rendered from
this stack's own outputs by ``dagster_instance``), and from ``--dagster-parameter`` overrides. The first create
passes an empty ``InstanceConfig`` (the outputs do not exist yet), so the deploy updates the stack once more
with the rendered configuration; until an image is pushed and deployed with ``--image-tag``, the services run
no task. Stacks are created and updated through ``aws.apply_stack``, the main stack's change-set machinery.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from infra.deploy import REPO_ROOT, DeployError
from infra.deploy.aws import (
    CAPABILITIES,
    TEMPLATE_BODY_LIMIT,
    StackRequest,
    apply_stack,
    existing_stack,
    stack_outputs,
    write_files,
)
from infra.deploy.dagster_instance import INSTANCE_OUTPUTS, render_instance_yaml
from infra.deploy.template import Template, load_template, resolve_parameters
from orchestration.defs.platform.stack import OUTPUTS as CODE_LOCATION_OUTPUTS

DAGSTER_TEMPLATE_PATH = REPO_ROOT / "infra" / "dagster.yaml"
STACK_SUFFIX = "-dagster"
# Parameters of the Dagster stack filled from the main stack's output of the same name: the names the code
# location reads (its region is the Dagster stack's own), and the bucket for the access logs.
FROM_MAIN_STACK = (*(name for name in CODE_LOCATION_OUTPUTS if name != "Region"), "AccessLogsBucketName")
SET_BY_DEPLOY = ("MainStackName", "ImageTag", "InstanceConfig")
START_DATE = "PartitionStartDate"  # set by the deploy, unless overridden
# What a dry run validates in place of values only AWS knows, and what it shows instead.
DRY_RUN_VALID = {"AthenaOutputLocation": "s3://placeholder/athena-results/", START_DATE: "2000-01-01"}
DRY_RUN_START_DATE = "<the main stack's creation date>"


def dagster_stack_name(main_stack_name: str) -> str:
    return main_stack_name + STACK_SUFFIX


@dataclass(frozen=True)
class DeployedDagster:
    """The Dagster stack as deployed: its parameters and outputs."""

    parameters: dict[str, str]
    outputs: dict[str, str]


@dataclass(frozen=True)
class DagsterPlan:
    stack_name: str
    template: Template
    parameters: dict[str, Any]
    sources: dict[str, str]  # parameter -> default | override | main stack | deploy
    instance_yaml: str  # the rendered dagster.yaml (placeholders in a dry run, before the stack has outputs)

    def stack_parameters(self) -> list[dict[str, str]]:
        return [{"ParameterKey": key, "ParameterValue": str(value)} for key, value in sorted(self.parameters.items())]

    def template_sha256(self) -> str:
        return hashlib.sha256(self.template.text.encode()).hexdigest()

    def with_instance_config(self, text: str) -> DagsterPlan:
        return replace(self, parameters={**self.parameters, "InstanceConfig": text}, instance_yaml=text)

    def request(self) -> StackRequest:
        name = f"wildrydes-dagster-{self.template_sha256()[:12]}-{int(time.time())}"
        return StackRequest(self.stack_name, self.template.text, self.stack_parameters(), name)


def plan_dagster(
    main_stack_name: str,
    main_outputs: Mapping[str, str] | None,
    *,
    overrides: Mapping[str, str] | None = None,
    image_tag: str | None = None,
    deployed: DeployedDagster | None = None,
    start_date: str | None = None,
    template_path: Path = DAGSTER_TEMPLATE_PATH,
) -> DagsterPlan:
    """The Dagster stack's parameters, computed without AWS. ``main_outputs`` None is a dry run: the main
    stack's names (and the start date) are shown as placeholders, validated in the form AWS would give them."""
    overrides = dict(overrides or {})
    set_by_deploy = sorted(set(overrides) & {*SET_BY_DEPLOY, *FROM_MAIN_STACK})
    if set_by_deploy:
        raise DeployError(f"{', '.join(set_by_deploy)} of the Dagster stack is set by the deploy "
                          "(use --image-tag for the image)")
    template = load_template(template_path)
    dry_run = main_outputs is None
    shown: dict[str, str] = {}
    if dry_run:
        shown = {name: f"<main stack output {name}>" for name in FROM_MAIN_STACK}
        main = {name: DRY_RUN_VALID.get(name, "placeholder") for name in FROM_MAIN_STACK}
    else:
        missing = [name for name in FROM_MAIN_STACK if not main_outputs.get(name)]
        if missing:
            raise DeployError(f"the main stack {main_stack_name} has no output {', '.join(missing)}: deploy it first")
        main = {name: main_outputs[name] for name in FROM_MAIN_STACK}
    deployed_parameters = deployed.parameters if deployed else {}
    start_override = overrides.pop(START_DATE, None)
    start = start_override or deployed_parameters.get(START_DATE) or start_date
    if not start:
        shown[START_DATE] = DRY_RUN_START_DATE
        start = DRY_RUN_VALID[START_DATE]
    instance_yaml = _deployed_instance_yaml(deployed)
    values = resolve_parameters(template, {
        **overrides, **main, START_DATE: start, "MainStackName": main_stack_name,
        "ImageTag": image_tag or deployed_parameters.get("ImageTag", ""), "InstanceConfig": instance_yaml,
    })
    values.update(shown)
    sources = {name: "default" for name in values}
    sources.update({name: "override" for name in overrides})
    sources.update({name: "main stack" for name in FROM_MAIN_STACK})
    sources.update({name: "deploy" for name in SET_BY_DEPLOY})
    sources[START_DATE] = "override" if start_override else "deploy"
    preview = instance_yaml or render_instance_yaml(_placeholder_outputs(template))
    return DagsterPlan(stack_name=dagster_stack_name(main_stack_name), template=template, parameters=values,
                       sources=sources, instance_yaml=preview)


def _deployed_instance_yaml(deployed: DeployedDagster | None) -> str:
    if deployed is None or any(not deployed.outputs.get(name) for name in INSTANCE_OUTPUTS):
        return ""
    return render_instance_yaml(deployed.outputs)


def _placeholder_outputs(template: Template) -> dict[str, str]:
    """The stack's outputs as a dry run can know them: the literal ones, and ``<Name>`` for the others."""
    outputs = {}
    for name, output in template.outputs.items():
        value = output.get("Value")
        outputs[name] = value if isinstance(value, str) else f"<{name}>"
    return outputs


# ---------------------------------------------------------------------------------- dry run
def render_dagster_dry_run(plan: DagsterPlan, *, show_template: bool = True) -> str:
    """The Dagster stack's part of ``deploy --aws --with-dagster --dry-run``: the exact template, every
    parameter with its source, and the instance configuration the containers get."""
    body = plan.template.text.encode()
    argument = "TemplateBody" if len(body) <= TEMPLATE_BODY_LIMIT else "TemplateURL"
    lines = [
        f"# ---- Dagster stack {plan.stack_name} (--with-dagster): nothing was sent to AWS " + "-" * 10,
        f"# stack: {plan.stack_name}, capabilities {', '.join(CAPABILITIES)}",
        f"# template: {plan.template.path}",
        f"#   {len(body)} bytes, sha256 {plan.template_sha256()}, sent as {argument}",
    ]
    if show_template:
        lines += [f"# ---- BEGIN DAGSTER TEMPLATE (exact body, {len(body)} bytes) " + "-" * 22,
                  plan.template.text.removesuffix("\n"),
                  "# ---- END DAGSTER TEMPLATE " + "-" * 49]
    lines.append("# ---- Dagster stack parameters (KEY=VALUE  # default | override | main stack | deploy) " + "-" * 2)
    for key, value in sorted(plan.parameters.items()):
        if key == "InstanceConfig":
            value = (f"<the instance configuration below, {len(plan.instance_yaml.encode())} bytes>"
                     if value else "<empty at the first create: the deploy then sets it from the stack's outputs>")
        note = " (empty: no image yet, the services run no task)" if key == "ImageTag" and not value else ""
        lines.append(f"{key}={value}  # {plan.sources[key]}{note}")
    lines += ["# ---- BEGIN DAGSTER INSTANCE CONFIG ($DAGSTER_HOME/dagster.yaml; <Name> is the stack's output Name) ",
              plan.instance_yaml.removesuffix("\n"),
              "# ---- END DAGSTER INSTANCE CONFIG " + "-" * 42]
    return "\n".join(lines) + "\n"


def write_dagster_dry_run(plan: DagsterPlan, directory: Path) -> list[Path]:
    """The Dagster stack's template, parameters (``--parameters file://`` format) and instance configuration,
    under ``directory/dagster-stack/``. Returns the paths written."""
    target = directory / "dagster-stack"
    target.mkdir(parents=True, exist_ok=True)
    written = {
        "template.yaml": plan.template.text,
        "parameters.json": json.dumps(plan.stack_parameters(), indent=2) + "\n",
        "dagster.yaml": plan.instance_yaml,
    }
    return write_files(target, written)


# ---------------------------------------------------------------------------------- deploy
def deploy_dagster(
    main_stack_name: str,
    main_outputs: Mapping[str, str],
    session: Any,
    *,
    artifact_bucket: str,
    overrides: Mapping[str, str] | None = None,
    image_tag: str | None = None,
    out: Callable[[str], None] = print,
    poll: Callable[[float], None] = time.sleep,
    execute: bool = True,
) -> dict[str, str]:
    """Create or update ``<main>-dagster`` from the main stack's outputs; then, if the instance configuration
    rendered from the resulting outputs differs from the one deployed, update the stack with it. Returns the
    Dagster stack's outputs (``{}`` when the change set is left for review)."""
    cfn = session.client("cloudformation")
    s3 = session.client("s3")
    name = dagster_stack_name(main_stack_name)
    stack = existing_stack(cfn, name)
    deployed = (DeployedDagster({p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])},
                                stack_outputs(stack)) if stack else None)
    if image_tag:
        if deployed is None:
            raise DeployError(f"the Dagster stack {name} does not exist yet, so neither does its image repository: "
                              "deploy --with-dagster without --image-tag first, push the image, then deploy with it")
        check_image(session.client("ecr"), deployed.outputs.get("RepositoryName", name), image_tag)
    plan = plan_dagster(main_stack_name, main_outputs, overrides=overrides, image_tag=image_tag, deployed=deployed,
                        start_date=main_stack_start_date(cfn, main_stack_name))
    owner = session.client("sts").get_caller_identity()["Account"]
    outputs = apply_stack(cfn, s3, plan.request(), stack, artifact_bucket=artifact_bucket, owner=owner, out=out,
                          poll=poll, execute=execute)
    if not execute:
        return {}
    rendered = render_instance_yaml(outputs)
    if rendered != plan.parameters["InstanceConfig"]:
        out(f"the instance configuration follows the outputs of {name}: updating the stack with it")
        outputs = apply_stack(cfn, s3, plan.with_instance_config(rendered).request(), existing_stack(cfn, name),
                              artifact_bucket=artifact_bucket, owner=owner, out=out, poll=poll, execute=True)
    return outputs


def main_stack_start_date(cfn: Any, main_stack_name: str) -> str:
    """The main stack's creation day (UTC): when data started to arrive, the partitions' first day."""
    stack = cfn.describe_stacks(StackName=main_stack_name)["Stacks"][0]
    return f"{stack['CreationTime']:%Y-%m-%d}"


def check_image(ecr: Any, repository: str, tag: str) -> None:
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ImageNotFoundException":
            raise
        raise DeployError(f"no image {repository}:{tag}: build and push it first (docs/dagster-on-aws.md, "
                          "\"Upgrading the code location\")") from None


def next_steps(outputs: Mapping[str, str]) -> list[str]:
    """What to do after a deploy: push an image, or open the UI through a port forward."""
    region, cluster, repository = outputs["Region"], outputs["ClusterName"], outputs["RepositoryUri"]
    if outputs.get("ImageTag", "none") == "none":
        return [
            "no image deployed yet: the webserver and daemon run no task. Build and push one, then deploy it:",
            f"  aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin "
            f"{repository.split('/')[0]}",
            f"  TAG=$(git rev-parse --short HEAD); docker build -t {repository}:$TAG . "
            f"&& docker push {repository}:$TAG",
            "  wildrydes deploy --aws --with-dagster --image-tag $TAG",
        ]
    service, container = outputs["WebserverServiceName"], outputs["WebserverContainerName"]
    port = outputs["WebserverPort"]
    return [
        f"Dagster UI: forward a local port to the webserver (needs the policy {outputs['OperatorPolicyArn']}):",
        f"  TASK=$(aws ecs list-tasks --cluster {cluster} --service-name {service} --query 'taskArns[0]' "
        "--output text)",
        f"  RUNTIME=$(aws ecs describe-tasks --cluster {cluster} --tasks $TASK --query "
        f"\"tasks[0].containers[?name=='{container}'].runtimeId\" --output text)",
        f"  aws ssm start-session --target ecs:{cluster}_${{TASK##*/}}_$RUNTIME "
        "--document-name AWS-StartPortForwardingSession "
        f"--parameters '{{\"portNumber\":[\"{port}\"],\"localPortNumber\":[\"{port}\"]}}'",
        f"  then open http://127.0.0.1:{port}",
    ]
