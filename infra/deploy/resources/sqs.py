"""AWS::SQS::Queue on moto."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler, missing

# Template properties that are queue attributes of the same name.
ATTRIBUTES = (
    "DelaySeconds", "KmsDataKeyReusePeriodSeconds", "KmsMasterKeyId", "MaximumMessageSize",
    "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "SqsManagedSseEnabled",
    "VisibilityTimeout", "FifoQueue", "ContentBasedDeduplication",
)


class SQSQueue(ResourceHandler):
    type_name = "AWS::SQS::Queue"
    holds_data = True
    applies = frozenset({"QueueName", *ATTRIBUTES})
    replace_on = frozenset({"FifoQueue"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return props.get("QueueName") or f"{ctx.stack_name}-{logical_id}"

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        sqs = ctx.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as error:
            if missing(error, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                return None
            raise
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        state: dict[str, Any] = {"QueueName": name}
        for key in ATTRIBUTES:
            if key in attributes:
                value = attributes[key]
                state[key] = json.loads(value) if key == "RedrivePolicy" else value
        attrs = {"Arn": attributes["QueueArn"], "QueueName": name, "QueueUrl": url}
        return Deployed(ref=url, attrs=attrs, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        ctx.client("sqs").create_queue(QueueName=name, Attributes=_attributes(props, list(ATTRIBUTES)))

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        attributes = _attributes(props, changed)
        if attributes:
            ctx.client("sqs").set_queue_attributes(QueueUrl=current.ref, Attributes=attributes)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("sqs").delete_queue(QueueUrl=current.ref)


def _attributes(props: dict[str, Any], keys: list[str]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for key in keys:
        if key in props and key in ATTRIBUTES:
            value = props[key]
            if key == "RedrivePolicy":
                attributes[key] = json.dumps(value)
            elif isinstance(value, bool):
                attributes[key] = "true" if value else "false"
            else:
                attributes[key] = str(value)
    return attributes
