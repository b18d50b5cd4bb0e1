"""AWS::Kinesis::Stream on kinesalite."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler, missing, wait_for

DEFAULT_RETENTION_HOURS = 24


class KinesisStream(ResourceHandler):
    type_name = "AWS::Kinesis::Stream"
    holds_data = True
    applies = frozenset({"Name", "ShardCount", "RetentionPeriodHours"})
    unsupported = {
        "StreamEncryption": "kinesalite has no server-side encryption",
        "StreamModeDetails": "kinesalite streams are always provisioned",
    }

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return props.get("Name") or f"{ctx.stack_name}-{logical_id}"

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        summary = self._summary(name, ctx)
        if summary is None:
            return None
        if summary["StreamStatus"] != "ACTIVE":
            self._wait_active(name, ctx)
            summary = self._summary(name, ctx) or summary
        return Deployed(
            ref=name,
            # Built from the account the deploy targets: kinesalite's own ARN carries its account setting.
            attrs={"Arn": ctx.arn("kinesis", f"stream/{name}")},
            state={
                "Name": name,
                "ShardCount": summary["OpenShardCount"],
                "RetentionPeriodHours": summary["RetentionPeriodHours"],
            },
        )

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        ctx.client("kinesis").create_stream(StreamName=name, ShardCount=int(props.get("ShardCount", 1)))
        self._wait_active(name, ctx)
        self._set_retention(name, DEFAULT_RETENTION_HOURS, int(props.get("RetentionPeriodHours", 24)), ctx)

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        if "RetentionPeriodHours" in changed:
            self._set_retention(name, int(current.state["RetentionPeriodHours"]),
                                int(props.get("RetentionPeriodHours", DEFAULT_RETENTION_HOURS)), ctx)
        if "ShardCount" in changed:
            reshard(ctx.client("kinesis"), name, int(props.get("ShardCount", 1)),
                    lambda: self._wait_active(name, ctx))

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("kinesis").delete_stream(StreamName=name, EnforceConsumerDeletion=True)

    def _summary(self, name: str, ctx: LocalContext) -> dict[str, Any] | None:
        try:
            return ctx.client("kinesis").describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        except ClientError as error:
            if missing(error, "ResourceNotFoundException"):
                return None
            raise

    def _wait_active(self, name: str, ctx: LocalContext) -> None:
        wait_for(f"Kinesis stream {name}",
                 lambda: (self._summary(name, ctx) or {}).get("StreamStatus") == "ACTIVE")

    def _set_retention(self, name: str, current: int, wanted: int, ctx: LocalContext) -> None:
        client = ctx.client("kinesis")
        if wanted > current:
            client.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=wanted)
        elif wanted < current:
            client.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=wanted)
        else:
            return
        self._wait_active(name, ctx)


def reshard(client: Any, name: str, target: int, wait_active: Any) -> None:
    """Bring the open shards to ``target`` with UpdateShardCount (uniform scaling), in steps of at most double
    or half, the most Kinesis allows at once."""
    while True:
        current = client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"]
        if current == target:
            return
        step = min(target, current * 2) if target > current else max(target, (current + 1) // 2)
        client.update_shard_count(StreamName=name, TargetShardCount=step, ScalingType="UNIFORM_SCALING")
        wait_active()
