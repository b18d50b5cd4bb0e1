"""infra/template.yaml: cfn-lint, checkov, and the security and platform properties it must keep.
No endpoint needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.deploy import DeployError
from infra.deploy.template import (
    Scope,
    Template,
    dependency_order,
    evaluate_conditions,
    load_template,
    parse_parameter_overrides,
    pseudo_parameters,
    references,
    resolve,
    resolve_parameters,
)
from localaws.settings import REPO_ROOT
from tests.support.template_lint import cfn_lint, checkov

TEMPLATE = REPO_ROOT / "infra" / "template.yaml"


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(TEMPLATE)


def of_type(template: Template, type_name: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template.resources.items() if r["Type"] == type_name}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(document["Statement"])


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


# ---------------------------------------------------------------------------------- linters
def test_cfn_lint_reports_nothing() -> None:
    result = cfn_lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_checkov_has_no_failed_checks_and_every_skip_has_a_reason() -> None:
    result, report = checkov(TEMPLATE)
    results = report["results"]
    failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
    assert failed == [], failed
    assert result.returncode == 0, result.stderr[-2000:]
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 50
    for check in results["skipped_checks"]:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} is skipped without a reason"


# ---------------------------------------------------------------------------------- buckets
def test_every_bucket_is_encrypted_private_and_tls_only(template: Template) -> None:
    buckets = of_type(template, "AWS::S3::Bucket")
    assert {"ArchiveBucket", "AthenaResultsBucket"} <= set(buckets)
    policies = {p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
                for p in of_type(template, "AWS::S3::BucketPolicy").values()}
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules and all(r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
                             for r in rules), logical_id
        block = props["PublicAccessBlockConfiguration"]
        assert all(block[key] is True for key in
                   ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")), logical_id
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert bucket.get("DeletionPolicy") == "RetainExceptOnCreate", logical_id  # a failed create leaves none
        assert bucket.get("UpdateReplacePolicy") == "Retain", logical_id
        deny = [s for s in statements(policies[logical_id]) if s["Effect"] == "Deny"]
        tls = [s for s in deny if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
        assert tls, f"{logical_id} has no policy denying non-TLS access"
        assert tls[0]["Principal"] == "*" and tls[0]["Action"] == "s3:*"
        resources = as_list(tls[0]["Resource"])
        assert get_att(logical_id) in resources
        assert {"Fn::Sub": f"${{{logical_id}.Arn}}/*"} in resources
        if logical_id != "AccessLogsBucket":
            assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}


def test_only_the_log_service_may_write_the_access_log_bucket(template: Template) -> None:
    policy = template.resources["AccessLogsBucketPolicy"]["Properties"]["PolicyDocument"]
    allows = [s for s in statements(policy) if s["Effect"] == "Allow"]
    assert len(allows) == 1
    assert allows[0]["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allows[0]["Action"] == "s3:PutObject"
    assert allows[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


# ---------------------------------------------------------------------------------- IAM
def iam_statements(template: Template) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, role in of_type(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            found += [(f"{logical_id}/{policy['PolicyName']}", s) for s in statements(policy["PolicyDocument"])]
    for logical_id, policy in of_type(template, "AWS::S3::BucketPolicy").items():
        found += [(logical_id, s) for s in statements(policy["Properties"]["PolicyDocument"])]
    return found


def test_no_allow_statement_uses_wildcard_actions_or_resources(template: Template) -> None:
    for where, statement in iam_statements(template):
        if statement["Effect"] != "Allow":
            continue  # the TLS-only denials must cover every action and principal
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{where}: wildcard action {action}"
        for resource in as_list(statement["Resource"]):
            assert resource != "*", f"{where}: Resource '*'"


def test_roles_use_no_managed_policies(template: Template) -> None:
    for logical_id, role in of_type(template, "AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], logical_id


def test_unauthenticated_map_role_can_only_read_the_map_and_summary_streams(template: Template) -> None:
    attachment = template.resources["MapIdentityPoolRoles"]["Properties"]
    assert attachment["IdentityPoolId"] == {"Ref": "MapIdentityPool"}
    assert attachment["Roles"] == {"unauthenticated": get_att("MapUnauthenticatedRole")}
    pool = template.resources["MapIdentityPool"]["Properties"]
    assert pool["AllowUnauthenticatedIdentities"] is True
    assert pool["AllowClassicFlow"] is True  # the enhanced flow's session policy does not allow Kinesis reads

    role = template.resources["MapUnauthenticatedRole"]["Properties"]
    (trust,) = statements(role["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"]["StringEquals"] == {"cognito-identity.amazonaws.com:aud": {"Ref": "MapIdentityPool"}}
    assert trust["Condition"]["ForAnyValue:StringLike"] == {"cognito-identity.amazonaws.com:amr": "unauthenticated"}

    granted = [s for p in role["Policies"] for s in statements(p["PolicyDocument"])]
    assert granted and all(s["Effect"] == "Allow" for s in granted)
    assert all("Condition" not in s and "NotAction" not in s and "NotResource" not in s for s in granted)
    actions = {a for s in granted for a in as_list(s["Action"])}
    assert actions == {"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"}  # what the page calls
    resources = [r for s in granted for r in as_list(s["Resource"])]
    assert sorted(map(json.dumps, resources)) == sorted(
        map(json.dumps, [get_att("MapStream"), get_att("SummaryStream")]))  # never the pipeline's source stream


def test_function_roles_are_scoped_to_their_resources(template: Template) -> None:
    def grants(role: str) -> dict[str, list[Any]]:
        result: dict[str, list[Any]] = {}
        for policy in template.resources[role]["Properties"]["Policies"]:
            for statement in statements(policy["PolicyDocument"]):
                for action in as_list(statement["Action"]):
                    result.setdefault(action, []).extend(as_list(statement["Resource"]))
        return result

    aggregator = grants("AggregatorRole")
    assert aggregator["kinesis:GetRecords"] == [get_att("SourceStream")]
    assert aggregator["kinesis:PutRecords"] == [get_att("SummaryStream"), get_att("MapStream")]
    assert "dynamodb:BatchWriteItem" not in aggregator
    writer = grants("SummaryWriterRole")
    assert writer["kinesis:GetRecords"] == [get_att("SummaryStream")]
    assert writer["dynamodb:PutItem"] == writer["dynamodb:GetItem"] == [get_att("SensorTable")]
    assert "dynamodb:BatchWriteItem" not in writer
    assert not any(action.startswith("kinesis:Put") for action in writer)
    transform = grants("ArchiveTransformRole")
    assert set(transform) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    delivery = grants("ArchiveDeliveryRole")
    assert delivery["s3:PutObject"] == [get_att("ArchiveBucket"), {"Fn::Sub": "${ArchiveBucket.Arn}/*"}]
    assert delivery["lambda:InvokeFunction"][0] == get_att("ArchiveTransformFunction")
    assert len(delivery["glue:GetTableVersions"]) == 3


# ---------------------------------------------------------------------------------- platform
def test_streams_table_and_catalog(template: Template) -> None:
    r = template.resources
    # Named after the stack, so two stacks coexist: the default stack "wildrydes" keeps the workshop's names.
    for logical_id, name in (("SourceStream", {"Ref": "AWS::StackName"}),
                             ("SummaryStream", {"Fn::Sub": "${AWS::StackName}-summary"}),
                             ("MapStream", {"Fn::Sub": "${AWS::StackName}-map"})):
        props = r[logical_id]["Properties"]
        assert props["Name"] == name and props["RetentionPeriodHours"] == 24
        assert props["ShardCount"] == {"Ref": f"{logical_id}ShardCount"}
        assert props["StreamEncryption"]["EncryptionType"] == "KMS"
    table = r["SensorTable"]["Properties"]
    assert table["TableName"] == {"Fn::If": ["IsDefaultStack", "UnicornSensorData",
                                             {"Fn::Sub": "${AWS::StackName}-UnicornSensorData"}]}
    assert template.conditions["IsDefaultStack"] == {"Fn::Equals": [{"Ref": "AWS::StackName"}, "wildrydes"]}
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "Name", "KeyType": "HASH"},
                                  {"AttributeName": "StatusTime", "KeyType": "RANGE"}]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}

    assert r["GlueDatabase"]["Properties"]["DatabaseInput"]["Name"] == {"Ref": "AWS::StackName"}
    table_input = r["RawTable"]["Properties"]["TableInput"]
    assert table_input["Name"] == "unicorn_status"
    assert [(k["Name"], k["Type"]) for k in table_input["PartitionKeys"]] == [("dt", "string"), ("hour", "string")]
    storage = table_input["StorageDescriptor"]
    assert storage["Location"] == {"Fn::Sub": "s3://${ArchiveBucket}/raw/"}
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert storage["InputFormat"].endswith("MapredParquetInputFormat")
    assert storage["OutputFormat"].endswith("MapredParquetOutputFormat")
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == [
        ("name", "string"), ("statustime", "string"), ("latitude", "double"), ("longitude", "double"),
        ("distance", "double"), ("healthpoints", "int"), ("magicpoints", "int"), ("arrivaltime", "timestamp"),
        ("sequencenumber", "string"), ("shardid", "string"),
    ]

    group = r["AthenaWorkGroup"]["Properties"]
    assert group["Name"] == {"Ref": "AWS::StackName"}
    config = group["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] == {"Ref": "AthenaBytesScannedCutoffPerQuery"}
    assert config["ResultConfiguration"]["OutputLocation"] == {"Fn::Sub": "s3://${AthenaResultsBucket}/athena-results/"}
    assert config["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"


def test_archive_delivery_stream(template: Template) -> None:
    props = template.resources["ArchiveDeliveryStream"]["Properties"]
    assert props["DeliveryStreamName"] == {"Fn::Sub": "${AWS::StackName}-archive"}
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == get_att("SourceStream")
    s3 = props["ExtendedS3DestinationConfiguration"]
    assert s3["BucketARN"] == get_att("ArchiveBucket")
    assert s3["Prefix"] == "raw/dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/"
    assert s3["ErrorOutputPrefix"] == \
        "errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"
    assert s3["BufferingHints"] == {"IntervalInSeconds": {"Ref": "ArchiveBufferIntervalSeconds"},
                                    "SizeInMBs": {"Ref": "ArchiveBufferSizeMB"}}
    assert s3["DynamicPartitioningConfiguration"]["Enabled"] is True
    (processor,) = s3["ProcessingConfiguration"]["Processors"]
    assert processor["Type"] == "Lambda"
    lambda_arn = {"ParameterName": "LambdaArn", "ParameterValue": get_att("ArchiveTransformFunction")}
    assert lambda_arn in processor["Parameters"]
    conversion = s3["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert conversion["OutputFormatConfiguration"]["Serializer"] == {"ParquetSerDe": {"Compression": "SNAPPY"}}
    assert conversion["InputFormatConfiguration"]["Deserializer"] == {"OpenXJsonSerDe": {"CaseInsensitive": True}}
    schema = conversion["SchemaConfiguration"]
    assert schema["DatabaseName"] == {"Ref": "GlueDatabase"} and schema["TableName"] == {"Ref": "RawTable"}
    assert s3["CompressionFormat"] == "UNCOMPRESSED"  # Parquet compresses inside the file


def test_functions_and_mappings(template: Template) -> None:
    functions = of_type(template, "AWS::Lambda::Function")
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert handlers == {"streaming.lambdas.aggregator.handler", "streaming.lambdas.summary_writer.handler",
                        "streaming.lambdas.archive_transform.handler"}
    for logical_id, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.12", logical_id
        assert props["Code"] == {"S3Bucket": {"Ref": "LambdaCodeBucket"}, "S3Key": {"Ref": "LambdaCodeKey"}}
        assert 0 < props["Timeout"] <= 900
    aggregator_env = functions["AggregatorFunction"]["Properties"]["Environment"]["Variables"]
    assert aggregator_env["SUMMARY_STREAM"] == {"Ref": "SummaryStream"}
    writer_env = functions["SummaryWriterFunction"]["Properties"]["Environment"]["Variables"]
    assert writer_env["TABLE_NAME"] == {"Ref": "SensorTable"}
    assert writer_env["WRITE_CONCURRENCY"] == {"Ref": "SummaryWriterConcurrency"}
    concurrency = template.parameters["SummaryWriterConcurrency"]
    assert (concurrency["Default"], concurrency["MinValue"], concurrency["MaxValue"]) == (
        8, 1, 64)  # the handler's own default and limits (summary_writer.CONCURRENCY, MAX_CONCURRENCY)

    aggregator = template.resources["AggregatorMapping"]["Properties"]
    assert aggregator["EventSourceArn"] == get_att("SourceStream")
    assert aggregator["TumblingWindowInSeconds"] == {"Ref": "TumblingWindowInSeconds"}
    assert aggregator["BisectBatchOnFunctionError"] is True
    assert aggregator["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert aggregator["DestinationConfig"] == {"OnFailure": {"Destination": get_att("AggregatorDeadLetterQueue")}}
    writer = template.resources["SummaryWriterMapping"]["Properties"]
    assert writer["EventSourceArn"] == get_att("SummaryStream")
    assert writer["BatchSize"] == {"Ref": "SummaryWriterBatchSize"}
    assert writer["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    for queue in of_type(template, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True


def test_parameters_carry_aws_limits_and_local_relaxations_only_for_buffering(template: Template) -> None:
    params = template.parameters
    assert params["TumblingWindowInSeconds"]["Default"] == 60
    assert (params["TumblingWindowInSeconds"]["MinValue"], params["TumblingWindowInSeconds"]["MaxValue"]) == (1, 900)
    # Dynamic partitioning and Parquet conversion: no zero buffering, buffers of at least 64 MiB on AWS.
    assert params["ArchiveBufferSizeMB"]["MinValue"] == 64 and params["ArchiveBufferSizeMB"]["MaxValue"] == 128
    assert params["ArchiveBufferIntervalSeconds"]["MinValue"] == 60
    assert params["ArchiveBufferIntervalSeconds"]["MaxValue"] == 900
    assert params["AggregatorStartingPosition"]["AllowedValues"] == ["TRIM_HORIZON", "LATEST"]
    assert template.local_min_values() == {"ArchiveBufferIntervalSeconds": 1, "ArchiveBufferSizeMB": 1}
    for name, spec in params.items():
        assert spec.get("Description"), f"parameter {name} has no description"


def test_outputs_name_everything_the_platform_reads(template: Template) -> None:
    assert {
        "Region", "SourceStreamName", "SummaryStreamName", "SensorTableName", "ArchiveBucketName",
        "AthenaResultsBucketName", "GlueDatabaseName", "RawTableName", "AthenaWorkGroupName",
        "AthenaOutputLocation", "ArchiveDeliveryStreamName", "MapIdentityPoolId", "AggregatorDeadLetterQueueUrl",
        "QuarantineQueueUrl",
    } <= set(template.outputs)


# ---------------------------------------------------------------------------------- resolution
def fake_scope(template: Template, overrides: dict[str, Any] | None = None) -> Scope:
    values = resolve_parameters(template, {"LambdaCodeBucket": "code-bucket", "LambdaCodeKey": "lambda/x.zip",
                                           **(overrides or {})})
    scope = Scope(parameters=values, pseudo=pseudo_parameters("123456789012", "us-east-1", "wildrydes"))
    evaluate_conditions(template, scope)
    return scope


def test_every_reference_resolves_in_dependency_order(template: Template) -> None:
    scope = fake_scope(template)
    order = dependency_order(template)
    assert sorted(order) == sorted(template.resources)
    for position, logical_id in enumerate(order):
        resource = template.resources[logical_id]
        assert references(resource.get("Properties", {})) & set(template.resources) <= set(order[:position])
        resolved = resolve(resource.get("Properties", {}), scope)
        assert "Ref" not in json.dumps(resolved) and "Fn::" not in json.dumps(resolved)
        scope.refs[logical_id] = f"ref-of-{logical_id}"
        scope.attrs[logical_id] = {"Arn": f"arn:aws:test:::{logical_id}", "Id": logical_id, "Name": logical_id}
    outputs = {name: resolve(output["Value"], scope) for name, output in template.outputs.items()}
    assert outputs["ArchiveRawLocation"] == "s3://ref-of-ArchiveBucket/raw/"
    assert outputs["Region"] == "us-east-1"


def test_sub_join_select_if_and_novalue() -> None:
    scope = Scope(parameters={"Env": "prod", "Count": 3},
                  pseudo=pseudo_parameters("123456789012", "eu-west-1", "s"),
                  refs={"Bucket": "my-bucket"}, attrs={"Bucket": {"Arn": "arn:aws:s3:::my-bucket"}})
    scope.conditions["IsProd"] = True
    assert resolve({"Fn::Sub": "${Bucket.Arn}/${AWS::Region}/${Env}/${!Literal}"}, scope) == \
        "arn:aws:s3:::my-bucket/eu-west-1/prod/${Literal}"
    assert resolve({"Fn::Sub": ["${X}-${Count}", {"X": {"Ref": "Bucket"}}]}, scope) == "my-bucket-3"
    assert resolve({"Fn::Join": ["-", ["a", {"Ref": "Env"}]]}, scope) == "a-prod"
    assert resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, scope) == "b"
    assert resolve({"Fn::If": ["IsProd", "big", "small"]}, scope) == "big"
    assert resolve({"A": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, 1]}, "B": 2}, scope) == {"B": 2}
    assert resolve([1, {"Ref": "AWS::NoValue"}, 2], scope) == [1, 2]


def test_parameter_validation_messages(template: Template) -> None:
    code = {"LambdaCodeBucket": "b-b-b", "LambdaCodeKey": "k.zip"}
    assert resolve_parameters(template, {**code, "TumblingWindowInSeconds": "5"})["TumblingWindowInSeconds"] == 5
    cases = {
        "TumblingWindowInSeconds=abc": "must be a number",
        "TumblingWindowInSeconds=0": "below its minimum 1",
        "TumblingWindowInSeconds=901": "above its maximum 900",
        "AggregatorStartingPosition=AT_TIMESTAMP": "must be one of TRIM_HORIZON, LATEST",
        "ArchiveBufferSizeMB=5": "below its minimum 64",
        "LogRetentionInDays=2": "must be one of",
        "Nope=1": "unknown parameter Nope",
    }
    for item, message in cases.items():
        with pytest.raises(DeployError, match=message):
            resolve_parameters(template, {**code, **parse_parameter_overrides([item])})
    with pytest.raises(DeployError, match="LambdaCodeBucket has no default"):
        resolve_parameters(template, {})
    with pytest.raises(DeployError, match="KEY=VALUE"):
        parse_parameter_overrides(["TumblingWindowInSeconds"])
    relaxed = resolve_parameters(template, {**code, "ArchiveBufferSizeMB": "1", "ArchiveBufferIntervalSeconds": "1"},
                                 min_values=template.local_min_values())
    assert (relaxed["ArchiveBufferSizeMB"], relaxed["ArchiveBufferIntervalSeconds"]) == (1, 1)


def test_unreadable_template_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="cannot read the template"):
        load_template(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("Resources: [unclosed\n")
    with pytest.raises(DeployError, match="not valid YAML"):
        load_template(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("Description: nothing\n")
    with pytest.raises(DeployError, match="no Resources"):
        load_template(empty)
