"""Dagster resources of the platform. Every AWS client is a plain boto3/pyathena client: endpoint,
region and credentials come from the environment (``AWS_ENDPOINT_URL``, ``AWS_REGION``, ...), so the
same resources run against the local endpoint and against AWS. Names come from ``StackResource``."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import boto3
from botocore.config import Config
from dagster import ConfigurableResource
from dagster_aws.utils import ResourceWithBoto3Configuration
from pydantic import Field, PrivateAttr

from orchestration.defs.platform.stack import StackNames, load_names

RETRY_BASE_SECONDS = 0.1
RETRY_CAP_SECONDS = 5.0


class StackResource(ConfigurableResource):
    """The deployed stack's names (see ``stack.py`` for where they are looked up)."""

    _names: StackNames | None = PrivateAttr(default=None)

    def names(self) -> StackNames:
        if self._names is None:
            self._names = load_names()
        return self._names


class _BatchBoto3Configuration(ResourceWithBoto3Configuration):
    """Batch jobs can wait out throttling (Glue and Athena throttle at a few calls per second per account):
    ten attempts with standard-mode backoff ride out bursts that dagster-aws's default five do not."""

    max_attempts: int = Field(default=10, description="boto3 attempts per call, the first included")


class _Boto3ClientResource(_BatchBoto3Configuration):
    """One boto3 client; unset fields fall through to boto3's own environment lookup."""

    service: ClassVar[str] = ""
    _client: Any = PrivateAttr(default=None)

    def get_client(self) -> Any:
        if self._client is None:
            session = boto3.session.Session(profile_name=self.profile_name)
            kwargs: dict[str, Any] = {
                "region_name": self.region_name,
                "endpoint_url": self.endpoint_url,
                "use_ssl": self.use_ssl,
                "verify": self.verify,
                "aws_access_key_id": self.aws_access_key_id,
                "aws_secret_access_key": self.aws_secret_access_key,
                "aws_session_token": self.aws_session_token,
                "config": Config(retries={"max_attempts": self.max_attempts, "mode": "standard"},
                                 max_pool_connections=32),
            }
            self._client = session.client(self.service, **{k: v for k, v in kwargs.items() if v is not None})
        return self._client


class S3ClientResource(_Boto3ClientResource):
    service: ClassVar[str] = "s3"


class GlueResource(_Boto3ClientResource):
    service: ClassVar[str] = "glue"


class DynamoDBResource(_Boto3ClientResource):
    service: ClassVar[str] = "dynamodb"


class KinesisResource(_Boto3ClientResource):
    service: ClassVar[str] = "kinesis"


class FirehoseResource(_Boto3ClientResource):
    service: ClassVar[str] = "firehose"


class LambdaResource(_Boto3ClientResource):
    service: ClassVar[str] = "lambda"


class AthenaResource(_BatchBoto3Configuration):
    """Athena through pyathena. ``work_group``/``database`` default to the stack's; results are read
    from the query's CSV in the workgroup's output location (one GET instead of paging)."""

    work_group: str | None = None
    database: str | None = None
    poll_interval: float = 0.2
    query_attempts: int = Field(default=4, description="runs of a query Athena failed as Retryable (a throttled "
                                "Glue or S3 call inside the query), the first included")
    _stack: StackNames | None = PrivateAttr(default=None)

    def _names(self) -> StackNames:
        if self._stack is None:
            self._stack = load_names()
        return self._stack

    @contextmanager
    def connect(self) -> Iterator[Any]:
        import pyathena

        session = boto3.session.Session(
            profile_name=self.profile_name,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
            region_name=self.region_name,
        )
        connection = pyathena.connect(
            session=session,
            region_name=session.region_name,
            work_group=self.work_group or self._names().athena_workgroup,
            schema_name=self.database or self._names().glue_database,
            poll_interval=self.poll_interval,
            config=Config(retries={"max_attempts": self.max_attempts, "mode": "standard"}),
        )
        try:
            yield connection
        finally:
            connection.close()

    def query_rows(self, sql: str, s3: Any = None) -> list[dict[str, str | None]]:
        """Run one query; its rows as dicts of strings (empty -> None), read from the result CSV."""
        from pyathena.error import OperationalError

        with self.connect() as connection:
            cursor = connection.cursor()
            for attempt in range(1, self.query_attempts + 1):
                try:
                    cursor.execute(sql)
                    break
                except OperationalError:
                    if attempt == self.query_attempts or not _retryable(connection.client, cursor.query_id):
                        raise
                    time.sleep(min(RETRY_BASE_SECONDS * 2**attempt, RETRY_CAP_SECONDS))
            location = cursor.output_location
            if not location:
                names = [c[0] for c in cursor.description or []]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        bucket, key = location.removeprefix("s3://").split("/", 1)
        body = (s3 or boto3.client("s3")).get_object(Bucket=bucket, Key=key)["Body"].read()
        return parse_result_csv(body)


def _retryable(athena: Any, query_id: str | None) -> bool:
    """Whether Athena marked the failed query Retryable (AthenaError.Retryable: it may succeed if run again)."""
    if not query_id:
        return False
    status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
    return bool(status.get("AthenaError", {}).get("Retryable"))


def parse_result_csv(body: bytes) -> list[dict[str, str | None]]:
    """Athena's result CSV: a header, every value double-quoted, NULL as an empty field. (Python 3.11's
    csv module cannot tell an empty string from NULL; both come back as None.)"""
    reader = csv.reader(io.StringIO(body.decode("utf-8")))
    header = next(reader, None)
    if header is None:
        return []
    return [dict(zip(header, [v if v != "" else None for v in row], strict=True)) for row in reader]
