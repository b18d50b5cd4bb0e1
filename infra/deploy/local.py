"""Deploy the template to the local endpoint, resource by resource, with plain boto3.

moto's CloudFormation skips Firehose, Glue, Cognito identity pools and Athena workgroups, and Kinesis
and DynamoDB must land in kinesalite/dynalite, so each resource is created by its handler
(``infra.deploy.resources``) in dependency order. Every deploy compares what the template wants with
what exists and changes only the difference, so deploying twice changes nothing and a deploy that was
interrupted is completed by the next one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

from infra.deploy import DEFAULT_REGION, REPO_ROOT, DeployError
from infra.deploy.package import LambdaPackage, build_package
from infra.deploy.resources import HANDLERS, Deployed, LocalContext, ResourceHandler
from infra.deploy.resources.base import NotSupportedLocally, covers
from infra.deploy.state import DeployFiles
from infra.deploy.template import (
    TEMPLATE_PATH,
    Scope,
    Template,
    Unresolved,
    dependency_order,
    evaluate_conditions,
    load_template,
    pseudo_parameters,
    resolve,
    resolve_parameters,
)

DEFAULT_STACK_NAME = "wildrydes"
# Parameters the local deploy fills in itself: locally the code goes to Lambda inline, not through S3.
LOCAL_CODE_BUCKET = "wildrydes-local-inline-code"


@dataclass
class ResourceResult:
    logical_id: str
    type_name: str
    name: str
    action: str  # created | updated | replaced | unchanged | skipped | deleted | retained
    changes: list[str] = field(default_factory=list)
    not_applied: dict[str, str] = field(default_factory=dict)


@dataclass
class DeployReport:
    results: list[ResourceResult]
    outputs: dict[str, Any]
    parameters: dict[str, Any]
    outputs_path: Path
    repaired: bool

    @property
    def changed(self) -> list[ResourceResult]:
        return [r for r in self.results if r.action not in ("unchanged", "skipped")]


def deploy_local(
    data_dir: Path,
    parameters: Mapping[str, Any],
    out: Callable[[str], None] = print,
    *,
    template_path: Path = TEMPLATE_PATH,
    source_root: Path = REPO_ROOT,
    stack_name: str = DEFAULT_STACK_NAME,
    dry_run: bool = False,
) -> DeployReport:
    """Deploy ``template_path`` to the endpoint in ``AWS_ENDPOINT_URL`` with ``parameters`` overriding
    the template's defaults; write ``<data dir>/deploy/outputs.json``; print one line per resource.
    ``dry_run``: only read, and print what a deploy would do."""
    template = load_template(template_path)
    package = build_package(template.function_handlers(), source_root)
    values = resolve_parameters(template, _with_code_location(template, parameters, package),
                                min_values=template.local_min_values())
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise DeployError(
            "AWS_ENDPOINT_URL is not set: the local deploy only targets the local endpoint "
            "(e.g. AWS_ENDPOINT_URL=http://127.0.0.1:4566); to deploy to AWS use `wildrydes deploy --aws`"
        )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    account_id = _probe(endpoint, region)
    files = DeployFiles(data_dir)
    with files.locked():
        previous = files.interrupted()
        if previous:
            out(f"the previous deploy did not finish (started {previous.get('started', '?')}): "
                + ("a deploy will complete it" if dry_run else "completing it"))
        if not dry_run:
            files.begin({"started": _now(), "parameters": values})
        files.load()
        ctx = LocalContext(account_id=account_id, region=region, stack_name=stack_name, package=package)
        scope = Scope(parameters=values, pseudo=pseudo_parameters(account_id, region, stack_name),
                      mappings=template.mappings)
        evaluate_conditions(template, scope)
        deployer = _Deployer(template, scope, ctx, files, out, dry_run)
        results = deployer.deploy_all()
        results += deployer.clean_up()
        if dry_run:
            out("dry run: nothing was changed")
            return DeployReport(results=results, outputs={}, parameters=values,
                                outputs_path=files.outputs_path, repaired=False)
        outputs = _outputs(template, scope)
        files.write_outputs({
            "StackName": stack_name,
            "Region": region,
            "AccountId": account_id,
            "EndpointUrl": endpoint,
            "DeployedAt": _now(),
            "Outputs": outputs,
            "Parameters": values,
            "LambdaPackageSha256": package.sha256,
        })
        files.finish()
    counts = {action: sum(r.action == action for r in results) for action in dict.fromkeys(r.action for r in results)}
    out("deploy complete: " + ", ".join(f"{n} {action}" for action, n in counts.items())
        + f"; outputs in {files.outputs_path}")
    return DeployReport(results=results, outputs=outputs, parameters=values,
                        outputs_path=files.outputs_path, repaired=previous is not None)


def _not_running(endpoint: str) -> str:
    return f"the local endpoint is not running at {endpoint}: start it with `wildrydes local up`"


def _probe(endpoint: str, region: str) -> str:
    """The account behind the endpoint; a clear error if nothing answers there."""
    sts = boto3.client("sts", region_name=region,
                       config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}))
    try:
        return str(sts.get_caller_identity()["Account"])
    except (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError):
        raise DeployError(_not_running(endpoint)) from None
    except (ClientError, BotoCoreError) as error:
        raise DeployError(f"the local endpoint at {endpoint} does not answer like AWS STS: {error}") from None


def _with_code_location(template: Template, parameters: Mapping[str, Any],
                        package: LambdaPackage) -> dict[str, Any]:
    values = dict(parameters)
    if "LambdaCodeBucket" in template.parameters:
        values.setdefault("LambdaCodeBucket", LOCAL_CODE_BUCKET)
    if "LambdaCodeKey" in template.parameters:
        values.setdefault("LambdaCodeKey", package.s3_key)
    return values


class _Deployer:
    def __init__(self, template: Template, scope: Scope, ctx: LocalContext, files: DeployFiles,
                 out: Callable[[str], None], dry_run: bool) -> None:
        self.dry_run = dry_run
        self.template = template
        self.scope = scope
        self.ctx = ctx
        self.files = files
        self.out = out

    def deploy_all(self) -> list[ResourceResult]:
        results = []
        for logical_id in dependency_order(self.template):
            resource = self.template.resources[logical_id]
            condition = resource.get("Condition")
            if condition and not self.scope.conditions.get(condition, False):
                continue
            handler = HANDLERS.get(resource["Type"])
            if handler is None:
                raise DeployError(f"{logical_id}: the local deployer cannot create {resource['Type']} yet "
                                  "(add a handler in infra/deploy/resources)")
            result = self._guarded(logical_id, resource, handler)
            self.out(_line(result))
            results.append(result)
        return results

    def _guarded(self, logical_id: str, resource: dict[str, Any], handler: ResourceHandler) -> ResourceResult:
        try:
            return self._deploy(logical_id, resource, handler)
        except (EndpointConnectionError, ConnectionClosedError):
            raise DeployError(_not_running(os.environ.get("AWS_ENDPOINT_URL", "?"))) from None
        except ClientError as error:
            details = error.response.get("Error", {})
            raise DeployError(
                f"{logical_id} ({resource['Type']}): {error.operation_name} failed: "
                f"{details.get('Code', '?')}: {details.get('Message', '')}".rstrip()
                + "; fix the cause and deploy again (finished resources are kept)"
            ) from None
        except (ParamValidationError, BotoCoreError) as error:
            message = " ".join(str(error).split())
            raise DeployError(f"{logical_id} ({resource['Type']}): {message}") from None
        except DeployError:
            raise
        except Exception as error:  # an answer the handler did not expect: still one line, not a traceback
            raise DeployError(
                f"{logical_id} ({resource['Type']}): unexpected {type(error).__name__}: {error}; "
                "deploy again, and report it if it persists"
            ) from error

    def _deploy(self, logical_id: str, resource: dict[str, Any], handler: ResourceHandler) -> ResourceResult:
        result = ResourceResult(logical_id, resource["Type"], "?", "unchanged")
        try:
            props = resolve(resource.get("Properties", {}), self.scope)
        except Unresolved as unresolved:
            if not self.dry_run:
                raise DeployError(f"{logical_id} refers to {unresolved.logical_id}, which is not deployed") from None
            # a resource it depends on does not exist yet, so its final properties are not known
            result.action, result.changes = "would change", [f"after {unresolved.logical_id} is created"]
            return result
        applied = {key: value for key, value in props.items() if key in handler.applies}
        not_applied = {key: handler.unsupported.get(key, "not implemented by the local deployer")
                       for key in props if key not in handler.applies}
        name = result.name = handler.name(logical_id, props, self.ctx)
        if handler.skipped:
            current = handler.read(name, applied, self.ctx)
            assert current is not None
            result.action, result.changes = "skipped", [handler.skipped]
            self._publish(logical_id, current)
            return result
        wanted = handler.desired(applied, self.ctx)
        record = self.files.resources.get(logical_id)
        recorded = record.get("Properties") if record and record.get("Name") == name else None
        try:
            current = handler.read(name, applied, self.ctx)
        except NotSupportedLocally as reason:
            result.action, result.changes = "skipped", [str(reason)]
            self._publish(logical_id, Deployed(ref=name, attrs={}, state={}))
            return result
        if current is None:
            if self.dry_run:
                result.action, result.not_applied = "would create", not_applied
                return result
            handler.create(name, applied, self.ctx)
            result.action, result.not_applied = "created", not_applied
        else:
            differences = changed_properties(wanted, current.state, recorded)
            changed = top_level(differences)
            refused = sorted(set(changed) & handler.immutable)
            if refused:
                raise DeployError(
                    f"{logical_id}: changing {', '.join(refused)} would replace {name} and lose its data; "
                    "revert the change, or start from scratch with `wildrydes local reset`"
                )
            replace = bool(set(changed) & handler.replace_on)
            if changed:
                result.action = "replaced" if replace else "updated"
                result.changes = differences
            if self.dry_run:
                if changed:
                    result.action = "would be " + result.action
                self._publish(logical_id, current)
                return result
            if replace:
                handler.delete(name, current, self.ctx)
                handler.create(name, applied, self.ctx)
            elif changed:
                handler.update(name, applied, changed, current, self.ctx)
        if result.action != "unchanged" or current is None:
            current = handler.read(name, applied, self.ctx)
            if current is None:
                raise DeployError(f"{logical_id}: {name} was {result.action} but cannot be read back; deploy again")
        self._publish(logical_id, current)
        self.files.record(logical_id, {
            "Type": resource["Type"], "Name": name, "Ref": current.ref, "Properties": wanted,
            "Retain": handler.holds_data or resource.get("DeletionPolicy") == "Retain",
        })
        return result

    def _publish(self, logical_id: str, current: Deployed) -> None:
        self.scope.refs[logical_id] = current.ref
        self.scope.attrs[logical_id] = current.attrs

    def clean_up(self) -> list[ResourceResult]:
        """Resources the template no longer has (or that were renamed): deleted, unless they hold data."""
        active = {lid for lid in self.template.resources if lid in self.scope.refs}
        leftovers = [{**entry, "LogicalId": lid} for lid, entry in self.files.resources.items() if lid not in active]
        results = []
        for entry in [*self.files.orphans, *leftovers]:
            logical_id = entry["LogicalId"]
            result = ResourceResult(logical_id, entry["Type"], entry["Name"], "retained")
            handler = HANDLERS.get(entry["Type"])
            if self.dry_run:
                result.action = "would be deleted" if handler and not entry.get("Retain") else "would be retained"
                self.out(_line(result))
                results.append(result)
                continue
            if handler and not entry.get("Retain"):
                try:
                    current = handler.read(entry["Name"], entry.get("Properties", {}), self.ctx)
                    if current is not None:
                        handler.delete(entry["Name"], current, self.ctx)
                except ClientError as error:
                    raise DeployError(f"{logical_id}: deleting the old {entry['Name']} failed: {error}") from None
                result.action = "deleted"
            else:
                result.changes = ["no longer in the template; it holds data, so it is left in place"]
            if entry in self.files.orphans:
                self.files.forget_orphan(entry)
            else:
                self.files.forget(logical_id)
            self.out(_line(result))
            results.append(result)
        return results


def changed_properties(wanted: dict[str, Any], actual: dict[str, Any], recorded: dict[str, Any] | None) -> list[str]:
    """Where the desired properties differ from the resource, as dotted paths (``BufferingHints.SizeInMBs``)
    under top-level property names. A property the backend reports is compared with the resource
    itself; one it does not report is compared with what the last deploy applied (unknown after an
    interrupted deploy: then it counts as changed)."""
    changed: list[str] = []
    for key in sorted(set(wanted) | set(recorded or {})):
        if key not in wanted:
            changed.append(key)  # removed from the template since the last deploy
        elif key in actual:
            changed += _differences(actual[key], wanted[key], key)
        elif recorded is None or key not in recorded or not _same(recorded[key], wanted[key]):
            changed.append(key)
    return changed


def _differences(actual: Any, wanted: Any, path: str) -> list[str]:
    if isinstance(wanted, dict) and isinstance(actual, dict):
        found: list[str] = []
        for key, value in wanted.items():
            if key not in actual:
                found.append(f"{path}.{key}")
            else:
                found += _differences(actual[key], value, f"{path}.{key}")
        return found
    return [] if covers(actual, wanted) else [path]


def top_level(changes: list[str]) -> list[str]:
    return sorted({change.split(".", 1)[0] for change in changes})


def _same(a: Any, b: Any) -> bool:
    return covers(a, b) and covers(b, a)


def _outputs(template: Template, scope: Scope) -> dict[str, Any]:
    outputs = {}
    for name, output in template.outputs.items():
        condition = output.get("Condition")
        if condition and not scope.conditions.get(condition, False):
            continue
        outputs[name] = resolve(output["Value"], scope)
    return outputs


def _line(result: ResourceResult) -> str:
    detail = ""
    if result.changes:
        detail = f" ({', '.join(result.changes)})"
    if result.not_applied:
        detail += " (not applied locally: " + "; ".join(
            f"{key}: {why}" for key, why in sorted(result.not_applied.items())) + ")"
    return f"{result.logical_id:<30} {result.type_name:<40} {result.action}{detail}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
