"""The local deployer against a real local endpoint (`wildrydes local up`, one for this module, so the
parameter changes made here cannot leak into other tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.deploy import DeployError
from infra.deploy.local import DeployReport, changed_properties, deploy_local
from infra.deploy.package import build_package
from infra.deploy.resources import HANDLERS
from infra.deploy.state import DeployFiles
from infra.deploy.template import load_template
from localaws.settings import REPO_ROOT, LocalSettings
from localaws.supervisor.preflight import free_port
from tests.support.stack import LocalStack, started_stack

TEMPLATE = load_template()
ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with pytest.MonkeyPatch.context() as patch:
        for stack in started_stack(tmp_path_factory.mktemp("deploy"), ["--no-deploy"]):
            for key, value in stack.env.items():
                patch.setenv(key, value)
            yield stack


def settings(stack: LocalStack) -> LocalSettings:
    return LocalSettings(data_dir=stack.data_dir, port=stack.port)


def deploy(stack: LocalStack, parameters: dict[str, Any] | None = None,
           **kwargs: Any) -> tuple[DeployReport, list[str]]:
    lines: list[str] = []
    report = deploy_local(settings(stack).data_dir, parameters or {}, out=lines.append, **kwargs)
    return report, lines


@pytest.fixture(scope="module")
def first(stack: LocalStack) -> tuple[list[str], DeployReport]:
    """The module's first deploy, killed (SIGKILL) half-way, then the deploy that completes it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "deploy"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **stack.env, "PYTHONUNBUFFERED": "1"}, cwd=REPO_ROOT,
    )
    assert process.stdout is not None
    killed_after: list[str] = []
    for line in process.stdout:
        killed_after.append(line.rstrip("\n"))
        if sum(" created" in seen for seen in killed_after) == 8:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "\n".join(killed_after)
    report, _ = deploy(stack)
    return killed_after, report


def results(report: DeployReport) -> dict[str, str]:
    return {r.logical_id: r.action for r in report.results}


@pytest.mark.faults
# ---------------------------------------------------------------------------------- deploy, repair
def test_a_deploy_killed_half_way_is_completed_by_the_next(first: tuple[list[str], DeployReport],
                                                           stack: LocalStack) -> None:
    killed_lines, report = first
    assert report.repaired
    done_before_kill = {line.split()[0] for line in killed_lines if " created" in line}
    actions = results(report)
    assert set(actions) == set(TEMPLATE.resources)
    for logical_id in done_before_kill:
        assert actions[logical_id] == "unchanged", logical_id
    assert sum(action == "created" for action in actions.values()) >= 10
    assert set(actions.values()) <= {"created", "unchanged", "skipped"}
    assert not DeployFiles(stack.data_dir).interrupted()
    # nothing was created twice
    lam = stack.client("lambda")
    for function in ("wildrydes-aggregator", "wildrydes-summary-writer"):
        assert len(lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]) == 1
    pools = stack.client("cognito-identity").list_identity_pools(MaxResults=60)["IdentityPools"]
    assert [p["IdentityPoolName"] for p in pools].count("wildrydes_map") == 1


