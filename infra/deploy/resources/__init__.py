"""Local resource handlers, one per CloudFormation resource type the template uses."""

from __future__ import annotations

from infra.deploy.resources.athena import AthenaWorkGroup
from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler
from infra.deploy.resources.cognito import IdentityPool, IdentityPoolRoleAttachment
from infra.deploy.resources.dynamodb import DynamoDBTable
from infra.deploy.resources.firehose import DeliveryStream
from infra.deploy.resources.functions import EventSourceMapping, LambdaFunction
from infra.deploy.resources.glue import GlueDatabase, GlueTable
from infra.deploy.resources.iam import IAMRole
from infra.deploy.resources.kinesis import KinesisStream
from infra.deploy.resources.logs import LogGroup, LogStream
from infra.deploy.resources.s3 import S3Bucket, S3BucketPolicy
from infra.deploy.resources.sqs import SQSQueue

HANDLERS: dict[str, ResourceHandler] = {
    handler.type_name: handler
    for handler in (
        KinesisStream(), DynamoDBTable(), S3Bucket(), S3BucketPolicy(), GlueDatabase(), GlueTable(),
        AthenaWorkGroup(), SQSQueue(), LogGroup(), LogStream(), IAMRole(), LambdaFunction(),
        EventSourceMapping(), DeliveryStream(), IdentityPool(), IdentityPoolRoleAttachment(),
    )
}

__all__ = ["HANDLERS", "Deployed", "LocalContext", "ResourceHandler"]
