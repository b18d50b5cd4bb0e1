"""The smaller JSON services: Firehose delivery streams, CloudWatch Logs groups and streams, Cognito identity
pools."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localaws.iam.actions.model import Access, RequestInfo, make_arn, one
from localaws.iam.actions.parsing import member_str


def firehose_accesses(request: RequestInfo, operation: str, params: Mapping[str, Any]) -> list[Access]:
    action = f"firehose:{operation}"
    name = member_str(params, "DeliveryStreamName")
    if operation == "ListDeliveryStreams" or not name:
        return one(action)
    return one(action, make_arn("firehose", request.region, request.account, f"deliverystream/{name}"))


_LOGS_STREAM_OPS = frozenset({"CreateLogStream", "DeleteLogStream", "PutLogEvents", "GetLogEvents"})
_LOGS_TAG_OPS = frozenset({"TagResource", "UntagResource", "ListTagsForResource"})


def logs_accesses(request: RequestInfo, operation: str, params: Mapping[str, Any]) -> list[Access]:
    action = f"logs:{operation}"

    def group_arn(group: str) -> str:
        if group.startswith("arn:"):
            return group.removesuffix(":*")
        return make_arn("logs", request.region, request.account, f"log-group:{group}")

    if operation == "DescribeLogGroups":
        return one(action)
    if operation in _LOGS_TAG_OPS and member_str(params, "resourceArn"):
        return one(action, params["resourceArn"])
    group = member_str(params, "logGroupName") or member_str(params, "logGroupIdentifier")
    if group:
        arn = group_arn(group)
        stream = member_str(params, "logStreamName")
        if stream and operation in _LOGS_STREAM_OPS:
            return one(action, f"{arn}:log-stream:{stream}")
        return one(action, arn)
    for member in ("logGroupNames", "logGroupIdentifiers"):
        groups = params.get(member)
        if isinstance(groups, list) and groups and all(isinstance(g, str) for g in groups):
            return [Access(action, (group_arn(g),), {}) for g in groups]
    destination = member_str(params, "destinationName")
    if destination:
        return one(action, make_arn("logs", request.region, request.account, f"destination:{destination}"))
    return one(action)


def cognito_identity_accesses(request: RequestInfo, operation: str, params: Mapping[str, Any]) -> list[Access]:
    action = f"cognito-identity:{operation}"
    pool = member_str(params, "IdentityPoolId")
    if pool:
        return one(action, make_arn("cognito-identity", request.region, request.account, f"identitypool/{pool}"))
    resource_arn = member_str(params, "ResourceArn")
    return one(action, resource_arn) if resource_arn else one(action)
