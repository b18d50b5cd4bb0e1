"""IAM authorizations of the query-protocol services' requests (localaws.iam.actions): SQS, STS (and the public
operations), IAM, CloudFormation."""

from __future__ import annotations

import pytest

from localaws.iam.actions import Access, accesses, is_public, operation_of
from tests.support.iam_requests import ACCOUNT, REGION, json_request, one, query_request

# ------------------------------------------------------------------------------------------------ SQS


def queue(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


@pytest.mark.parametrize(("operation", "action"), [
    ("SendMessageBatch", "sqs:SendMessage"), ("DeleteMessageBatch", "sqs:DeleteMessage"),
    ("ChangeMessageVisibilityBatch", "sqs:ChangeMessageVisibility"), ("ReceiveMessage", "sqs:ReceiveMessage"),
    ("SendMessage", "sqs:SendMessage"),
])
def test_sqs_json_protocol(operation: str, action: str) -> None:
    url = "http://sqs.eu-west-1.localhost:4566/000000000000/ride-events"
    request = json_request("sqs", operation, {"QueueUrl": url, "Entries": []}, with_operation=False)
    assert one(request) == Access(action, (queue("ride-events", "000000000000"),))


def test_sqs_query_protocol_and_names() -> None:
    url = "http://localhost:4566/123456789012/q1"
    assert one(query_request("sqs", {"Action": "SendMessageBatch", "QueueUrl": url})).action == "sqs:SendMessage"
    assert one(query_request("sqs", {"Action": "GetQueueAttributes", "QueueUrl": url}, method="GET")
               ).resources == (queue("q1"),)
    legacy = query_request("sqs", {"Action": "SendMessage", "MessageBody": "x"}, path="/123456789012/q2")
    assert one(legacy) == Access("sqs:SendMessage", (queue("q2"),))
    assert one(query_request("sqs", {"Action": "ListQueues"})).resources == ("*",)
    assert one(json_request("sqs", "CreateQueue", {"QueueName": "new"})).resources == (queue("new"),)
    owned = json_request("sqs", "GetQueueUrl", {"QueueName": "q", "QueueOwnerAWSAccountId": "111122223333"})
    assert one(owned).resources == (queue("q", "111122223333"),)


# ------------------------------------------------------------------------------------------------ STS, IAM


def test_sts_assume_role_context() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/ingest"
    request = query_request("sts", {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role,
                                    "RoleSessionName": "s1", "ExternalId": "ext-42",
                                    "Tags.member.1.Key": "team", "Tags.member.1.Value": "data"})
    assert operation_of(request) == "AssumeRole"
    assert one(request) == Access("sts:AssumeRole", (role,), {
        "sts:ExternalId": "ext-42", "sts:RoleSessionName": "s1", "aws:RequestTag/team": "data",
        "aws:TagKeys": ("team",)})
    web = query_request("sts", {"Action": "AssumeRoleWithWebIdentity", "RoleArn": role, "RoleSessionName": "w",
                                "WebIdentityToken": "t"}, method="GET")
    assert (one(web).action, one(web).resources) == ("sts:AssumeRoleWithWebIdentity", (role,))
    for operation in ("GetCallerIdentity", "GetSessionToken", "GetFederationToken", "DecodeAuthorizationMessage",
                      "GetAccessKeyInfo"):
        assert one(query_request("sts", {"Action": operation})) == Access(f"sts:{operation}", ("*",))


def test_public_operations() -> None:
    assert is_public("cognito-identity", "GetId") and is_public("cognito-identity", "GetCredentialsForIdentity")
    assert is_public("sts", "AssumeRoleWithWebIdentity") and is_public("sts", "AssumeRoleWithSAML")
    assert not is_public("sts", "AssumeRole") and not is_public("s3", None)
    for operation in ("GetId", "GetOpenIdToken", "GetCredentialsForIdentity"):
        assert accesses(json_request("cognito-identity", operation, {"IdentityPoolId": "p"})) == []
    pool = json_request("cognito-identity", "DescribeIdentityPool", {"IdentityPoolId": "eu-west-1:abc"})
    assert one(pool).resources == (f"arn:aws:cognito-identity:{REGION}:{ACCOUNT}:identitypool/eu-west-1:abc",)


@pytest.mark.parametrize(("params", "resource", "context"), [
    ({"Action": "CreateRole", "RoleName": "r", "AssumeRolePolicyDocument": "{}"}, "role/r", {}),
    ({"Action": "CreateRole", "RoleName": "r", "Path": "/svc/"}, "role/svc/r", {}),
    ({"Action": "GetRole", "RoleName": "r"}, "role/r", {}),
    ({"Action": "PutRolePolicy", "RoleName": "r", "PolicyName": "p"}, "role/r", {}),
    ({"Action": "AttachRolePolicy", "RoleName": "r", "PolicyArn": "arn:aws:iam::aws:policy/P"}, "role/r",
     {"iam:PolicyARN": "arn:aws:iam::aws:policy/P"}),
    ({"Action": "UpdateAssumeRolePolicy", "RoleName": "r"}, "role/r", {}),
    ({"Action": "CreateUser", "UserName": "u"}, "user/u", {}),
    ({"Action": "CreateAccessKey", "UserName": "u"}, "user/u", {}),
    ({"Action": "AddUserToGroup", "UserName": "u", "GroupName": "g"}, "group/g", {}),
    ({"Action": "AddRoleToInstanceProfile", "RoleName": "r", "InstanceProfileName": "ip"}, "instance-profile/ip", {}),
    ({"Action": "CreatePolicy", "PolicyName": "p"}, "policy/p", {}),
    ({"Action": "GetPolicyVersion", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/p"}, "policy/p", {}),
])
def test_iam(params: dict[str, str], resource: str, context: dict[str, str]) -> None:
    access = one(query_request("iam", params))
    assert access == Access(f"iam:{params['Action']}", (f"arn:aws:iam::{ACCOUNT}:{resource}",), context)


def test_iam_lists_are_unscoped() -> None:
    for operation in ("ListRoles", "ListUsers", "ListPolicies"):
        assert one(query_request("iam", {"Action": operation})).resources == ("*",)


# ------------------------------------------------------------------------------------------------ CloudFormation


def test_cloudformation() -> None:
    request = query_request("cloudformation", {"Action": "DescribeStackEvents", "StackName": "wildrydes"})
    assert one(request).resources == (f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/wildrydes/*",)
    assert one(query_request("cloudformation", {"Action": "DescribeStacks"})).resources == ("*",)
    arn = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/w/0123"
    assert one(query_request("cloudformation", {"Action": "DeleteStack", "StackName": arn})).resources == (arn,)
