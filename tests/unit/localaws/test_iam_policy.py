"""The IAM policy evaluator against AWS's documented semantics (policy evaluation logic, policy elements,
condition operators), with examples shaped like the AWS documentation's."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from localaws.iam.policy import Decision, Principal, evaluate, parse_document, trust_allows

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service/Worker"
SESSION = Principal(f"arn:aws:sts::{ACCOUNT}:assumed-role/Worker/s1", ACCOUNT, "assumed-role", role_arn=ROLE_ARN)
ALICE = Principal(f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT, "user")
ANONYMOUS = Principal("anonymous", "", "anonymous")
LAMBDA = Principal("lambda.amazonaws.com", "", "service", service="lambda.amazonaws.com")
BUCKET = "arn:aws:s3:::doc-example-bucket"
POOL = "us-east-1:11111111-2222-3333-4444-555555555555"
COGNITO = "cognito-identity.amazonaws.com"


def policy(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def check(action: str, resource: str | list[str], *policies: dict[str, Any], principal: Principal = ALICE,
          context: dict[str, Any] | None = None, **kwargs: Any) -> Decision:
    resources = [resource] if isinstance(resource, str) else resource
    return evaluate(action, resources, context or {}, principal=principal, identity_policies=list(policies),
                    **kwargs)


def allowed(*args: Any, **kwargs: Any) -> bool:
    return check(*args, **kwargs).allowed


def when(condition: dict[str, Any], context: dict[str, Any], version: str = "2012-10-17") -> bool:
    """Whether an Allow of s3:GetObject under ``condition`` applies to a request with ``context``."""
    return allowed("s3:GetObject", f"{BUCKET}/k", policy(allow("s3:*", Condition=condition), version=version),
                   context=context)


# ---- decisions and messages ----------------------------------------------------------------------------------


def test_allow_and_implicit_deny_with_aws_message() -> None:
    doc = policy(allow("s3:GetObject", f"{BUCKET}/*", Sid="Read"))
    decision = check("s3:GetObject", f"{BUCKET}/a.txt", doc)
    assert decision == Decision(True, "allowed", "identity-based", "Read", f"{BUCKET}/a.txt")
    denied = check("s3:PutObject", f"{BUCKET}/a.txt", doc)
    assert (denied.allowed, denied.reason, denied.policy_type, denied.statement) == (
        False, "implicit-deny", "identity-based", None)
    assert denied.message(ALICE.arn, "s3:PutObject", f"{BUCKET}/a.txt") == (
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: s3:PutObject on resource: "
        "arn:aws:s3:::doc-example-bucket/a.txt because no identity-based policy allows the s3:PutObject action")
    assert not allowed("s3:GetObject", f"{BUCKET}/a.txt")  # no policy at all


def test_explicit_deny_beats_allow_and_names_the_policy_type() -> None:
    doc = policy(allow("s3:*", "*"), deny("s3:DeleteObject", f"{BUCKET}/*", Sid="NoDelete"))
    decision = check("s3:DeleteObject", f"{BUCKET}/x", doc)
    assert (decision.reason, decision.policy_type, decision.statement) == ("explicit-deny", "identity-based",
                                                                          "NoDelete")
    assert decision.message(ALICE.arn, "s3:DeleteObject", f"{BUCKET}/x") == (
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: s3:DeleteObject on resource: "
        "arn:aws:s3:::doc-example-bucket/x with an explicit deny in an identity-based policy")
    resource_deny = policy(deny("s3:*", BUCKET + "/*", Principal="*"))
    decision = check("s3:GetObject", f"{BUCKET}/x", doc, resource_policy=resource_deny)
    assert (decision.reason, decision.policy_type) == ("explicit-deny", "resource-based")
    assert decision.message("P", "s3:GetObject", "R").endswith("with an explicit deny in a resource-based policy")
    assert json.loads(decision.statement or "")["Effect"] == "Deny"  # no Sid: the compact statement


def test_deny_in_a_second_identity_policy_still_wins() -> None:
    assert not allowed("s3:GetObject", BUCKET, policy(allow("*")), policy(deny("s3:Get*")))


def test_not_resource_deny_and_not_action() -> None:
    doc = policy(allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": [BUCKET, f"{BUCKET}/*"]})
    assert allowed("s3:GetObject", f"{BUCKET}/k", doc)
    assert check("s3:GetObject", "arn:aws:s3:::other/k", doc).reason == "explicit-deny"
    not_iam = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert allowed("s3:ListBucket", BUCKET, not_iam)
    assert not allowed("iam:CreateUser", "*", not_iam)


def test_action_matching_is_case_insensitive_with_globs() -> None:
    doc = policy(allow(["S3:getobject", "kinesis:Get?ecords", "dynamo*:Put*"]))
    assert allowed("s3:GetObject", "*", doc)
    assert allowed("kinesis:GetRecords", "*", doc)
    assert not allowed("kinesis:GetXXRecords", "*", doc)
    assert allowed("dynamodb:PutItem", "*", doc)
    assert allowed("anything:AtAll", "*", policy(allow("*")))


def test_resource_globs_are_literal_except_star_and_question_mark() -> None:
    doc = policy(allow("s3:GetObject", f"{BUCKET}/logs/2026-0?-*.txt"))
    assert allowed("s3:GetObject", f"{BUCKET}/logs/2026-01-a/b.txt", doc)
    assert not allowed("s3:GetObject", f"{BUCKET}/logs/2026-10-a.txt", doc)
    assert not allowed("s3:GetObject", f"{BUCKET}/logs/2026-01-aXtxt", doc)  # '.' is a dot
    assert not allowed("s3:GetObject", "arn:aws:s3:::doc-example-bucketX/logs/2026-01-a.txt", doc)
    assert not allowed("s3:GetObject", f"{BUCKET.upper()}/logs/2026-01-a.txt", doc)  # case-sensitive
    assert allowed("s3:GetObject", "arn:aws:s3:::a+b(c)[d]/k", policy(allow("s3:*", "arn:aws:s3:::a+b(c)[d]/*")))
    assert allowed("sts:Get", "arn:aws:x:us-east-1:1:a/b:c", policy(allow("*", "arn:aws:x:*")))


def test_every_resource_must_be_allowed_and_the_first_denied_one_is_reported() -> None:
    catalog = f"arn:aws:glue:us-east-1:{ACCOUNT}:catalog"
    database = f"arn:aws:glue:us-east-1:{ACCOUNT}:database/wildrydes"
    table = f"arn:aws:glue:us-east-1:{ACCOUNT}:table/wildrydes/unicorn_status"
    full = policy(allow("glue:GetTable", [catalog, database, f"arn:aws:glue:us-east-1:{ACCOUNT}:table/wildrydes/*"]))
    assert check("glue:GetTable", [catalog, database, table], full).allowed
    partial = policy(allow("glue:GetTable", [catalog, table]))
    decision = check("glue:GetTable", [catalog, database, table], partial)
    assert (decision.allowed, decision.reason, decision.resource) == (False, "implicit-deny", database)
    assert check("glue:GetDatabases", [], policy(allow("glue:*", "*"))).allowed  # no resource: '*'


def test_root_is_allowed() -> None:
    root = Principal(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, "root")
    assert check("s3:DeleteBucket", BUCKET, principal=root).allowed


# ---- resource policies, principals, session policies ---------------------------------------------------------


def test_bucket_policy_deny_insecure_transport() -> None:
    bucket_policy = policy({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                            "Resource": [BUCKET, f"{BUCKET}/*"], "Condition": {"Bool": {"aws:SecureTransport": False}}})
    identity = policy(allow("s3:*"))
    insecure = check("s3:GetObject", f"{BUCKET}/k", identity, resource_policy=bucket_policy,
                     context={"aws:SecureTransport": "false"})
    assert (insecure.reason, insecure.policy_type, insecure.statement) == ("explicit-deny", "resource-based",
                                                                          "DenyInsecureTransport")
    assert allowed("s3:GetObject", f"{BUCKET}/k", identity, resource_policy=bucket_policy,
                   context={"AWS:SecureTransport": "TRUE"})


def test_resource_policy_naming_the_role_grants_its_sessions_without_identity_policy() -> None:
    stream = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/wildrydes"
    resource_policy = policy({"Sid": "Consumers", "Effect": "Allow", "Principal": {"AWS": ROLE_ARN},
                              "Action": ["kinesis:Get*", "kinesis:DescribeStream"], "Resource": stream})
    decision = check("kinesis:GetRecords", stream, principal=SESSION, resource_policy=resource_policy)
    assert (decision.allowed, decision.policy_type, decision.statement) == (True, "resource-based", "Consumers")
    assert not allowed("kinesis:GetRecords", stream, principal=ALICE, resource_policy=resource_policy)
    assert not allowed("kinesis:PutRecord", stream, principal=SESSION, resource_policy=resource_policy)


def test_principal_forms() -> None:
    def grants(spec: Any, principal: Principal) -> bool:
        doc = policy({"Effect": "Allow", "Principal": spec, "Action": "s3:GetObject"})  # no Resource: this one
        return allowed("s3:GetObject", f"{BUCKET}/k", principal=principal, resource_policy=doc)

    assert grants("*", ANONYMOUS) and grants({"AWS": "*"}, ANONYMOUS)
    assert grants({"AWS": ACCOUNT}, ALICE) and grants({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, SESSION)
    assert not grants({"AWS": ACCOUNT}, ANONYMOUS) and not grants({"AWS": ACCOUNT}, LAMBDA)
    assert not grants({"AWS": "210987654321"}, ALICE)
    assert grants({"AWS": [ROLE_ARN, "x"]}, SESSION) and grants({"AWS": SESSION.arn}, SESSION)
    assert not grants({"AWS": SESSION.arn.replace("s1", "s2")}, SESSION)
    assert grants({"AWS": ALICE.arn}, ALICE) and not grants({"AWS": ALICE.arn + "x"}, ALICE)
    assert grants({"Service": ["lambda.amazonaws.com"]}, LAMBDA) and not grants({"Service": "x.amazonaws.com"}, LAMBDA)
    assert not grants({"Service": "lambda.amazonaws.com"}, ALICE)
    federated = Principal("web", "", "federated", federated=COGNITO)
    assert grants({"Federated": COGNITO}, federated) and not grants({"Federated": COGNITO}, ALICE)
    not_alice = policy({"Effect": "Allow", "NotPrincipal": {"AWS": ALICE.arn}, "Action": "s3:*"})
    assert allowed("s3:GetObject", BUCKET, principal=SESSION, resource_policy=not_alice)
    assert not allowed("s3:GetObject", BUCKET, principal=ALICE, resource_policy=not_alice)
    identity_with_principal = policy(allow("s3:*", Principal={"AWS": "nobody"}))  # ignored in identity policies
    assert allowed("s3:GetObject", BUCKET, identity_with_principal)
    no_resource_identity = policy({"Effect": "Allow", "Action": "s3:*"})
    assert not allowed("s3:GetObject", BUCKET, no_resource_identity)


def test_anonymous_denial_names_the_resource_policy() -> None:
    decision = check("s3:GetObject", f"{BUCKET}/k", principal=ANONYMOUS)
    assert decision.message("anonymous", "s3:GetObject", "r").endswith(
        "because no resource-based policy allows the s3:GetObject action")


def test_session_policy_intersects_identity_policies() -> None:
    identity = policy(allow(["s3:*", "kinesis:*"]))
    session = policy(allow("kinesis:*", "*"))
    assert allowed("kinesis:GetRecords", "*", identity, principal=SESSION, session_policy=session)
    decision = check("s3:GetObject", BUCKET, identity, principal=SESSION, session_policy=session)
    assert (decision.reason, decision.policy_type) == ("implicit-deny", "session")
    assert decision.message("P", "s3:GetObject", "R").endswith(
        "because no session policy allows the s3:GetObject action")
    assert not allowed("dynamodb:PutItem", "*", identity, principal=SESSION, session_policy=policy(allow("*")))
    denied = check("kinesis:PutRecord", "*", identity, principal=SESSION,
                   session_policy=policy(allow("*"), deny("kinesis:Put*")))
    assert (denied.reason, denied.policy_type) == ("explicit-deny", "session")
    assert denied.message("P", "a", "r").endswith("with an explicit deny in a session policy")


# ---- trust policies ------------------------------------------------------------------------------------------


def test_service_trust_policy_with_external_id() -> None:
    trust = policy({"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": ACCOUNT}}})
    firehose = Principal("firehose.amazonaws.com", "", "service", service="firehose.amazonaws.com")
    assert trust_allows(trust, firehose, "sts:AssumeRole", {"sts:ExternalId": ACCOUNT}).allowed
    assert not trust_allows(trust, firehose, "sts:AssumeRole", {"sts:ExternalId": "999999999999"}).allowed
    assert not trust_allows(trust, firehose, "sts:AssumeRole", {}).allowed
    assert not trust_allows(trust, LAMBDA, "sts:AssumeRole", {"sts:ExternalId": ACCOUNT}).allowed
    missing = trust_allows(trust, firehose, "sts:TagSession", {"sts:ExternalId": ACCOUNT})
    assert (missing.reason, missing.policy_type) == ("implicit-deny", "resource-based")


def test_cognito_guest_trust_policy() -> None:
    trust = policy({
        "Effect": "Allow", "Principal": {"Federated": COGNITO}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{COGNITO}:aud": POOL},
                      "ForAnyValue:StringLike": {f"{COGNITO}:amr": "unauthenticated"}}})
    guest = Principal(f"arn:aws:sts::{ACCOUNT}:assumed-role/Guest/CognitoIdentityCredentials", "", "federated",
                      federated=COGNITO)
    amr = ["unauthenticated", f"{COGNITO}:{POOL}"]
    assert trust_allows(trust, guest, "sts:AssumeRoleWithWebIdentity", {f"{COGNITO}:aud": POOL,
                                                                        f"{COGNITO}:amr": amr}).allowed
    other_pool = {f"{COGNITO}:aud": "us-east-1:other", f"{COGNITO}:amr": amr}
    assert not trust_allows(trust, guest, "sts:AssumeRoleWithWebIdentity", other_pool).allowed
    authenticated = {f"{COGNITO}:aud": POOL, f"{COGNITO}:amr": ["authenticated", "accounts.google.com"]}
    assert not trust_allows(trust, guest, "sts:AssumeRoleWithWebIdentity", authenticated).allowed
    assert not trust_allows(trust, guest, "sts:AssumeRole", {f"{COGNITO}:aud": POOL, f"{COGNITO}:amr": amr}).allowed


def test_trust_policy_explicit_deny_wins() -> None:
    trust = policy({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"},
                   {"Sid": "NotAlice", "Effect": "Deny", "Principal": {"AWS": ALICE.arn}, "Action": "sts:*"})
    assert trust_allows(trust, SESSION, "sts:AssumeRole", {}).allowed
    decision = trust_allows(trust, ALICE, "sts:AssumeRole", {})
    assert (decision.reason, decision.policy_type, decision.statement) == ("explicit-deny", "resource-based",
                                                                          "NotAlice")


# ---- conditions ----------------------------------------------------------------------------------------------


def test_string_operators() -> None:
    assert when({"StringEquals": {"s3:prefix": ["a", "b"]}}, {"S3:Prefix": "b"})
    assert not when({"StringEquals": {"s3:prefix": "a"}}, {"s3:prefix": "A"})
    assert when({"StringEqualsIgnoreCase": {"s3:prefix": "a"}}, {"s3:prefix": "A"})
    assert not when({"StringNotEqualsIgnoreCase": {"s3:prefix": "a"}}, {"s3:prefix": "A"})
    assert when({"StringLike": {"s3:prefix": "home/*/d?cs"}}, {"s3:prefix": "home/x/y/docs"})
    assert not when({"StringLike": {"s3:prefix": "home/*"}}, {"s3:prefix": "Home/x"})
    assert when({"StringNotLike": {"s3:prefix": ["a*", "b*"]}}, {"s3:prefix": "c"})
    assert not when({"StringNotLike": {"s3:prefix": ["a*", "b*"]}}, {"s3:prefix": "b1"})
    assert not when({"StringEquals": {"s3:prefix": "a"}}, {})  # positive operator, missing key
    both = {"StringEquals": {"s3:prefix": "a", "aws:username": "alice"}, "Bool": {"aws:SecureTransport": "true"}}
    assert when(both, {"s3:prefix": "a", "aws:SecureTransport": "true"})
    assert not when(both, {"s3:prefix": "a", "aws:SecureTransport": "false"})


def test_negated_operator_with_missing_key_is_true() -> None:
    assert when({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, {})
    assert when({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::x"}}, {})
    assert not when({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, {"aws:SourceVpc": "vpc-1"})


def test_if_exists() -> None:
    condition = {"StringEqualsIfExists": {"ec2:InstanceType": ["t3.micro", "t3.small"]}}
    assert when(condition, {})
    assert when(condition, {"ec2:InstanceType": "t3.small"})
    assert not when(condition, {"ec2:InstanceType": "m5.large"})


def test_null() -> None:
    assert when({"Null": {"aws:TokenIssueTime": "true"}}, {})
    assert not when({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})
    assert when({"Null": {"aws:TokenIssueTime": False}}, {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})


def test_set_operators() -> None:
    all_values = {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}
    assert when(all_values, {"aws:TagKeys": ["environment"]})
    assert not when(all_values, {"aws:TagKeys": ["environment", "owner"]})
    assert when(all_values, {}) and when(all_values, {"aws:TagKeys": []})
    any_value = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}
    assert when(any_value, {"aws:TagKeys": ["owner", "cost-center"]})
    assert not when(any_value, {"aws:TagKeys": ["owner"]})
    assert not when(any_value, {}) and not when(any_value, {"aws:TagKeys": []})
    assert when({"ForAnyValue:StringNotEquals": {"aws:TagKeys": "owner"}}, {"aws:TagKeys": ["owner", "x"]})
    # a single-valued operator on a multi-valued key: true when any one value satisfies it
    assert when({"StringEquals": {"aws:TagKeys": "owner"}}, {"aws:TagKeys": ["x", "owner"]})


def test_ip_address() -> None:
    assert when({"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}, {"aws:SourceIp": "203.0.113.9"})
    assert not when({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, {"aws:SourceIp": "192.0.3.1"})
    assert when({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, {"aws:SourceIp": "2001:db8::1"})
    assert when({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, {"aws:SourceIp": "198.51.100.1"})
    assert not when({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, {"aws:SourceIp": "192.0.2.7"})
    assert not when({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, {"aws:SourceIp": "not-an-ip"})


def test_numeric_date_bool_binary() -> None:
    assert when({"NumericLessThanEquals": {"s3:max-keys": 10}}, {"s3:max-keys": "10"})
    assert not when({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "10"})
    assert when({"NumericGreaterThan": {"s3:max-keys": "1.5"}}, {"s3:max-keys": "2"})
    assert when({"NumericNotEquals": {"s3:max-keys": ["1", "2"]}}, {"s3:max-keys": "3"})
    assert not when({"NumericEquals": {"s3:max-keys": "1"}}, {"s3:max-keys": "one"})
    assert when({"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}},
                {"aws:CurrentTime": "2026-06-01T12:00:00Z"})
    assert not when({"DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}},
                    {"aws:CurrentTime": "2026-06-01T12:00:00+00:00"})
    assert when({"DateEquals": {"aws:EpochTime": "1767225600"}}, {"aws:EpochTime": "2026-01-01T00:00:00Z"})
    assert when({"DateNotEquals": {"aws:CurrentTime": "2026-01-01"}}, {"aws:CurrentTime": "2026-01-02"})
    assert when({"Bool": {"aws:MultiFactorAuthPresent": True}}, {"aws:MultiFactorAuthPresent": "True"})
    assert not when({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, {"aws:MultiFactorAuthPresent": "false"})
    assert when({"BinaryEquals": {"k:blob": "QmluYXJ5VmFsdWU="}}, {"k:blob": "QmluYXJ5VmFsdWU="})
    assert not when({"BinaryEquals": {"k:blob": "QmluYXJ5VmFsdWU="}}, {"k:blob": "b3RoZXI="})


def test_arn_operators_compare_the_six_parts() -> None:
    like = {"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:123456789012:function:unicorn-*"}}
    assert when(like, {"aws:SourceArn": "arn:aws:lambda:us-east-1:123456789012:function:unicorn-writer"})
    assert not when(like, {"aws:SourceArn": "arn:aws:lambda:us-east-1:210987654321:function:unicorn-writer"})
    assert not when({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}, {"aws:SourceArn": "arn:aws:s3:bucket"})
    assert not when({"ArnLike": {"aws:SourceArn": "arn:aws:s3:*:*:*:x"}}, {"aws:SourceArn": "arn:aws:s3:a:b"})
    assert when({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:t"}},
                {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:t"})
    assert when({"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:t"}},
                {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:u"})
    assert not when({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}},
                    {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:u"})


def test_unknown_operator_raises() -> None:
    with pytest.raises(ValueError, match="unsupported condition operator 'StringEqualz'"):
        parse_document(policy(allow("s3:*", Condition={"StringEqualz": {"s3:prefix": "a"}})))
    with pytest.raises(ValueError, match="unsupported condition operator"):
        when({"ForSomeValues:StringEquals": {"k": "v"}}, {"k": "v"})
    with pytest.raises(ValueError, match="unsupported condition operator"):
        when({"NullIfExists": {"k": "true"}}, {})
    with pytest.raises(ValueError):
        parse_document(policy({"Effect": "Maybe", "Action": "*", "Resource": "*"}))


# ---- policy variables ----------------------------------------------------------------------------------------


def test_policy_variables_in_resource_and_conditions() -> None:
    home = policy(allow("s3:*", f"{BUCKET}/home/${{aws:username}}/*"))
    assert allowed("s3:GetObject", f"{BUCKET}/home/alice/a", home)
    assert not allowed("s3:GetObject", f"{BUCKET}/home/bob/a", home)
    assert not allowed("s3:GetObject", f"{BUCKET}/home/alice/a", home, principal=SESSION)  # no aws:username
    assert not allowed("s3:GetObject", f"{BUCKET}/home/${{aws:username}}/a", home, principal=SESSION)
    literal = policy(allow("s3:*", f"{BUCKET}/home/${{aws:username}}/*"), version="2008-10-17")
    assert allowed("s3:GetObject", f"{BUCKET}/home/${{aws:username}}/a", literal)
    assert not allowed("s3:GetObject", f"{BUCKET}/home/alice/a", literal)
    escapes = policy(allow("s3:*", f"{BUCKET}/${{*}}${{?}}${{$}}/${{aws:PrincipalAccount}}-${{team}}"))
    assert allowed("s3:GetObject", f"{BUCKET}/*?$/{ACCOUNT}-blue", escapes, context={"team": "blue"})
    assert not allowed("s3:GetObject", f"{BUCKET}/xy$/{ACCOUNT}-blue", escapes, context={"team": "blue"})
    assert not allowed("s3:GetObject", f"{BUCKET}/*?$/{ACCOUNT}-blue", escapes)  # ${team} unknown
    wild = policy(allow("s3:*", f"{BUCKET}/${{team}}/*"))  # a variable's value is literal, never a glob
    assert not allowed("s3:GetObject", f"{BUCKET}/red/k", wild, context={"team": "*"})
    defaulted = policy(allow("s3:*", f"{BUCKET}/${{aws:PrincipalTag/team, 'shared'}}/*"))
    assert allowed("s3:GetObject", f"{BUCKET}/shared/k", defaulted)
    assert when({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, {"s3:prefix": "home/alice/x"})
    assert not when({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}, {"s3:prefix": "home/bob/x"})
    assert when({"StringEquals": {"aws:userid": "${aws:userid}"}}, {"aws:userid": "AIDAEXAMPLE"})
    assert not when({"StringNotEquals": {"s3:prefix": "${unknown}"}}, {"s3:prefix": "x"})
    assert when({"StringEquals": {"aws:PrincipalArn": ALICE.arn}}, {})  # the principal's own keys


# ---- documents -----------------------------------------------------------------------------------------------


def test_parse_document_forms_and_idempotence() -> None:
    raw = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET,
                                                  "Condition": {"NumericLessThan": {"s3:max-keys": 10}}}}
    parsed = parse_document(raw)
    assert parsed == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [BUCKET],
         "Condition": {"NumericLessThan": {"s3:max-keys": ["10"]}}}]}
    assert parse_document(parsed) is parsed and parse_document(dict(parsed)) == parsed
    assert parse_document(json.dumps(raw)) == parsed
    encoded = quote(json.dumps(raw), safe="")
    assert encoded.startswith("%7B") and parse_document(encoded) == parsed
    assert parse_document(json.dumps(raw).replace(" ", "+").replace('"', "%22")) == parsed
    assert json.loads(json.dumps(parsed)) == parsed
    for document in (parsed, raw, json.dumps(raw)):
        assert allowed("s3:GetObject", BUCKET, document, context={"s3:max-keys": "3"})
        assert not allowed("s3:GetObject", BUCKET, document, context={"s3:max-keys": "30"})
    principal = parse_document(policy({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "*"}))
    assert principal["Statement"][0]["Principal"] == {"AWS": [ACCOUNT]}
    with pytest.raises(ValueError, match="malformed policy document"):
        parse_document("%7Bnot json")
