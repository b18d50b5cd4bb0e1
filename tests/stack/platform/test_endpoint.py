"""The one local endpoint: every service through plain boto3 with AWS_ENDPOINT_URL, errors, CORS."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import boto3
import psutil
import pytest
from botocore.exceptions import ClientError

from tests.support.stack import LocalStack


@pytest.fixture
def aws_env(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> LocalStack:
    for key, value in local_stack.env.items():
        monkeypatch.setenv(key, value)
    return local_stack


SERVICE_CALLS = [
    ("kinesis", "list_streams", {}),
    ("dynamodb", "list_tables", {}),
    ("s3", "list_buckets", {}),
    ("glue", "get_databases", {}),
    ("iam", "list_roles", {}),
    ("sts", "get_caller_identity", {}),
    ("cognito-identity", "list_identity_pools", {"MaxResults": 10}),
    ("lambda", "list_functions", {}),
    ("firehose", "list_delivery_streams", {}),
    ("sqs", "list_queues", {}),
    ("athena", "list_work_groups", {}),
]


@pytest.mark.parametrize(("service", "operation", "params"), SERVICE_CALLS, ids=[s[0] for s in SERVICE_CALLS])
def test_service_reachable_with_only_the_endpoint_variable(
    aws_env: LocalStack, service: str, operation: str, params: dict
) -> None:
    client = boto3.client(service)  # no endpoint argument: AWS_ENDPOINT_URL decides
    assert client.meta.endpoint_url == aws_env.endpoint_url
    response = getattr(client, operation)(**params)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_requests_reach_the_right_backend(aws_env: LocalStack) -> None:
    kinesis, dynamodb = boto3.client("kinesis"), boto3.client("dynamodb")
    kinesis.create_stream(StreamName="routing-probe", ShardCount=1)
    dynamodb.create_table(
        TableName="routing-probe", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
    )
    # kinesalite's sequence numbers are 56 digits, like AWS's; moto's are shorter.
    kinesis.get_waiter("stream_exists").wait(StreamName="routing-probe", WaiterConfig={"Delay": 0.2})
    put = kinesis.put_record(StreamName="routing-probe", Data=b"x", PartitionKey="p")
    assert len(put["SequenceNumber"]) == 56
    # dynalite reports the table ARN in the requested region and the LevelDB backend keeps it.
    assert "routing-probe" in dynamodb.list_tables()["TableNames"]


@pytest.fixture
def lone_gateway(tmp_path) -> str:
    """A gateway whose backends are all down and which has no Athena engine configured."""
    import subprocess
    import sys

    from localaws.supervisor.preflight import free_port
    from localaws.supervisor.supervisor import wait_until

    dead, port = f"http://127.0.0.1:{free_port()}", free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "localaws.gateway.server", "--port", str(port), "--kinesis", dead, "--dynamodb", dead,
         "--moto", dead], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: process.poll() is not None or _status(f"{url}/_wildrydes/health") == 503, timeout=20)
    yield url
    process.terminate()
    process.wait(60)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def _client_for(url: str, service: str):  # noqa: ANN202
    from botocore.config import Config

    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="a",
                        aws_secret_access_key="b", config=Config(retries={"max_attempts": 1}))


def test_athena_without_an_engine_gets_an_aws_style_error(lone_gateway: str) -> None:
    with pytest.raises(ClientError) as error:
        _client_for(lone_gateway, "athena").start_query_execution(QueryString="SELECT 1")
    assert error.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "not running" in error.value.response["Error"]["Message"]
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_backend_that_is_down_gets_an_aws_style_503(lone_gateway: str) -> None:
    with pytest.raises(ClientError) as error:
        _client_for(lone_gateway, "kinesis").list_streams()
    assert error.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert _status(f"{lone_gateway}/_wildrydes/health") == 503


def test_unknown_service_gets_an_aws_style_error(aws_env: LocalStack) -> None:
    with pytest.raises(ClientError) as error:
        boto3.client("ec2").describe_instances()
    assert error.value.response["Error"]["Code"] == "UnknownServiceException"
    assert "ec2" in error.value.response["Error"]["Message"]


def test_unsupported_operation_is_an_aws_error_not_a_stack_trace(aws_env: LocalStack) -> None:
    glue = boto3.client("glue")
    with pytest.raises(ClientError) as error:
        glue.batch_stop_job_run(JobName="j", JobRunIds=["r"])  # not implemented by moto
    response = error.value.response
    assert response["Error"]["Code"] == "NotImplemented"
    assert "does not support" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501


def _preflight(endpoint: str, origin: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(endpoint + "/", method="OPTIONS", headers={
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-amz-target,x-amz-date",
    })
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_cors_preflight_allows_loopback_pages_only(local_stack: LocalStack) -> None:
    status, headers = _preflight(local_stack.endpoint_url, "http://127.0.0.1:8080")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
    assert "x-amz-target" in headers["Access-Control-Allow-Headers"]
    status, headers = _preflight(local_stack.endpoint_url, "https://evil.example.com")
    assert status == 403
    assert "Access-Control-Allow-Origin" not in headers


def _signed_list_buckets(endpoint: str, origin: str, secret: str) -> urllib.request.Request:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=endpoint + "/", headers={"Origin": origin})
    S3SigV4Auth(Credentials("test", secret), "s3", "us-east-1").add_auth(request)
    return urllib.request.Request(endpoint + "/", headers=dict(request.headers.items()))


def test_cors_headers_on_proxied_responses(local_stack: LocalStack) -> None:
    request = _signed_list_buckets(local_stack.endpoint_url, "http://localhost:3001", "test")
    with urllib.request.urlopen(request, timeout=5) as response:  # S3 ListBuckets, proxied to moto
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3001"
        assert "x-amzn-RequestId" in response.headers["Access-Control-Expose-Headers"]
    # a refused request carries them too, so a page can read why it was refused
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(_signed_list_buckets(local_stack.endpoint_url, "http://localhost:3001", "wrong"),
                               timeout=5)
    assert refused.value.code == 403
    assert refused.value.headers["Access-Control-Allow-Origin"] == "http://localhost:3001"


def test_everything_listens_on_loopback_only(local_stack: LocalStack) -> None:
    assert local_stack.process is not None
    root = psutil.Process(local_stack.process.pid)
    processes = [root, *root.children(recursive=True)]
    listening = [
        conn.laddr for proc in processes for conn in proc.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
    ]
    assert len(listening) >= 4  # gateway, kinesalite, dynalite, moto host
    assert all(address.ip == "127.0.0.1" for address in listening), listening


def test_arns_carry_the_local_account_in_every_backend(local_stack: LocalStack) -> None:
    kinesis = local_stack.client("kinesis")
    kinesis.create_stream(StreamName="arn-probe", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="arn-probe", WaiterConfig={"Delay": 0.2})
    stream_arn = kinesis.describe_stream_summary(StreamName="arn-probe")["StreamDescriptionSummary"]["StreamARN"]
    account = local_stack.client("sts").get_caller_identity()["Account"]
    assert stream_arn.split(":")[4] == account == "123456789012"


def test_tls_only_bucket_policy_allows_local_writes_but_policies_still_apply(local_stack: LocalStack) -> None:
    s3 = local_stack.client("s3")
    s3.create_bucket(Bucket="policy-probe")
    deny_insecure = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": ["arn:aws:s3:::policy-probe", "arn:aws:s3:::policy-probe/*"],
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    s3.put_bucket_policy(Bucket="policy-probe", Policy=json.dumps({"Version": "2012-10-17",
                                                                   "Statement": [deny_insecure]}))
    s3.put_object(Bucket="policy-probe", Key="ok", Body=b"allowed")  # the condition does not hold
    deny_key = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::policy-probe/forbidden/*"}
    s3.put_bucket_policy(Bucket="policy-probe", Policy=json.dumps({"Version": "2012-10-17",
                                                                   "Statement": [deny_insecure, deny_key]}))
    with pytest.raises(ClientError) as error:
        s3.put_object(Bucket="policy-probe", Key="forbidden/x", Body=b"no")
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_get_records_says_how_far_behind_the_tip_a_reader_is(local_stack: LocalStack) -> None:
    kinesis = local_stack.client("kinesis")
    kinesis.create_stream(StreamName="behind-probe", ShardCount=1)
    kinesis.put_records(StreamName="behind-probe", Records=[{"Data": b"x", "PartitionKey": "k"}] * 10)
    # MillisBehindLatest is an age: the records need one to be measurable
    time.sleep(0.1)
    shard = kinesis.list_shards(StreamName="behind-probe")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="behind-probe", ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    before = time.time()
    first = kinesis.get_records(ShardIterator=iterator, Limit=5)
    after = time.time()
    newest = first["Records"][-1]["ApproximateArrivalTimestamp"].timestamp()
    # stopped at its Limit with five more to come: as far behind as the newest record it returned is old
    assert len(first["Records"]) == 5
    assert (before - newest) * 1000 - 5 <= first["MillisBehindLatest"] <= (after - newest) * 1000 + 5
    assert first["MillisBehindLatest"] >= 100
    rest = kinesis.get_records(ShardIterator=first["NextShardIterator"], Limit=100)
    assert len(rest["Records"]) == 5 and rest["MillisBehindLatest"] == 0  # read to the tip: caught up
