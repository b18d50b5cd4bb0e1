"""infra/dagster.yaml (Dagster on ECS Fargate): cfn-lint, checkov, and the properties it must keep: private
and encrypted storage, least-privilege roles (EcsRunLauncher's calls exactly), no public endpoint, and the
main stack's names taken from its outputs. No AWS needed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import dagster_aws.ecs.launcher
import pytest

from infra.deploy.dagster import DAGSTER_TEMPLATE_PATH, FROM_MAIN_STACK, SET_BY_DEPLOY, START_DATE
from infra.deploy.dagster_instance import (
    INSTANCE_OUTPUTS,
    PG_PASSWORD_ENV,
    PG_USERNAME_ENV,
    RUN_TASK_DEFINITION_ENV,
)
from infra.deploy.template import Template, load_template
from orchestration.defs.platform.stack import OUTPUTS, env_name
from tests.support.template_lint import cfn_lint, checkov

# Actions AWS authorizes on no resource: the only ones allowed on Resource "*".
NO_RESOURCE_LEVEL = {
    "ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition", "ecs:ListTasks", "lambda:ListEventSourceMappings",
    "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
}


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template(DAGSTER_TEMPLATE_PATH)


def of_type(template: Template, type_name: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template.resources.items() if r["Type"] == type_name}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def grants(template: Template, role: str) -> dict[str, list[dict[str, Any]]]:
    """Action -> the Allow statements granting it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for policy in template.resources[role]["Properties"]["Policies"]:
        for statement in as_list(policy["PolicyDocument"]["Statement"]):
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                found.setdefault(action, []).append(statement)
    return found


def container(template: Template, task_definition: str) -> dict[str, Any]:
    (definition,) = template.resources[task_definition]["Properties"]["ContainerDefinitions"]
    return definition


# ---------------------------------------------------------------------------------- linters
def test_cfn_lint_reports_nothing() -> None:
    result = cfn_lint(DAGSTER_TEMPLATE_PATH)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_checkov_has_no_failed_checks_and_every_skip_has_a_reason() -> None:
    result, report = checkov(DAGSTER_TEMPLATE_PATH)
    results = report["results"]
    assert [(c["check_id"], c["resource"]) for c in results["failed_checks"]] == []
    assert result.returncode == 0, result.stderr[-2000:]
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 50
    skipped = results["skipped_checks"]
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} is skipped without a reason"
    # every skip comment in the file is one checkov applied (none is left over from a check that no longer fails)
    assert len(re.findall(r"checkov:skip=", DAGSTER_TEMPLATE_PATH.read_text())) == len(skipped)


# ---------------------------------------------------------------------------------- the main stack's names
def test_the_main_stacks_names_are_parameters_the_deploy_fills_from_its_outputs(template: Template) -> None:
    main = load_template()
    assert set(FROM_MAIN_STACK) <= set(main.outputs)
    assert set(FROM_MAIN_STACK) <= set(template.parameters)
    required = {name for name, spec in template.parameters.items() if "Default" not in spec}
    assert required == {*FROM_MAIN_STACK, "MainStackName"}  # nothing left for a person to type
    assert {*SET_BY_DEPLOY, START_DATE} <= set(template.parameters)
    for name, spec in template.parameters.items():
        assert spec.get("Description"), f"parameter {name} has no description"


def test_every_container_gets_every_stack_name_the_code_location_reads(template: Template) -> None:
    """No container needs cloudformation:DescribeStacks: each WILDRYDES_<OUTPUT> is set from a parameter."""
    expected = {env_name(output) for output in OUTPUTS}
    for task_definition in ("WebserverTaskDefinition", "DaemonTaskDefinition", "RunTaskDefinition"):
        environment = [e for e in container(template, task_definition)["Environment"] if "Name" in e]
        names = {e["Name"]: e["Value"] for e in environment}
        assert expected <= set(names), task_definition
        for output in OUTPUTS:
            value = names[env_name(output)]
            assert value == (ref("AWS::Region") if output == "Region" else ref(output)), (task_definition, output)
        assert names["DAGSTER_INSTANCE_CONFIG"] == ref("InstanceConfig")
        assert names["WILDRYDES_STACK_NAME"] == ref("MainStackName")
        start = [e for e in container(template, task_definition)["Environment"] if "Fn::If" in e]
        assert start == [{"Fn::If": ["HasStartDate", {"Name": "WILDRYDES_START_DATE", "Value": ref(START_DATE)},
                                     ref("AWS::NoValue")]}]