def test_every_resource_exists_as_the_template_says(first: tuple[list[str], DeployReport], stack: LocalStack) -> None:
    _, report = first
    out = report.outputs
    kinesis = stack.client("kinesis")
    for name in ("wildrydes", "wildrydes-summary", "wildrydes-map"):  # the default stack's names
        summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        assert summary["StreamStatus"] == "ACTIVE"
        assert (summary["OpenShardCount"], summary["RetentionPeriodHours"]) == (1, 24)

    table = stack.client("dynamodb").describe_table(TableName="UnicornSensorData")["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == \
        [("Name", "HASH"), ("StatusTime", "RANGE")]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    s3 = stack.client("s3")
    for bucket in (out["ArchiveBucketName"], out["AthenaResultsBucketName"], out["AccessLogsBucketName"]):
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for s in policy["Statement"])
    assert s3.get_bucket_logging(Bucket=out["ArchiveBucketName"])["LoggingEnabled"]["TargetBucket"] == \
        out["AccessLogsBucketName"]

    glue = stack.client("glue")
    assert glue.get_database(Name="wildrydes")["Database"]["Name"] == "wildrydes"
    raw = glue.get_table(DatabaseName="wildrydes", Name=out["RawTableName"])["Table"]
    assert raw["StorageDescriptor"]["Location"] == f"s3://{out['ArchiveBucketName']}/raw/"
    assert [k["Name"] for k in raw["PartitionKeys"]] == ["dt", "hour"]
    assert [c["Name"] for c in raw["StorageDescriptor"]["Columns"]][:3] == ["name", "statustime", "latitude"]

    group = stack.client("athena").get_work_group(WorkGroup="wildrydes")["WorkGroup"]["Configuration"]
    assert group["EnforceWorkGroupConfiguration"] is True
    assert group["ResultConfiguration"]["OutputLocation"] == out["AthenaOutputLocation"]
    assert group["BytesScannedCutoffPerQuery"] == 10737418240

    sqs = stack.client("sqs")
    for key in ("AggregatorDeadLetterQueueUrl", "SummaryWriterDeadLetterQueueUrl", "QuarantineQueueUrl"):
        attributes = sqs.get_queue_attributes(QueueUrl=out[key], AttributeNames=["All"])["Attributes"]
        assert attributes["SqsManagedSseEnabled"] == "true"

    iam = stack.client("iam")
    unauth = out["MapUnauthenticatedRoleArn"].rsplit("/", 1)[1]
    (policy_name,) = iam.list_role_policies(RoleName=unauth)["PolicyNames"]
    document = iam.get_role_policy(RoleName=unauth, PolicyName=policy_name)["PolicyDocument"]
    readable = {r for s in document["Statement"] for r in s["Resource"]}
    assert readable == {out["MapStreamArn"], out["SummaryStreamArn"]}  # never the pipeline's source stream
    pool = stack.client("cognito-identity").describe_identity_pool(IdentityPoolId=out["MapIdentityPoolId"])
    assert pool["AllowClassicFlow"] is True
    roles = stack.client("cognito-identity").get_identity_pool_roles(IdentityPoolId=out["MapIdentityPoolId"])
    assert roles["Roles"] == {"unauthenticated": out["MapUnauthenticatedRoleArn"]}  # the attachment, applied

    lam = stack.client("lambda")
    code_sha = build_package(TEMPLATE.function_handlers()).code_sha256_b64
    handlers = {}
    for key in ("AggregatorFunctionName", "SummaryWriterFunctionName", "ArchiveTransformFunctionName"):
        config = lam.get_function(FunctionName=out[key])["Configuration"]
        assert config["Runtime"] == "python3.12" and config["CodeSha256"] == code_sha
        handlers[key] = config
    assert handlers["AggregatorFunctionName"]["Environment"]["Variables"]["SUMMARY_STREAM"] == "wildrydes-summary"
    assert handlers["SummaryWriterFunctionName"]["Environment"]["Variables"]["TABLE_NAME"] == "UnicornSensorData"
    assert handlers["ArchiveTransformFunctionName"]["Handler"] == "streaming.lambdas.archive_transform.handler"

    (aggregator,) = lam.list_event_source_mappings(FunctionName="wildrydes-aggregator")["EventSourceMappings"]
    assert aggregator["EventSourceArn"] == f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/wildrydes"
    assert aggregator["TumblingWindowInSeconds"] == 60 and aggregator["BisectBatchOnFunctionError"] is True
    assert aggregator["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert aggregator["DestinationConfig"]["OnFailure"]["Destination"] == out["AggregatorDeadLetterQueueArn"]
    (writer,) = lam.list_event_source_mappings(FunctionName="wildrydes-summary-writer")["EventSourceMappings"]
    assert writer["BatchSize"] == 100 and writer["EventSourceArn"] == out["SummaryStreamArn"]

    hose = stack.client("firehose").describe_delivery_stream(DeliveryStreamName="wildrydes-archive")
    description = hose["DeliveryStreamDescription"]
    assert description["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert description["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"] == out["SourceStreamArn"]
    destination = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["Prefix"] == "raw/dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/"
    assert destination["DynamicPartitioningConfiguration"]["Enabled"] is True
    assert destination["DataFormatConversionConfiguration"]["SchemaConfiguration"]["TableName"] == "unicorn_status"

    pool = stack.client("cognito-identity").describe_identity_pool(IdentityPoolId=out["MapIdentityPoolId"])
    assert pool["IdentityPoolName"] == "wildrydes_map" and pool["AllowUnauthenticatedIdentities"] is True

    written = json.loads((stack.data_dir / "deploy" / "outputs.json").read_text())
    assert written["Outputs"] == out
    assert written["Parameters"]["TumblingWindowInSeconds"] == 60
    assert written["Region"] == REGION and written["AccountId"] == ACCOUNT


def test_deploying_twice_changes_nothing(first: tuple[list[str], DeployReport], stack: LocalStack) -> None:
    report, lines = deploy(stack)
    assert report.changed == [], lines
    assert not report.repaired
    assert all(line.split()[-1] in ("unchanged",) or " skipped (" in line for line in lines[:-1]), lines
    assert lines[-1].startswith("deploy complete: ")


def test_a_changed_parameter_reports_exactly_that_change(first: tuple[list[str], DeployReport],
                                                          stack: LocalStack) -> None:
    lam = stack.client("lambda")
    dry, dry_lines = deploy(stack, {"TumblingWindowInSeconds": "5"}, dry_run=True)
    assert [(r.logical_id, r.action, r.changes) for r in dry.changed] == \
        [("AggregatorMapping", "would be updated", ["TumblingWindowInSeconds"])]
    assert dry_lines[-1] == "dry run: nothing was changed"
    (mapping,) = lam.list_event_source_mappings(FunctionName="wildrydes-aggregator")["EventSourceMappings"]
    assert mapping["TumblingWindowInSeconds"] == 60

    report, lines = deploy(stack, {"TumblingWindowInSeconds": "5"})
    assert [(r.logical_id, r.action, r.changes) for r in report.changed] == \
        [("AggregatorMapping", "updated", ["TumblingWindowInSeconds"])]
    assert any(line.startswith("AggregatorMapping ") and line.endswith("updated (TumblingWindowInSeconds)")
               for line in lines)
    (mapping,) = lam.list_event_source_mappings(FunctionName="wildrydes-aggregator")["EventSourceMappings"]
    assert mapping["TumblingWindowInSeconds"] == 5
    assert report.parameters["TumblingWindowInSeconds"] == 5

    # local-only minimum: the archive (its processor's buffer and its destination's) can flush in seconds for tests
    report, _ = deploy(stack, {"TumblingWindowInSeconds": "5", "ArchiveBufferIntervalSeconds": "1"})
    assert [(r.logical_id, r.changes) for r in report.changed] == \
        [("ArchiveDeliveryStream", ["ExtendedS3DestinationConfiguration.BufferingHints.IntervalInSeconds",
                                    "ExtendedS3DestinationConfiguration.ProcessingConfiguration.Processors"])]

    report, _ = deploy(stack)
    assert sorted(r.logical_id for r in report.changed) == ["AggregatorMapping", "ArchiveDeliveryStream"]
    assert deploy(stack)[0].changed == []


def test_an_exception_half_way_is_repaired_by_the_next_deploy(first: tuple[list[str], DeployReport],
                                                              stack: LocalStack,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # Lose a few resources, then fail while recreating them: after the first of them is back.
    lam = stack.client("lambda")
    for function in ("wildrydes-aggregator", "wildrydes-summary-writer"):
        for mapping in lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]:
            lam.delete_event_source_mapping(UUID=mapping["UUID"])
    stack.client("firehose").delete_delivery_stream(DeliveryStreamName="wildrydes-archive")
    handler = HANDLERS["AWS::Lambda::EventSourceMapping"]
    original = handler.create
    calls: list[str] = []

    def create_once_then_fail(name: str, props: dict[str, Any], ctx: Any) -> None:
        calls.append(name)
        if len(calls) > 1:
            raise DeployError("simulated failure half-way")
        original(name, props, ctx)

    monkeypatch.setattr(handler, "create", create_once_then_fail)
    with pytest.raises(DeployError, match="simulated failure"):
        deploy(stack)
    assert DeployFiles(stack.data_dir).interrupted()
    monkeypatch.setattr(handler, "create", original)

    report, lines = deploy(stack)
    assert report.repaired
    assert lines[0].startswith("the previous deploy did not finish")
    assert {r.logical_id: r.action for r in report.changed} == {"SummaryWriterMapping": "created",
                                                                "ArchiveDeliveryStream": "created"}
    assert deploy(stack)[0].changed == []


def test_a_removed_resource_is_deleted_and_data_is_kept(first: tuple[list[str], DeployReport], stack: LocalStack,
                                                        tmp_path: Path) -> None:
    text = TEMPLATE.text
    start = text.index("  SummaryWriterMapping:\n")
    end = text.index("  # ---------------------------------------------------------------- archive")
    smaller = tmp_path / "template.yaml"
    smaller.write_text(text[:start] + text[end:])
    report, lines = deploy(stack, template_path=smaller)
    assert [(r.logical_id, r.action) for r in report.changed] == [("SummaryWriterMapping", "deleted")]
    assert stack.client("lambda").list_event_source_mappings(
        FunctionName="wildrydes-summary-writer")["EventSourceMappings"] == []
    dry, _ = deploy(stack, dry_run=True)
    assert [(r.logical_id, r.action) for r in dry.changed] == [("SummaryWriterMapping", "would create")]
    report, _ = deploy(stack)
    assert [(r.logical_id, r.action) for r in report.changed] == [("SummaryWriterMapping", "created")]


def test_a_change_that_would_lose_data_is_refused(first: tuple[list[str], DeployReport], stack: LocalStack,
                                                  tmp_path: Path) -> None:
    changed = tmp_path / "template.yaml"
    changed.write_text(TEMPLATE.text.replace("{AttributeName: StatusTime, KeyType: RANGE}",
                                             "{AttributeName: StatusTime, KeyType: HASH}", 1)
                       .replace("{AttributeName: Name, KeyType: HASH}\n", "", 1))
    with pytest.raises(DeployError, match="changing KeySchema would replace UnicornSensorData and lose its data"):
        deploy(stack, template_path=changed)
    assert deploy(stack)[0].changed == []


def test_one_deploy_at_a_time(first: tuple[list[str], DeployReport], stack: LocalStack) -> None:
    with DeployFiles(stack.data_dir).locked(), pytest.raises(DeployError, match="another deploy is running"):
        deploy(stack)


# ---------------------------------------------------------------------------------- errors (no endpoint)
def test_endpoint_not_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    with pytest.raises(DeployError) as error:
        deploy_local(tmp_path, {}, out=lambda _: None)
    assert str(error.value) == f"the local endpoint is not running at {url}: start it with `wildrydes local up`"


def test_endpoint_variable_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(DeployError, match="AWS_ENDPOINT_URL is not set"):
        deploy_local(tmp_path, {}, out=lambda _: None)


def test_cli_reports_errors_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "WILDRYDES_DATA_DIR": str(tmp_path)}
    for args, message in ((["deploy"], "the local endpoint is not running at"),
                          (["deploy", "-p", "TumblingWindowInSeconds=0"], "is below its minimum 1"),
                          (["deploy", "-p", "Unknown=1"], "unknown parameter Unknown"),
                          (["deploy", "--artifact-bucket", "b"], "--artifact-bucket only applies with --aws")):
        result = subprocess.run([sys.executable, "-m", "infra.cli", *args], capture_output=True, text=True,
                                env=env, cwd=REPO_ROOT, timeout=60)
        assert result.returncode != 0
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, result.stderr


def test_changed_properties() -> None:
    wanted = {"A": 1, "B": {"C": "x", "D": [1, 2]}, "E": True}
    assert changed_properties(wanted, {"A": "1", "B": {"C": "x", "D": [1, 2], "Extra": 0}, "E": "true"}, None) == []
    assert changed_properties(wanted, {"A": 2, "B": {"C": "y", "D": [1]}, "E": True}, None) == ["A", "B.C", "B.D"]
    # E is not reported by the backend: compared with what the last deploy applied
    assert changed_properties(wanted, {"A": 1, "B": wanted["B"]}, {"E": True}) == []
    assert changed_properties(wanted, {"A": 1, "B": wanted["B"]}, {"E": False}) == ["E"]
    assert changed_properties(wanted, {"A": 1, "B": wanted["B"]}, None) == ["E"]
    assert changed_properties({"A": 1}, {"A": 1}, {"A": 1, "Gone": 2}) == ["Gone"]
