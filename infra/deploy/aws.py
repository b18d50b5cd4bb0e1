"""Deploy the template to a real AWS account as a CloudFormation stack, through a change set.

The Lambda package is uploaded under a key containing its sha256, so new code means a new
``LambdaCodeKey`` parameter value (which is how CloudFormation sees that the functions changed), and
re-uploading the same code is a no-op. Before any change set is made, the deployed template and
parameters are compared with the desired ones (``stack_differences``): nothing to do means no call
that changes anything.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from cfn_tools import load_yaml

from infra.deploy import REPO_ROOT, DeployError
from infra.deploy.package import LambdaPackage, build_package
from infra.deploy.template import TEMPLATE_PATH, Template, load_template, resolve_parameters

DEFAULT_STACK_NAME = "wildrydes"
# Parameters the deploy sets itself from the package and --artifact-bucket.
CODE_PARAMETERS = ("LambdaCodeBucket", "LambdaCodeKey")
# Without named IAM resources CAPABILITY_IAM suffices (roles get generated names).
CAPABILITIES = ["CAPABILITY_IAM"]
TEMPLATE_BODY_LIMIT = 51_200  # bytes; larger templates must be passed by S3 URL
BUSY_SUFFIX = "_IN_PROGRESS"
REVIEW_STATUS = "REVIEW_IN_PROGRESS"  # a stack that exists only as an unexecuted CREATE change set
ARTIFACT_BUCKET_PLACEHOLDER = "<artifact-bucket>"


@dataclass(frozen=True)
class AwsPlan:
    stack_name: str
    template: Template
    parameters: dict[str, Any]
    package: LambdaPackage
    artifact_bucket: str
    overridden: frozenset[str] = frozenset()  # parameters given with --parameter

    def stack_parameters(self) -> list[dict[str, str]]:
        return [{"ParameterKey": key, "ParameterValue": _parameter_text(value)}
                for key, value in sorted(self.parameters.items())]

    def parameter_source(self, key: str) -> str:
        """Where a parameter's value comes from: ``deploy`` (the package), ``override`` or ``default``."""
        if key in CODE_PARAMETERS:
            return "deploy"
        return "override" if key in self.overridden else "default"

    def template_sha256(self) -> str:
        return hashlib.sha256(self.template.text.encode()).hexdigest()

    def template_argument(self) -> str:
        """How the template reaches CloudFormation: inline, or by URL when it is over the body limit."""
        return "TemplateBody" if len(self.template.text.encode()) <= TEMPLATE_BODY_LIMIT else "TemplateURL"

    def function_handlers(self) -> dict[str, str]:
        """Logical id of every Lambda function -> its handler."""
        return {logical_id: resource["Properties"]["Handler"]
                for logical_id, resource in sorted(self.template.resources.items())
                if resource.get("Type") == "AWS::Lambda::Function"}


STACK_NAME = re.compile(r"[a-z][a-z0-9]{0,31}")  # a CloudFormation stack name that is also a Glue database name


def plan_aws(
    overrides: Mapping[str, Any],
    *,
    artifact_bucket: str | None,
    stack_name: str = DEFAULT_STACK_NAME,
    template_path: Path = TEMPLATE_PATH,
    source_root: Path = REPO_ROOT,
) -> AwsPlan:
    """Everything a deploy to AWS needs, computed without AWS: validated parameters (AWS's limits,
    not the local relaxations) and the package. ``artifact_bucket`` None only for a dry run."""
    if not STACK_NAME.fullmatch(stack_name):
        raise DeployError(
            f"stack name {stack_name!r}: use lowercase letters and digits, starting with a letter (at most 32): the "
            "stack's resources are named after it, its Glue database and Athena workgroup included"
        )
    set_by_deploy = sorted(set(overrides) & set(CODE_PARAMETERS))
    if set_by_deploy:
        raise DeployError(
            f"{', '.join(set_by_deploy)} is set by the deploy from the package: use --artifact-bucket for the bucket"
        )
    template = load_template(template_path)
    package = build_package(template.function_handlers(), source_root)
    code = {"LambdaCodeBucket": artifact_bucket or "placeholder-artifact-bucket", "LambdaCodeKey": package.s3_key}
    values = resolve_parameters(template, {**overrides, **code})
    if artifact_bucket is None:
        values["LambdaCodeBucket"] = ARTIFACT_BUCKET_PLACEHOLDER
    return AwsPlan(stack_name=stack_name, template=template, parameters=values, package=package,
                   artifact_bucket=artifact_bucket or ARTIFACT_BUCKET_PLACEHOLDER, overridden=frozenset(overrides))


