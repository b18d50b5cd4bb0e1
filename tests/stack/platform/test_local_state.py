"""All local state survives `down` + `up`, and a kill -9 of the whole stack loses nothing acknowledged."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from localaws.supervisor.preflight import free_port
from tests.support.stack import LocalStack

ACCOUNT = "123456789012"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _write_state(stack: LocalStack, tag: str) -> dict:
    """Create one of every kind of state; return what to look for afterwards."""
    kinesis, dynamodb, s3, glue = (stack.client(s) for s in ("kinesis", "dynamodb", "s3", "glue"))
    iam, lam, firehose, cognito = (stack.client(s) for s in ("iam", "lambda", "firehose", "cognito-identity"))
    athena, sqs = stack.client("athena"), stack.client("sqs")

    kinesis.create_stream(StreamName=f"s-{tag}", ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=f"s-{tag}", WaiterConfig={"Delay": 0.2})
    sequence = kinesis.put_record(StreamName=f"s-{tag}", Data=f"record-{tag}".encode(), PartitionKey="p")
    dynamodb.create_table(
        TableName=f"t-{tag}", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "Name", "KeyType": "HASH"}, {"AttributeName": "StatusTime", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "Name", "AttributeType": "S"},
                              {"AttributeName": "StatusTime", "AttributeType": "S"}],
    )
    # dynalite, as DynamoDB, answers ResourceNotFound to writes until the new table is ACTIVE
    dynamodb.get_waiter("table_exists").wait(TableName=f"t-{tag}", WaiterConfig={"Delay": 0.2})
    dynamodb.put_item(TableName=f"t-{tag}", Item={"Name": {"S": "Shadowfax"}, "StatusTime": {"S": tag},
                                                  "Distance": {"N": "30.5"}})
    s3.create_bucket(Bucket=f"bucket-{tag}")
    big = bytes(range(256)) * 8192  # 2 MiB: above moto's in-memory buffer, spilled to a file
    s3.put_object(Bucket=f"bucket-{tag}", Key="raw/dt=2026-11-25/hour=18/part.parquet", Body=big)
    s3.put_object(Bucket=f"bucket-{tag}", Key="small.json", Body=b'{"a": 1}')
    glue.create_database(DatabaseInput={"Name": f"db_{tag}"})
    glue.create_table(DatabaseName=f"db_{tag}", TableInput={
        "Name": "raw", "PartitionKeys": [{"Name": "dt", "Type": "string"}, {"Name": "hour", "Type": "string"}],
        "StorageDescriptor": {"Columns": [{"Name": "name", "Type": "string"}],
                              "Location": f"s3://bucket-{tag}/raw/"},
    })
    glue.batch_create_partition(DatabaseName=f"db_{tag}", TableName="raw", PartitionInputList=[
        {"Values": ["2026-11-25", "18"],
         "StorageDescriptor": {"Location": f"s3://bucket-{tag}/raw/dt=2026-11-25/hour=18/"}},
    ])
    role = iam.create_role(RoleName=f"role-{tag}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    lam.create_function(FunctionName=f"fn-{tag}", Runtime="python3.12", Role=role, Handler="handler.handler",
                        Code={"ZipFile": _zip()}, Environment={"Variables": {"TAG": tag}})
    mapping = lam.create_event_source_mapping(
        FunctionName=f"fn-{tag}", StartingPosition="TRIM_HORIZON", TumblingWindowInSeconds=60,
        EventSourceArn=f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s-{tag}",
    )["UUID"]
    firehose.create_delivery_stream(
        DeliveryStreamName=f"fh-{tag}", DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s-{tag}",
                                          "RoleARN": role},
        ExtendedS3DestinationConfiguration={"BucketARN": f"arn:aws:s3:::bucket-{tag}", "RoleARN": role,
                                            "Prefix": "raw/"},
    )
    pool = cognito.create_identity_pool(IdentityPoolName=f"pool_{tag}", AllowUnauthenticatedIdentities=True)
    athena.create_work_group(Name=f"wg-{tag}", Configuration={
        "ResultConfiguration": {"OutputLocation": f"s3://bucket-{tag}/athena/"}})
    queue = sqs.create_queue(QueueName=f"q-{tag}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody=f"quarantined-{tag}")
    return {"tag": tag, "sequence": sequence["SequenceNumber"], "shard": sequence["ShardId"], "big": big,
            "mapping": mapping, "pool": pool["IdentityPoolId"]}


def _check_state(stack: LocalStack, expected: dict) -> None:
    tag = expected["tag"]
    kinesis = stack.client("kinesis")
    iterator = kinesis.get_shard_iterator(StreamName=f"s-{tag}", ShardId=expected["shard"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [(r["SequenceNumber"], r["Data"]) for r in records] == [(expected["sequence"], f"record-{tag}".encode())]
    assert len(kinesis.list_shards(StreamName=f"s-{tag}")["Shards"]) == 2

    item = stack.client("dynamodb").get_item(TableName=f"t-{tag}",
                                             Key={"Name": {"S": "Shadowfax"}, "StatusTime": {"S": tag}})["Item"]
    assert item["Distance"] == {"N": "30.5"}

    s3 = stack.client("s3")
    body = s3.get_object(Bucket=f"bucket-{tag}", Key="raw/dt=2026-11-25/hour=18/part.parquet")["Body"].read()
    assert body == expected["big"]
    assert s3.get_object(Bucket=f"bucket-{tag}", Key="small.json")["Body"].read() == b'{"a": 1}'

    glue = stack.client("glue")
    table = glue.get_table(DatabaseName=f"db_{tag}", Name="raw")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["dt", "hour"]
    partitions = glue.get_partitions(DatabaseName=f"db_{tag}", TableName="raw")["Partitions"]
    assert [p["Values"] for p in partitions] == [["2026-11-25", "18"]]

    function = stack.client("lambda").get_function(FunctionName=f"fn-{tag}")["Configuration"]
    assert function["Environment"]["Variables"] == {"TAG": tag}
    mapping = stack.client("lambda").get_event_source_mapping(UUID=expected["mapping"])
    assert mapping["TumblingWindowInSeconds"] == 60
    streams = stack.client("firehose").list_delivery_streams()["DeliveryStreamNames"]
    assert f"fh-{tag}" in streams
    pool = stack.client("cognito-identity").describe_identity_pool(IdentityPoolId=expected["pool"])
    assert pool["IdentityPoolName"] == f"pool_{tag}"
    assert stack.client("athena").get_work_group(WorkGroup=f"wg-{tag}")["WorkGroup"]["Name"] == f"wg-{tag}"
    sqs = stack.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"q-{tag}")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"]
    assert [m["Body"] for m in messages] == [f"quarantined-{tag}"]


@pytest.fixture
def own_stack(tmp_path: Path):
    stack = LocalStack(data_dir=tmp_path / "data", port=free_port(), log_path=tmp_path / "stack.log",
                       extra_args=["--no-deploy"])
    stack.start()
    yield stack
    if stack.process and stack.process.poll() is None:
        stack.stop()


def test_down_then_up_keeps_every_kind_of_state(own_stack: LocalStack) -> None:
    expected = _write_state(own_stack, "clean")
    assert own_stack.stop() == 0
    own_stack.start()
    _check_state(own_stack, expected)


@pytest.mark.faults
def test_kill_9_of_the_whole_stack_keeps_everything_acknowledged(own_stack: LocalStack) -> None:
    before = _write_state(own_stack, "before")
    own_stack.stop()  # a clean stop: "before" is now in a snapshot
    own_stack.start()
    after = _write_state(own_stack, "after")  # only in the journal and the LevelDB logs
    own_stack.kill_all()
    own_stack.start()
    _check_state(own_stack, before)
    _check_state(own_stack, after)
