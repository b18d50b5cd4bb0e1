"""AWS::S3::Bucket and AWS::S3::BucketPolicy on moto."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from infra.deploy import DeployError
from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler, error_code, missing

_ABSENT = (
    "NoSuchPublicAccessBlockConfiguration", "OwnershipControlsNotFoundError",
    "ServerSideEncryptionConfigurationNotFoundError", "NoSuchLifecycleConfiguration", "NoSuchBucketPolicy",
)


class S3Bucket(ResourceHandler):
    type_name = "AWS::S3::Bucket"
    holds_data = True
    applies = frozenset({
        "BucketName", "BucketEncryption", "PublicAccessBlockConfiguration", "OwnershipControls",
        "VersioningConfiguration", "LoggingConfiguration", "LifecycleConfiguration",
    })

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return props.get("BucketName") or f"{ctx.stack_name}-{logical_id}".lower()

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        s3 = ctx.client("s3")
        try:
            s3.head_bucket(Bucket=name)
        except ClientError as error:
            if missing(error, "404", "NoSuchBucket"):
                return None
            raise
        state: dict[str, Any] = {"BucketName": name}
        encryption = _get(lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"])
        if encryption:
            state["BucketEncryption"] = {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": rule["ApplyServerSideEncryptionByDefault"],
                 **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {})}
                for rule in encryption["Rules"]
            ]}
        block = _get(lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"])
        if block:
            state["PublicAccessBlockConfiguration"] = block
        ownership = _get(lambda: s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"])
        if ownership:
            state["OwnershipControls"] = ownership
        versioning = s3.get_bucket_versioning(Bucket=name)
        if "Status" in versioning:
            state["VersioningConfiguration"] = {"Status": versioning["Status"]}
        logging = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled")
        if logging:
            state["LoggingConfiguration"] = {"DestinationBucketName": logging["TargetBucket"],
                                             "LogFilePrefix": logging.get("TargetPrefix", "")}
        lifecycle = _get(lambda: s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"])
        if lifecycle:
            state["LifecycleConfiguration"] = {"Rules": [_rule_from_api(rule) for rule in lifecycle]}
        arn = f"arn:aws:s3:::{name}"
        attrs = {
            "Arn": arn,
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{ctx.region}.amazonaws.com",
        }
        return Deployed(ref=name, attrs=attrs, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        request: dict[str, Any] = {"Bucket": name}
        if ctx.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        ctx.client("s3").create_bucket(**request)
        self._apply(name, props, sorted(self.applies - {"BucketName"}), ctx)

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        self._apply(name, props, changed, ctx)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("s3").delete_bucket(Bucket=name)

    def _apply(self, name: str, props: dict[str, Any], keys: list[str], ctx: LocalContext) -> None:
        s3 = ctx.client("s3")
        if "BucketEncryption" in keys:
            if "BucketEncryption" in props:
                rules = [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                          **({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {})}
                         for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
                s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
            else:
                s3.delete_bucket_encryption(Bucket=name)
        if "PublicAccessBlockConfiguration" in keys:
            if "PublicAccessBlockConfiguration" in props:
                s3.put_public_access_block(
                    Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
            else:
                s3.delete_public_access_block(Bucket=name)
        if "OwnershipControls" in keys:
            if "OwnershipControls" in props:
                s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
            else:
                s3.delete_bucket_ownership_controls(Bucket=name)
        if "VersioningConfiguration" in keys:
            status = props.get("VersioningConfiguration", {}).get("Status", "Suspended")
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
        if "LoggingConfiguration" in keys:
            logging = props.get("LoggingConfiguration")
            status: dict[str, Any] = {}
            if logging:
                status["LoggingEnabled"] = {"TargetBucket": logging["DestinationBucketName"],
                                            "TargetPrefix": logging.get("LogFilePrefix", "")}
            s3.put_bucket_logging(Bucket=name, BucketLoggingStatus=status)
        if "LifecycleConfiguration" in keys:
            if "LifecycleConfiguration" in props:
                rules = [_rule_to_api(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
                s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
            else:
                s3.delete_bucket_lifecycle(Bucket=name)


class S3BucketPolicy(ResourceHandler):
    type_name = "AWS::S3::BucketPolicy"
    applies = frozenset({"Bucket", "PolicyDocument"})
    replace_on = frozenset({"Bucket"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return str(props["Bucket"])

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        policy = _get(lambda: ctx.client("s3").get_bucket_policy(Bucket=name)["Policy"])
        if policy is None:
            return None
        return Deployed(ref=name, attrs={}, state={"Bucket": name, "PolicyDocument": json.loads(policy)})

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        ctx.client("s3").put_bucket_policy(Bucket=name, Policy=json.dumps(props["PolicyDocument"]))

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        self.create(name, props, ctx)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("s3").delete_bucket_policy(Bucket=name)


def _get(call: Any) -> Any:
    """The configuration, or None where S3 says the bucket has none."""
    try:
        return call()
    except ClientError as error:
        if error_code(error) in _ABSENT:
            return None
        raise


_RULE_KEYS = {"Id", "Status", "Prefix", "ExpirationInDays", "NoncurrentVersionExpiration",
              "AbortIncompleteMultipartUpload"}


def _rule_to_api(rule: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(rule) - _RULE_KEYS)
    if unknown:
        raise DeployError(f"the local deployer does not support lifecycle rule properties {', '.join(unknown)}")
    api: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule["Prefix"]} if "Prefix" in rule else {}}
    if "Id" in rule:
        api["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": rule["ExpirationInDays"]}
    for key in ("NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"):
        if key in rule:
            api[key] = rule[key]
    return api


def _rule_from_api(rule: dict[str, Any]) -> dict[str, Any]:
    cfn: dict[str, Any] = {"Status": rule["Status"]}
    if "ID" in rule:
        cfn["Id"] = rule["ID"]
    prefix = rule.get("Filter", {}).get("Prefix") or rule.get("Prefix")
    if prefix:
        cfn["Prefix"] = prefix
    if "Days" in rule.get("Expiration", {}):
        cfn["ExpirationInDays"] = rule["Expiration"]["Days"]
    for key in ("NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"):
        if key in rule:
            cfn[key] = rule[key]
    return cfn