def render_dry_run(plan: AwsPlan, *, show_template: bool = True) -> str:
    """What the deploy would send, computed without calling AWS: the exact template (its body between
    the BEGIN/END lines, byte for byte, when ``show_template``), every stack parameter with where its
    value comes from, and the Lambda package with each file's size and sha256 and what each function
    imports from it."""
    template_bytes = plan.template.text.encode()
    handlers = plan.function_handlers()
    lines = [
        "# wildrydes deploy --aws --dry-run: nothing was sent to AWS",
        f"# stack: {plan.stack_name}, capabilities {', '.join(CAPABILITIES)}",
        f"# template: {plan.template.path}",
        f"#   {len(template_bytes)} bytes, sha256 {plan.template_sha256()}, sent as {plan.template_argument()}",
    ]
    if show_template:
        lines += [f"# ---- BEGIN TEMPLATE (exact body, {len(template_bytes)} bytes) " + "-" * 30,
                  plan.template.text.removesuffix("\n"),
                  "# ---- END TEMPLATE " + "-" * 57]
    lines.append("# ---- parameters (KEY=VALUE  # default | override | deploy) " + "-" * 16)
    for parameter in plan.stack_parameters():
        key, value = parameter["ParameterKey"], parameter["ParameterValue"]
        lines.append(f"{key}={value}  # {plan.parameter_source(key)}")
    package = plan.package
    lines += [
        "# ---- Lambda package " + "-" * 55,
        f"s3://{plan.artifact_bucket}/{package.s3_key}",
        f"zip sha256 {package.sha256}, CodeSha256 {package.code_sha256_b64}, {len(package.zip_bytes)} bytes, "
        f"{len(package.files)} files:",
        *(f"  {line}" for line in package.listing()),
        "# ---- Lambda functions (all share the package above; each imports only the files listed) " + "-" * 5,
    ]
    for logical_id, handler in handlers.items():
        used = package.handler_files.get(handler, ())
        size = sum(len(package.files[path]) for path in used)
        lines.append(f"{logical_id}: {handler} imports {len(used)} files, {size} bytes:")
        lines += [f"  {path}" for path in used]
    return "\n".join(lines) + "\n"


