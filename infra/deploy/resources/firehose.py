"""AWS::KinesisFirehose::DeliveryStream on moto (the local runtime performs the delivery)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler, missing, pick

DESTINATION = "ExtendedS3DestinationConfiguration"


class DeliveryStream(ResourceHandler):
    type_name = "AWS::KinesisFirehose::DeliveryStream"
    applies = frozenset({"DeliveryStreamName", "DeliveryStreamType", "KinesisStreamSourceConfiguration", DESTINATION})
    # Firehose cannot change the source of an existing delivery stream.
    replace_on = frozenset({"DeliveryStreamType", "KinesisStreamSourceConfiguration"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return props.get("DeliveryStreamName") or f"{ctx.stack_name}-{logical_id}"[:64]

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        try:
            description = ctx.client("firehose").describe_delivery_stream(
                DeliveryStreamName=name)["DeliveryStreamDescription"]
        except ClientError as error:
            if missing(error, "ResourceNotFoundException"):
                return None
            raise
        state: dict[str, Any] = {
            "DeliveryStreamName": name,
            "DeliveryStreamType": description.get("DeliveryStreamType", "DirectPut"),
        }
        source = description.get("Source", {}).get("KinesisStreamSourceDescription")
        if source:
            state["KinesisStreamSourceConfiguration"] = pick(source, "KinesisStreamARN", "RoleARN")
        destinations = description.get("Destinations", [])
        if destinations and "ExtendedS3DestinationDescription" in destinations[0]:
            state[DESTINATION] = destinations[0]["ExtendedS3DestinationDescription"]
        return Deployed(ref=name, attrs={"Arn": description["DeliveryStreamARN"]}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        request = pick(props, "DeliveryStreamType", "KinesisStreamSourceConfiguration", DESTINATION)
        ctx.client("firehose").create_delivery_stream(DeliveryStreamName=name, **request)

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        client = ctx.client("firehose")
        description = client.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        client.update_destination(
            DeliveryStreamName=name,
            CurrentDeliveryStreamVersionId=description["VersionId"],
            DestinationId=description["Destinations"][0]["DestinationId"],
            ExtendedS3DestinationUpdate=props[DESTINATION],
        )

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("firehose").delete_delivery_stream(DeliveryStreamName=name)
