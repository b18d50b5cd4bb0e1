"""AWS::Logs::LogGroup and AWS::Logs::LogStream: not served by the local endpoint.

The local runtime writes function and delivery logs under the data directory instead. These handlers
only give the rest of the template the names and ARNs it refers to.
"""

from __future__ import annotations

from typing import Any

from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler

REASON = "CloudWatch Logs is not part of the local endpoint (the local runtime logs under <data dir>/logs)"


class LogGroup(ResourceHandler):
    type_name = "AWS::Logs::LogGroup"
    skipped = REASON

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return props.get("LogGroupName") or f"{ctx.stack_name}-{logical_id}"

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        return Deployed(ref=name, attrs={"Arn": ctx.arn("logs", f"log-group:{name}:*")}, state={})


class LogStream(ResourceHandler):
    type_name = "AWS::Logs::LogStream"
    skipped = REASON

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return props.get("LogStreamName") or f"{ctx.stack_name}-{logical_id}"

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        return Deployed(ref=name, attrs={}, state={})