# ---------------------------------------------------------------------------------- storage
def test_the_bucket_is_encrypted_private_tls_only_versioned_and_logged(template: Template) -> None:
    (bucket_id,) = of_type(template, "AWS::S3::Bucket")
    bucket = template.resources[bucket_id]
    props = bucket["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["DestinationBucketName"] == ref("AccessLogsBucketName")
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    expiring = {rule.get("Prefix"): rule.get("ExpirationInDays") for rule in props["LifecycleConfiguration"]["Rules"]}
    assert expiring["compute-logs/"] == ref("ComputeLogRetentionInDays")
    assert template.outputs["ComputeLogPrefix"]["Value"] == "compute-logs"

    (policy,) = of_type(template, "AWS::S3::BucketPolicy").values()
    assert policy["Properties"]["Bucket"] == ref(bucket_id)
    statements = as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [get_att(bucket_id), {"Fn::Sub": f"${{{bucket_id}.Arn}}/*"}]
    for allow in (s for s in statements if s["Effect"] == "Allow"):  # only the flow-log service, only this account
        assert allow["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
        assert allow["Condition"] == {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}
        assert "s3:GetObject" not in as_list(allow["Action"])


def test_the_database_is_private_encrypted_protected_and_only_the_tasks_reach_it(template: Template) -> None:
    database = template.resources["Database"]
    props = database["Properties"]
    assert props["Engine"] == "postgres"
    assert props["StorageEncrypted"] is True and props["PubliclyAccessible"] is False
    assert props["DeletionProtection"] is True
    assert (database["DeletionPolicy"], database["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")
    assert props["BackupRetentionPeriod"] == ref("DatabaseBackupRetentionDays")
    assert template.parameters["DatabaseBackupRetentionDays"]["MinValue"] >= 1
    # the password never appears in the template: generated into Secrets Manager and resolved by CloudFormation
    assert props["MasterUserPassword"] == {
        "Fn::Sub": "{{resolve:secretsmanager:${DatabaseSecret}:SecretString:password}}"}
    secret = template.resources["DatabaseSecret"]["Properties"]["GenerateSecretString"]
    assert secret["GenerateStringKey"] == "password" and secret["PasswordLength"] >= 32
    attachment = template.resources["DatabaseSecretAttachment"]["Properties"]
    assert attachment == {"SecretId": ref("DatabaseSecret"), "TargetId": ref("Database"),
                          "TargetType": "AWS::RDS::DBInstance"}
    subnets = template.resources[props["DBSubnetGroupName"]["Ref"]]["Properties"]["SubnetIds"]
    assert subnets == [ref("PrivateSubnetA"), ref("PrivateSubnetB")]
    assert props["VPCSecurityGroups"] == [ref("DatabaseSecurityGroup")]

    group = template.resources["DatabaseSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [rule["CidrIp"] for rule in group["SecurityGroupEgress"]] == ["127.0.0.1/32"]  # no outbound
    ingress = [r["Properties"] for r in of_type(template, "AWS::EC2::SecurityGroupIngress").values()]
    assert ingress == [{"Description": "PostgreSQL from the Dagster tasks only",
                        "GroupId": ref("DatabaseSecurityGroup"), "IpProtocol": "tcp", "FromPort": 5432,
                        "ToPort": 5432, "SourceSecurityGroupId": ref("TaskSecurityGroup")}]


def test_the_repository_scans_keeps_tags_immutable_and_expires_images(template: Template) -> None:
    props = template.resources["Repository"]["Properties"]
    assert props["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert props["ImageTagMutability"] == "IMMUTABLE"
    rules = json.loads(props["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert {rule["selection"]["tagStatus"] for rule in rules} == {"untagged", "any"}
    assert all(rule["action"] == {"type": "expire"} for rule in rules)
    assert max(rules, key=lambda rule: rule["rulePriority"])["selection"]["tagStatus"] == "any"  # "any" goes last


def test_log_groups_have_a_retention_and_every_container_logs_to_one(template: Template) -> None:
    groups = of_type(template, "AWS::Logs::LogGroup")
    assert all(group["Properties"]["RetentionInDays"] == ref("LogRetentionInDays") for group in groups.values())
    for task_definition in of_type(template, "AWS::ECS::TaskDefinition"):
        options = container(template, task_definition)["LogConfiguration"]["Options"]
        assert options["awslogs-group"]["Ref"] in groups


# ---------------------------------------------------------------------------------- IAM
def allow_statements(template: Template) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, role in of_type(template, "AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], logical_id
        for policy in role["Properties"]["Policies"]:
            found += [(logical_id, s) for s in as_list(policy["PolicyDocument"]["Statement"])]
    for logical_id, policy in of_type(template, "AWS::IAM::ManagedPolicy").items():
        found += [(logical_id, s) for s in as_list(policy["Properties"]["PolicyDocument"]["Statement"])]
    return [(where, s) for where, s in found if s["Effect"] == "Allow"]


def test_no_wildcard_action_and_resource_star_only_where_aws_offers_no_resource_level_permission(
        template: Template) -> None:
    star = 0
    for where, statement in allow_statements(template):
        actions = as_list(statement["Action"])
        assert not any("*" in action for action in actions), (where, actions)
        if "*" in as_list(statement["Resource"]):
            star += 1
            assert as_list(statement["Resource"]) == ["*"]
            assert set(actions) <= NO_RESOURCE_LEVEL, (where, actions)
    # and the template says so where it does it
    lines = DAGSTER_TEMPLATE_PATH.read_text().splitlines()
    stars = [n for n, line in enumerate(lines) if re.search(r'Resource: "\*"', line)]
    assert len(stars) == star and star > 0
    for n in stars:  # on the line, or on the comment line just above it
        assert "no resource-level permission" in lines[n] + lines[n - 1], lines[n]


def test_every_role_is_assumed_by_ecs_tasks_of_this_account_only(template: Template) -> None:
    for logical_id, role in of_type(template, "AWS::IAM::Role").items():
        (trust,) = as_list(role["Properties"]["AssumeRolePolicyDocument"]["Statement"])
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}, logical_id
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}, logical_id


def ecs_calls_of_the_launcher() -> set[str]:
    """The ECS and CloudWatch Logs calls in the pinned dagster-aws's EcsRunLauncher and its helpers."""
    directory = Path(dagster_aws.ecs.launcher.__file__).parent
    calls = set()
    for name in ("launcher.py", "utils.py"):
        text = (directory / name).read_text()
        calls |= {f"ecs:{m}" for m in re.findall(r"\becs\.(\w+)\(", text)}
        calls |= {f"logs:{m}" for m in re.findall(r"\blogs_client\.(\w+)\(", text)}
    return calls


def camel(call: str) -> str:
    service, method = call.split(":")
    return f"{service}:{''.join(part.capitalize() for part in method.split('_'))}"


def test_the_daemon_has_exactly_what_ecs_run_launcher_calls(template: Template) -> None:
    daemon = grants(template, "DaemonTaskRole")
    launcher = {action for action in daemon if action.split(":")[0] in ("ecs", "iam", "logs")}
    # register_task_definition is only called when the launcher makes its own task definitions; ours is the stack's
    called = {camel(call) for call in ecs_calls_of_the_launcher()} - {"ecs:RegisterTaskDefinition"}
    assert called == {"ecs:DescribeTaskDefinition", "ecs:DescribeTasks", "ecs:RunTask", "ecs:StopTask",
                      "logs:GetLogEvents"}
    assert launcher == called | {"ecs:TagResource", "iam:PassRole"}  # RunTask with tags; task and execution roles

    (run_task,) = daemon["ecs:RunTask"]
    assert run_task["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}"
                                               ":task-definition/${AWS::StackName}-run:*"}
    assert template.resources["RunTaskDefinition"]["Properties"]["Family"] == {"Fn::Sub": "${AWS::StackName}-run"}
    assert run_task["Condition"] == {"ArnEquals": {"ecs:cluster": get_att("Cluster")}}
    (tag,) = daemon["ecs:TagResource"]
    assert tag["Condition"] == {"StringEquals": {"ecs:CreateAction": "RunTask"}}
    (pass_role,) = daemon["iam:PassRole"]
    assert pass_role["Resource"] == [get_att("RunTaskRole"), get_att("TaskExecutionRole")]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    tasks = {"Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Cluster}/*"}
    assert [s["Resource"] for s in daemon["ecs:DescribeTasks"] + daemon["ecs:StopTask"]] == [tasks, tasks]
    assert not any(action.startswith(("secretsmanager:", "ec2:", "athena:", "glue:", "dynamodb:")) for action in daemon)


def test_the_webserver_can_terminate_runs_but_not_launch_them_and_only_it_takes_port_forwarding(
        template: Template) -> None:
    webserver = grants(template, "WebserverTaskRole")
    assert {a for a in webserver if a.startswith(("ecs:", "iam:"))} == {
        "ecs:DescribeTaskDefinition", "ecs:DescribeTasks", "ecs:StopTask"}
    assert {a for a in webserver if a.startswith("ssmmessages:")} == {
        a for a in NO_RESOURCE_LEVEL if a.startswith("ssmmessages:")}
    services = of_type(template, "AWS::ECS::Service")
    assert {lid: s["Properties"]["EnableExecuteCommand"] for lid, s in services.items()} == {
        "WebserverService": True, "DaemonService": False}
    for role in ("DaemonTaskRole", "RunTaskRole"):
        assert not any(a.startswith("ssmmessages:") for a in grants(template, role)), role


def test_runs_may_touch_only_the_main_stacks_catalog_workgroup_table_and_buckets(template: Template) -> None:
    run = grants(template, "RunTaskRole")
    assert not any(action.startswith(("ecs:", "iam:", "secretsmanager:")) for action in run)
    for action in ("athena:StartQueryExecution", "athena:GetQueryResults"):
        (statement,) = run[action]
        assert "${AthenaWorkGroupName}" in statement["Resource"]["Fn::Sub"]
    for action in ("glue:CreatePartition", "glue:UpdatePartition", "glue:GetTable", "glue:CreateTable"):
        (statement,) = run[action]
        assert all("${GlueDatabaseName}" in r["Fn::Sub"] or r["Fn::Sub"].endswith(":catalog")
                   for r in statement["Resource"])
    (query,) = run["dynamodb:Query"]
    assert query["Resource"]["Fn::Sub"].endswith(":table/${SensorTableName}")
    assert "dynamodb:PutItem" not in run and "dynamodb:DeleteItem" not in run
    writes = [r["Fn::Sub"] for s in run["s3:PutObject"] for r in as_list(s["Resource"])]
    assert writes == ["${DagsterBucket.Arn}/compute-logs/*",
                      "arn:${AWS::Partition}:s3:::${ArchiveBucketName}/curated/*",
                      "arn:${AWS::Partition}:s3:::${AthenaResultsBucketName}/athena-results/*"]
    (delete,) = run["s3:DeleteObject"]
    assert delete["Resource"]["Fn::Sub"].endswith("${ArchiveBucketName}/curated/*")  # never raw/


def test_the_execution_role_reads_only_the_database_secret_and_this_repository(template: Template) -> None:
    execution = grants(template, "TaskExecutionRole")
    assert set(execution) == {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                              "ecr:GetAuthorizationToken", "logs:CreateLogStream", "logs:PutLogEvents",
                              "secretsmanager:GetSecretValue"}
    assert execution["secretsmanager:GetSecretValue"][0]["Resource"] == ref("DatabaseSecret")
    assert execution["ecr:BatchGetImage"][0]["Resource"] == get_att("Repository")


# ---------------------------------------------------------------------------------- network and services
def test_nothing_is_reachable_from_outside(template: Template) -> None:
    for subnet in of_type(template, "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    group = template.resources["TaskSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert all(r["Properties"]["GroupId"] != ref("TaskSecurityGroup")
               for r in of_type(template, "AWS::EC2::SecurityGroupIngress").values())
    assert [(rule["FromPort"], rule["ToPort"]) for rule in group["SecurityGroupEgress"]] == [(443, 443)]
    routes = {r["Properties"]["RouteTableId"]["Ref"]: r["Properties"]
              for r in of_type(template, "AWS::EC2::Route").values()}
    assert routes["PrivateRouteTable"]["NatGatewayId"] == ref("NatGateway")
    assert of_type(template, "AWS::ElasticLoadBalancingV2::LoadBalancer") == {}
    gateways = {e["Properties"]["ServiceName"]["Fn::Sub"] for e in of_type(template, "AWS::EC2::VPCEndpoint").values()}
    assert gateways == {"com.amazonaws.${AWS::Region}.s3", "com.amazonaws.${AWS::Region}.dynamodb"}
    for service in of_type(template, "AWS::ECS::Service").values():
        network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network == {"AssignPublicIp": "DISABLED", "Subnets": [ref("PrivateSubnetA"), ref("PrivateSubnetB")],
                           "SecurityGroups": [ref("TaskSecurityGroup")]}
        assert service["Properties"]["LaunchType"] == "FARGATE"
        assert service["Properties"]["DesiredCount"] == {"Fn::If": ["ServicesRun", 1, 0]}
        assert service["Properties"]["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
            "Enable": True, "Rollback": True}
    daemon = template.resources["DaemonService"]["Properties"]["DeploymentConfiguration"]
    assert (daemon["MaximumPercent"], daemon["MinimumHealthyPercent"]) == (100, 0)  # never two daemons
    assert template.conditions["ServicesRun"] == {"Fn::And": [
        {"Condition": "HasImage"}, {"Condition": "HasInstanceConfig"},
        {"Fn::Equals": [ref("ServicesEnabled"), "true"]}]}


def test_task_definitions_run_on_fargate_with_their_own_roles_and_the_database_secret(template: Template) -> None:
    roles = {"WebserverTaskDefinition": "WebserverTaskRole", "DaemonTaskDefinition": "DaemonTaskRole",
             "RunTaskDefinition": "RunTaskRole"}
    assert set(of_type(template, "AWS::ECS::TaskDefinition")) == set(roles)
    for task_definition, role in roles.items():
        props = template.resources[task_definition]["Properties"]
        assert props["RequiresCompatibilities"] == ["FARGATE"] and props["NetworkMode"] == "awsvpc"
        assert props["TaskRoleArn"] == get_att(role)
        assert props["ExecutionRoleArn"] == get_att("TaskExecutionRole")
        definition = container(template, task_definition)
        assert "EntryPoint" not in definition  # the image's entrypoint writes the instance configuration
        assert definition["Secrets"] == [
            {"Name": PG_USERNAME_ENV, "ValueFrom": {"Fn::Sub": "${DatabaseSecret}:username::"}},
            {"Name": PG_PASSWORD_ENV, "ValueFrom": {"Fn::Sub": "${DatabaseSecret}:password::"}}]
        names = {e.get("Name") for e in definition["Environment"]}
        assert (RUN_TASK_DEFINITION_ENV in names) == (task_definition != "RunTaskDefinition")
    webserver = container(template, "WebserverTaskDefinition")
    assert {e["Name"]: e["Value"] for e in webserver["Environment"] if "Name" in e}[RUN_TASK_DEFINITION_ENV] == \
        ref("RunTaskDefinition")
    assert container(template, "RunTaskDefinition")["Name"] == template.outputs["RunContainerName"]["Value"]
    assert webserver["Name"] == template.outputs["WebserverContainerName"]["Value"]
    assert webserver["PortMappings"] == [{"ContainerPort": int(template.outputs["WebserverPort"]["Value"]),
                                          "Protocol": "tcp"}]


def test_the_outputs_hold_what_the_instance_configuration_is_rendered_from(template: Template) -> None:
    assert set(INSTANCE_OUTPUTS) <= set(template.outputs)
    assert template.outputs["PrivateSubnetIds"]["Value"] == {
        "Fn::Join": [",", [ref("PrivateSubnetA"), ref("PrivateSubnetB")]]}
    assert template.outputs["DatabaseEndpointAddress"]["Value"] == get_att("Database", "Endpoint.Address")
    assert template.outputs["DatabaseName"]["Value"] == template.resources["Database"]["Properties"]["DBName"]
