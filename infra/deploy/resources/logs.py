"""AWS::Logs::LogGroup and AWS::Logs::LogStream on moto: the groups the Lambda functions and the Firehose write
to (with their roles' credentials, as on AWS)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler, missing


class LogGroup(ResourceHandler):
    type_name = "AWS::Logs::LogGroup"
    holds_data = True
    applies = frozenset({"LogGroupName", "RetentionInDays"})
    replace_on = frozenset({"LogGroupName"})
    unsupported = {"KmsKeyId": "the local endpoint does not encrypt log groups with KMS keys",
                   "DataProtectionPolicy": "not modelled by the local endpoint"}

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return props.get("LogGroupName") or f"{ctx.stack_name}-{logical_id}"

    def desired(self, props: dict[str, Any], ctx: LocalContext) -> dict[str, Any]:
        wanted = {k: v for k, v in props.items() if k in self.applies}
        if "RetentionInDays" in wanted:
            wanted["RetentionInDays"] = int(wanted["RetentionInDays"])
        return wanted

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        groups = ctx.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        found = next((g for g in groups if g["logGroupName"] == name), None)
        if found is None:
            return None
        state: dict[str, Any] = {"LogGroupName": name}
        if found.get("retentionInDays"):
            state["RetentionInDays"] = int(found["retentionInDays"])
        return Deployed(ref=name, attrs={"Arn": ctx.arn("logs", f"log-group:{name}:*")}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        logs = ctx.client("logs")
        logs.create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        logs = ctx.client("logs")
        if props.get("RetentionInDays"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        else:
            logs.delete_retention_policy(logGroupName=name)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("logs").delete_log_group(logGroupName=name)


class LogStream(ResourceHandler):
    type_name = "AWS::Logs::LogStream"
    holds_data = True
    applies = frozenset({"LogGroupName", "LogStreamName"})
    replace_on = frozenset({"LogGroupName", "LogStreamName"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return props.get("LogStreamName") or f"{ctx.stack_name}-{logical_id}"

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        group = props["LogGroupName"]
        try:
            streams = ctx.client("logs").describe_log_streams(logGroupName=group, logStreamNamePrefix=name)
        except ClientError as error:
            if missing(error, "ResourceNotFoundException"):
                return None
            raise
        if not any(s["logStreamName"] == name for s in streams["logStreams"]):
            return None
        return Deployed(ref=name, attrs={}, state={"LogGroupName": group, "LogStreamName": name})

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        ctx.client("logs").create_log_stream(logGroupName=props["LogGroupName"], logStreamName=name)

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        """Nothing to change in place: both properties replace the stream."""

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("logs").delete_log_stream(logGroupName=current.state["LogGroupName"], logStreamName=name)