def write_dry_run(plan: AwsPlan, directory: Path) -> list[Path]:
    """The artifacts of a dry run as files, so they can be inspected or used by hand: the template
    (byte for byte), the parameters in the ``aws cloudformation --parameters file://`` format, the zip,
    and a manifest of the zip's files. Returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    package = plan.package
    manifest = {
        "stack_name": plan.stack_name,
        "template": {"path": str(plan.template.path), "sha256": plan.template_sha256(),
                     "bytes": len(plan.template.text.encode())},
        "package": {"s3_uri": f"s3://{plan.artifact_bucket}/{package.s3_key}", "sha256": package.sha256,
                    "code_sha256": package.code_sha256_b64, "bytes": len(package.zip_bytes),
                    "files": package.manifest(),
                    "handlers": {handler: list(paths) for handler, paths in package.handler_files.items()}},
        "parameters": {p["ParameterKey"]: {"value": p["ParameterValue"],
                                           "source": plan.parameter_source(p["ParameterKey"])}
                       for p in plan.stack_parameters()},
    }
    written = {
        "template.yaml": plan.template.text.encode(),
        "parameters.json": (json.dumps(plan.stack_parameters(), indent=2) + "\n").encode(),
        Path(package.s3_key).name: package.zip_bytes,
        "manifest.json": (json.dumps(manifest, indent=2) + "\n").encode(),
    }
    return write_files(directory, written)


def write_files(directory: Path, files: Mapping[str, bytes | str]) -> list[Path]:
    """Write each named content under ``directory``; returns the paths, in order."""
    paths = []
    for name, content in files.items():
        path = directory / name
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------- change detection
def stack_differences(
    deployed_template: str | None,
    deployed_parameters: Mapping[str, str],
    desired_template: str,
    desired_parameters: Mapping[str, str],
) -> list[str]:
    """What differs between the deployed stack and the desired one, for people to read; empty means
    the stack is up to date. Templates are compared as data, so comments and layout do not count."""
    if deployed_template is None:
        return ["the stack does not exist yet"]
    differences = []
    if _template_data(deployed_template) != _template_data(desired_template):
        differences.append("template changed")
    for key in sorted(set(deployed_parameters) | set(desired_parameters)):
        old, new = deployed_parameters.get(key), desired_parameters.get(key)
        if old != new:
            differences.append(f"parameter {key}: {old if old is not None else '(unset)'} -> "
                               f"{new if new is not None else '(unset)'}")
    return differences


def _template_data(text: str) -> Any:
    try:
        return json.loads(json.dumps(load_yaml(text)))
    except Exception:  # an unparsable deployed template is simply different
        return text


def format_change_set(changes: list[dict[str, Any]]) -> list[str]:
    """One line per change of a DescribeChangeSet ``Changes`` list."""
    lines = []
    for change in changes:
        rc = change.get("ResourceChange", {})
        action = rc.get("Action", "?")
        replacement = rc.get("Replacement")
        detail = ""
        if action == "Modify":
            targets = sorted({d.get("Target", {}).get("Name") or d.get("Target", {}).get("Attribute", "?")
                              for d in rc.get("Details", [])})
            detail = f" ({', '.join(t for t in targets if t)})" if targets else ""
            if replacement in ("True", "Conditional"):
                detail += f" [replacement: {replacement}]"
        lines.append(f"{action:<7} {rc.get('LogicalResourceId', '?'):<30} {rc.get('ResourceType', '?')}{detail}")
    return lines


# ---------------------------------------------------------------------------------- deploy
@dataclass(frozen=True)
class StackRequest:
    """One stack to create or update through a change set (the main stack, or the Dagster stack)."""

    stack_name: str
    template_text: str
    parameters: list[dict[str, str]]
    change_set_name: str


def deploy_aws(plan: AwsPlan, session: Any, out: Callable[[str], None] = print,
               poll: Callable[[float], None] = time.sleep, *, execute: bool = True) -> dict[str, str]:
    """Upload the package, then create or update the stack through a change set. Returns the outputs.
    With ``execute=False`` the change set is created and printed but left for review (returns ``{}``)."""
    cfn = session.client("cloudformation")
    s3 = session.client("s3")
    stack = existing_stack(cfn, plan.stack_name)
    owner = session.client("sts").get_caller_identity()["Account"]
    _upload_package(s3, plan, out, owner)
    request = StackRequest(plan.stack_name, plan.template.text, plan.stack_parameters(),
                           f"wildrydes-{plan.package.sha256[:12]}-{int(time.time())}")
    return apply_stack(cfn, s3, request, stack, artifact_bucket=plan.artifact_bucket, owner=owner, out=out,
                       poll=poll, execute=execute)


def existing_stack(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    """The deployed stack, or None if there is none yet (or only an unexecuted CREATE change set); refuses a
    stack that is busy or cannot be updated."""
    stack = _describe_stack(cfn, stack_name)
    if stack and stack["StackStatus"] == REVIEW_STATUS:
        # created by a CREATE change set that was never executed: there is no stack to update yet
        stack = None
    if stack and stack["StackStatus"].endswith(BUSY_SUFFIX):
        raise DeployError(f"stack {stack_name} is busy ({stack['StackStatus']}): wait for it, then deploy again")
    if stack and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {stack_name} failed to create (ROLLBACK_COMPLETE) and cannot be updated: delete it "
            f"(aws cloudformation delete-stack --stack-name {stack_name}; what the failed create made is "
            "deleted with it, retained data included), then deploy again")
    return stack


def stack_outputs(stack: dict[str, Any] | None) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}


def apply_stack(cfn: Any, s3: Any, request: StackRequest, stack: dict[str, Any] | None, *, artifact_bucket: str,
                owner: str, out: Callable[[str], None], poll: Callable[[float], None],
                execute: bool) -> dict[str, str]:
    """Create or update ``request``'s stack (``stack``: as ``existing_stack`` found it) through a change set,
    unless its template and parameters are those deployed. Returns the outputs (``{}`` when not executed)."""
    name = request.stack_name
    desired = {p["ParameterKey"]: p["ParameterValue"] for p in request.parameters}
    deployed_template = (cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
                         if stack else None)
    if isinstance(deployed_template, dict):
        deployed_template = json.dumps(deployed_template)
    deployed = {p["ParameterKey"]: p.get("ParameterValue", "") for p in (stack or {}).get("Parameters", [])}
    differences = stack_differences(deployed_template, deployed, request.template_text, desired)
    if not differences:
        out(f"no changes: stack {name} is up to date")
        return stack_outputs(stack)
    for difference in differences:
        out(f"  {difference}")

    change_set_type = "UPDATE" if stack else "CREATE"
    change_set = request.change_set_name
    call: dict[str, Any] = {
        "StackName": name, "ChangeSetName": change_set, "ChangeSetType": change_set_type,
        "Parameters": request.parameters, "Capabilities": CAPABILITIES,
    }
    call.update(_template_argument(s3, request.template_text, artifact_bucket, owner))
    cfn.create_change_set(**call)
    described = _wait_change_set(cfn, name, change_set, poll)
    if described is None:
        out("no changes")
        return stack_outputs(stack)
    out(f"change set {change_set} ({change_set_type}):")
    for line in format_change_set(described.get("Changes", [])):
        out(f"  {line}")
    if not execute:
        out(f"change set {change_set} created and NOT executed; review it, then run: aws cloudformation "
            f"execute-change-set --stack-name {name} --change-set-name {change_set}")
        return {}
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    final = _wait_stack(cfn, name, poll)
    if final["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        reason = _first_failure(cfn, name)
        raise DeployError(f"stack {name} ended in {final['StackStatus']}: {reason}")
    out(f"stack {name}: {final['StackStatus']}")
    return stack_outputs(final)


def _parameter_text(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


def _describe_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(cfn.describe_stacks(StackName=name)["Stacks"][0])
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def _upload_package(s3: Any, plan: AwsPlan, out: Callable[[str], None], owner: str) -> None:
    """Every call names the expected bucket owner: code is never uploaded to, or read from, a bucket of the same
    name in another account."""
    key = plan.package.s3_key
    try:
        s3.head_bucket(Bucket=plan.artifact_bucket, ExpectedBucketOwner=owner)
    except ClientError:
        raise DeployError(
            f"the artifact bucket {plan.artifact_bucket} does not exist or is not yours (account {owner}): create it "
            f"(aws s3 mb s3://{plan.artifact_bucket}) or pass --artifact-bucket"
        ) from None
    try:
        s3.head_object(Bucket=plan.artifact_bucket, Key=key, ExpectedBucketOwner=owner)
        out(f"package s3://{plan.artifact_bucket}/{key} already uploaded")
        return
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise DeployError(f"cannot use the artifact bucket {plan.artifact_bucket}: {error}") from None
    s3.put_object(Bucket=plan.artifact_bucket, Key=key, Body=plan.package.zip_bytes,
                  ContentType="application/zip", ExpectedBucketOwner=owner)
    out(f"package uploaded to s3://{plan.artifact_bucket}/{key}")


def _template_argument(s3: Any, body: str, bucket: str, owner: str) -> dict[str, str]:
    if len(body.encode()) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": body}
    key = f"templates/wildrydes-{hashlib.sha256(body.encode()).hexdigest()}.yaml"
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ExpectedBucketOwner=owner)
    region = s3.meta.region_name
    return {"TemplateURL": f"https://{bucket}.s3.{region}.amazonaws.com/{key}"}


def _wait_change_set(cfn: Any, stack: str, name: str, poll: Callable[[float], None]) -> dict[str, Any] | None:
    """The created change set, or None if CloudFormation found nothing to change."""
    while True:
        change_set = cfn.describe_change_set(StackName=stack, ChangeSetName=name)
        status = change_set["Status"]
        if status == "CREATE_COMPLETE":
            return dict(change_set)
        if status == "FAILED":
            reason = change_set.get("StatusReason", "")
            if "didn't contain changes" in reason or "No updates are to be performed" in reason:
                cfn.delete_change_set(StackName=stack, ChangeSetName=name)
                return None
            raise DeployError(f"change set {name} failed: {reason}")
        poll(2.0)


def _wait_stack(cfn: Any, stack: str, poll: Callable[[float], None]) -> dict[str, Any]:
    while True:
        current = dict(cfn.describe_stacks(StackName=stack)["Stacks"][0])
        if not current["StackStatus"].endswith(BUSY_SUFFIX):
            return current
        poll(5.0)


def _first_failure(cfn: Any, stack: str) -> str:
    events = cfn.describe_stack_events(StackName=stack).get("StackEvents", [])
    for event in reversed(events):
        if event.get("ResourceStatus", "").endswith("_FAILED"):
            return f"{event.get('LogicalResourceId')}: {event.get('ResourceStatusReason', '')}"
    return "see the stack events in the CloudFormation console"
