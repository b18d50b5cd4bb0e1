"""AWS::IAM::Role on moto (inline policies and managed policy attachments)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler, canonical, missing

MAX_ROLE_NAME = 64


class IAMRole(ResourceHandler):
    type_name = "AWS::IAM::Role"
    applies = frozenset({
        "RoleName", "AssumeRolePolicyDocument", "Policies", "ManagedPolicyArns", "Description",
        "MaxSessionDuration", "Path",
    })
    replace_on = frozenset({"Path"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        # CloudFormation appends a random suffix to generated names; locally the name must be stable.
        return props.get("RoleName") or f"{ctx.stack_name}-{logical_id}"[:MAX_ROLE_NAME]

    def desired(self, props: dict[str, Any], ctx: LocalContext) -> dict[str, Any]:
        wanted = dict(props)
        if "Policies" in wanted:
            wanted["Policies"] = {p["PolicyName"]: p["PolicyDocument"] for p in wanted["Policies"]}
        if "ManagedPolicyArns" in wanted:
            wanted["ManagedPolicyArns"] = sorted(wanted["ManagedPolicyArns"])
        return wanted

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        iam = ctx.client("iam")
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except ClientError as error:
            if missing(error, "NoSuchEntity"):
                return None
            raise
        policies = {
            policy_name: iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            for policy_name in _paged(iam, "list_role_policies", "PolicyNames", RoleName=name)
        }
        attached = sorted(p["PolicyArn"] for p in _paged(iam, "list_attached_role_policies",
                                                          "AttachedPolicies", RoleName=name))
        state: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": _document(role["AssumeRolePolicyDocument"]),
            "Path": role.get("Path", "/"),
            "MaxSessionDuration": role.get("MaxSessionDuration", 3600),
            "Description": role.get("Description", ""),
            "Policies": {key: _document(value) for key, value in policies.items()},
            "ManagedPolicyArns": attached,
        }
        return Deployed(ref=name, attrs={"Arn": role["Arn"], "RoleId": role["RoleId"]}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        request: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": json.dumps(props["AssumeRolePolicyDocument"]),
            "Path": props.get("Path", "/"),
        }
        if "Description" in props:
            request["Description"] = props["Description"]
        if "MaxSessionDuration" in props:
            request["MaxSessionDuration"] = int(props["MaxSessionDuration"])
        ctx.client("iam").create_role(**request)
        self._sync_policies(name, props, {}, [], ctx)

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        iam = ctx.client("iam")
        if "AssumeRolePolicyDocument" in changed:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]))
        if "Description" in changed or "MaxSessionDuration" in changed:
            iam.update_role(RoleName=name, Description=props.get("Description", ""),
                            MaxSessionDuration=int(props.get("MaxSessionDuration", 3600)))
        if "Policies" in changed or "ManagedPolicyArns" in changed:
            self._sync_policies(name, props, current.state.get("Policies", {}),
                                current.state.get("ManagedPolicyArns", []), ctx)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        iam = ctx.client("iam")
        for policy_name in current.state.get("Policies", {}):
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        for arn in current.state.get("ManagedPolicyArns", []):
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        iam.delete_role(RoleName=name)

    def _sync_policies(self, name: str, props: dict[str, Any], existing: dict[str, Any],
                       attached: list[str], ctx: LocalContext) -> None:
        iam = ctx.client("iam")
        wanted = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies", [])}
        for policy_name, document in wanted.items():
            if policy_name not in existing or canonical(existing[policy_name]) != canonical(document):
                iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
        for policy_name in set(existing) - set(wanted):
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        arns = set(props.get("ManagedPolicyArns", []))
        for arn in arns - set(attached):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        for arn in set(attached) - arns:
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)


def _document(value: Any) -> Any:
    """Policy documents come back decoded by boto3, or as (URL-decoded) JSON text from some backends."""
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value


def _paged(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page[key])
    return items
