"""The query-protocol services: SQS queues (JSON too), STS roles with the sts: and tag condition keys, IAM entities,
CloudFormation stacks and stack sets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from localaws.iam.actions.model import Access, ContextValue, RequestInfo, UnmappedRequest, make_arn, one
from localaws.iam.actions.parsing import member_str

_SQS_BATCH = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
              "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def _sqs_queue_arn(request: RequestInfo, url: str) -> str:
    path = urlsplit(url).path if "://" in url else url
    parts = [unquote(p) for p in path.split("/") if p]
    if len(parts) >= 2 and parts[-2].isdigit():
        return make_arn("sqs", request.region, parts[-2], parts[-1])
    if parts:
        return make_arn("sqs", request.region, request.account, parts[-1])
    raise UnmappedRequest(f"an unreadable SQS queue URL {url!r}")


def sqs_accesses(request: RequestInfo, operation: str, params: Mapping[str, Any]) -> list[Access]:
    action = f"sqs:{_SQS_BATCH.get(operation, operation)}"
    if operation == "ListQueues":
        return one(action)
    url = member_str(params, "QueueUrl")
    if url:
        return one(action, _sqs_queue_arn(request, url))
    name = member_str(params, "QueueName")
    if name:
        owner = member_str(params, "QueueOwnerAWSAccountId") or request.account
        return one(action, make_arn("sqs", request.region, owner, name))
    source = member_str(params, "SourceArn")
    if source:
        return one(action, source)
    if request.path.strip("/"):  # legacy query protocol: the queue URL is the request path
        return one(action, _sqs_queue_arn(request, request.path))
    return one(action)


def cloudformation_accesses(request: RequestInfo, operation: str, params: Mapping[str, Any]) -> list[Access]:
    action = f"cloudformation:{operation}"
    stack = member_str(params, "StackName")
    if stack:
        if stack.startswith("arn:"):
            return one(action, stack)
        return one(action, make_arn("cloudformation", request.region, request.account, f"stack/{stack}/*"))
    stack_set = member_str(params, "StackSetName")
    if stack_set:
        if stack_set.startswith("arn:"):
            return one(action, stack_set)
        return one(action, make_arn("cloudformation", request.region, request.account, f"stackset/{stack_set}:*"))
    return one(action)


_STS_ROLE_OPS = frozenset({"AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})


def _request_tags(params: Mapping[str, Any], prefix: str = "Tags.member") -> dict[str, ContextValue]:
    """``aws:RequestTag/<key>`` and ``aws:TagKeys`` from query-protocol ``Tags.member.N.Key/Value``."""
    tags: dict[str, str] = {}
    index = 1
    while f"{prefix}.{index}.Key" in params:
        tags[params[f"{prefix}.{index}.Key"]] = params.get(f"{prefix}.{index}.Value", "")
        index += 1
    if not tags:
        return {}
    context: dict[str, ContextValue] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    context["aws:TagKeys"] = tuple(tags)
    return context


def sts_accesses(request: RequestInfo, operation: str, params: Mapping[str, Any]) -> list[Access]:
    action = f"sts:{operation}"
    role = member_str(params, "RoleArn")
    if operation in _STS_ROLE_OPS and role:
        context: dict[str, ContextValue] = {}
        for member, key in (("ExternalId", "sts:ExternalId"), ("RoleSessionName", "sts:RoleSessionName"),
                            ("SourceIdentity", "sts:SourceIdentity")):
            value = member_str(params, member)
            if value:
                context[key] = value
        context.update(_request_tags(params))
        return one(action, role, context=context)
    return one(action)


# The entity an IAM operation is authorized on: the first of these its request names.
_IAM_ENTITIES = (
    ("InstanceProfileName", "instance-profile"),
    ("GroupName", "group"),
    ("RoleName", "role"),
    ("UserName", "user"),
    ("ServerCertificateName", "server-certificate"),
    ("VirtualMFADeviceName", "mfa"),
)


def iam_accesses(request: RequestInfo, operation: str, params: Mapping[str, Any]) -> list[Access]:
    action = f"iam:{operation}"
    context: dict[str, ContextValue] = {}
    policy_arn = member_str(params, "PolicyArn")
    if policy_arn and operation.startswith(("Attach", "Detach")):
        context["iam:PolicyARN"] = policy_arn
    boundary = member_str(params, "PermissionsBoundary")
    if boundary:
        context["iam:PermissionsBoundary"] = boundary
    # The path of an existing entity is not in the request (role/{RoleName}); Create* name theirs.
    path = (member_str(params, "Path") or "/") if operation.startswith(("Create", "Upload")) else "/"
    for member, kind in _IAM_ENTITIES:
        name = member_str(params, member)
        if name:
            return one(action, f"arn:aws:iam::{request.account}:{kind}{path}{name}", context=context)
    if policy_arn:
        return one(action, policy_arn, context=context)
    if operation == "CreatePolicy" and member_str(params, "PolicyName"):
        return one(action, f"arn:aws:iam::{request.account}:policy{path}{params['PolicyName']}")
    if operation == "CreateSAMLProvider" and member_str(params, "Name"):
        return one(action, f"arn:aws:iam::{request.account}:saml-provider/{params['Name']}")
    for member in ("OpenIDConnectProviderArn", "SAMLProviderArn"):
        arn = member_str(params, member)
        if arn:
            return one(action, arn)
    return one(action, context=context)
