"""One stack for the IAM tests (the endpoint in its default mode, ``--iam enforce``), and what they share."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from localaws.settings import DEFAULT_REGION
from tests.support.stack import LocalStack, started_stack

STACK = "wildrydes"
PARAMETERS = {"TumblingWindowInSeconds": 5, "AggregatorMaximumBatchingWindowInSeconds": 0,
              "AggregatorMaximumRetryAttempts": 0, "ArchiveBufferIntervalSeconds": 2, "ArchiveBufferSizeMB": 1}


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    args = [arg for name, value in PARAMETERS.items() for arg in ("--parameter", f"{name}={value}")]
    yield from started_stack(tmp_path_factory.mktemp("iam"), ["--unicorns", "5", *args])


def iam_state(stack: LocalStack) -> dict[str, Any]:
    """The gateway's IAM mode, counts and recent denials (``/_wildrydes/iam``)."""
    with urllib.request.urlopen(f"{stack.endpoint_url}/_wildrydes/iam", timeout=5) as response:
        return json.loads(response.read())


def unsigned(stack: LocalStack, service: str) -> Any:
    return boto3.client(service, endpoint_url=stack.endpoint_url, region_name=DEFAULT_REGION,
                        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))


def guest_credentials(stack: LocalStack) -> dict[str, str]:
    """A browser's credentials, as the live map gets them: Cognito's basic flow with the pool's guest role."""
    outputs = stack.outputs
    cognito = unsigned(stack, "cognito-identity")
    identity = cognito.get_id(IdentityPoolId=outputs["MapIdentityPoolId"])["IdentityId"]
    token = cognito.get_open_id_token(IdentityId=identity)["Token"]
    found = unsigned(stack, "sts").assume_role_with_web_identity(
        RoleArn=outputs["MapUnauthenticatedRoleArn"], RoleSessionName="map", WebIdentityToken=token)["Credentials"]
    return {"aws_access_key_id": found["AccessKeyId"], "aws_secret_access_key": found["SecretAccessKey"],
            "aws_session_token": found["SessionToken"]}
