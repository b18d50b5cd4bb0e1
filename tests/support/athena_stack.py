"""A local stack with the Athena engine, for the Athena tests.

When the stack runs the engine itself (``<data dir>/run/stack.json`` lists an "athena" component),
everything goes through the stack's one endpoint. Until then the engine is started here, as a
subprocess with the stack's environment, and clients reach it through boto3's service-specific
``AWS_ENDPOINT_URL_ATHENA`` while S3 and Glue stay on the stack's endpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import duckdb
from botocore.config import Config

from localaws.settings import DEFAULT_REGION, LOCAL_CREDENTIALS, REPO_ROOT
from localaws.supervisor.preflight import free_port
from tests.support.stack import LocalStack, started_stack

ACCOUNT = "123456789012"
ARCHIVE_BUCKET = f"wildrydes-archive-{ACCOUNT}-{DEFAULT_REGION}"
RESULTS_BUCKET = f"wildrydes-athena-results-{ACCOUNT}-{DEFAULT_REGION}"
DATABASE = "wildrydes"
WORKGROUP = "wildrydes"


@dataclass
class AthenaStack:
    stack: LocalStack
    athena_url: str
    engine: subprocess.Popen[bytes] | None
    engine_log: Path | None

    @property
    def env(self) -> dict[str, str]:
        """The environment a client needs: the endpoint (and, until the stack routes Athena to the
        engine, the engine's own URL for Athena) plus dummy credentials."""
        env = {"AWS_ENDPOINT_URL": self.stack.endpoint_url, "AWS_DEFAULT_REGION": DEFAULT_REGION,
               "AWS_REGION": DEFAULT_REGION, **LOCAL_CREDENTIALS}
        if self.athena_url != self.stack.endpoint_url:
            env["AWS_ENDPOINT_URL_ATHENA"] = self.athena_url
        return env

    @property
    def engine_url(self) -> str:
        """The engine itself (not the endpoint in front of it)."""
        if self.engine is not None:
            return self.athena_url
        state = json.loads((self.stack.data_dir / "run" / "stack.json").read_text())
        argv = state["components"]["athena"]["argv"]
        return f"http://127.0.0.1:{argv[argv.index('--port') + 1]}"

    def client(self, service: str) -> Any:  # boto3 clients are untyped
        endpoint = self.athena_url if service == "athena" else self.stack.endpoint_url
        return boto3.client(service, endpoint_url=endpoint, region_name=DEFAULT_REGION,
                            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                            config=Config(retries={"max_attempts": 2, "mode": "standard"}))

    @contextlib.contextmanager
    def environment(self) -> Iterator[None]:
        """Set the client environment in this process (pyathena reads it through boto3)."""
        saved = {k: os.environ.get(k) for k in [*self.env, "AWS_ENDPOINT_URL_ATHENA"]}
        os.environ.pop("AWS_ENDPOINT_URL_ATHENA", None)
        os.environ.update(self.env)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def engine_log_tail(self, chars: int = 4000) -> str:
        if self.engine_log is None:
            return self.stack.log_tail(chars)
        try:
            return self.engine_log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_wildrydes/health", timeout=2) as response:
            return json.loads(response.read()).get("status") == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stack_runs_athena(stack: LocalStack) -> bool:
    try:
        state = json.loads((stack.data_dir / "run" / "stack.json").read_text())
    except (OSError, ValueError):
        return False
    return "athena" in state.get("components", {})


def start_engine(stack: LocalStack, log_path: Path, timeout: float = 60.0, data_dir: Path | None = None,
                 extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen[bytes], str]:
    """An engine on the stack's endpoint (its data directory unless another is given)."""
    port = free_port()
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "localaws.athena", "--port", str(port), "--data-dir",
         str(data_dir or stack.data_dir), *extra],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env={**os.environ, **stack.env},
        cwd=REPO_ROOT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Athena engine exited with {process.returncode}:\n"
                               + log_path.read_text(errors="replace")[-3000:])
        if _healthy(url):
            return process, url
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the Athena engine did not become healthy")


def stop_engine(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def athena_stack(tmp: Path, extra_args: list[str] | None = None) -> Iterator[AthenaStack]:
    for stack in started_stack(tmp, ["--no-producer", *(extra_args or [])]):
        if _stack_runs_athena(stack):
            yield AthenaStack(stack, stack.endpoint_url, None, None)
            return
        log_path = tmp / "athena-engine.log"
        process, url = start_engine(stack, log_path)
        athena = AthenaStack(stack, url, process, log_path)
        try:
            yield athena
        finally:
            if athena.engine is not None:  # a test may have restarted it
                stop_engine(athena.engine)


# ---------------------------------------------------------------------------------------------
# data: archive-like Parquet, written locally with DuckDB, uploaded to the local S3, catalogued
# ---------------------------------------------------------------------------------------------
def write_archive_parquet(directory: Path, hours: list[str], rows_per_hour: int, unicorns: int = 7,
                          day: str = "2026-11-25", seed: float = 0.25) -> dict[tuple[str, str], Path]:
    """Parquet files shaped like the Firehose archive (lower-case columns, Snappy), one per hour."""
    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed})")
    files: dict[tuple[str, str], Path] = {}
    for hour in hours:
        path = directory / f"dt={day}" / f"hour={hour}" / "part-0000.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"""
            COPY (
              SELECT 'Unicorn-' || CAST(i % {unicorns} AS VARCHAR) AS name,
                     strftime(TIMESTAMP '{day} {hour}:00:00' + INTERVAL (i * 1000 // {max(1, rows_per_hour // 3600)})
                              MILLISECOND, '%Y-%m-%d %H:%M:%S.%g') AS statustime,
                     40.7 + random() / 100 AS latitude,
                     -73.98 + random() / 100 AS longitude,
                     CASE WHEN i % 97 = 0 THEN NULL ELSE 29 + random() * 2 END AS distance,
                     CAST(90 + (i * 7) % 70 AS INTEGER) AS healthpoints,
                     CAST(95 + (i * 11) % 60 AS INTEGER) AS magicpoints,
                     CAST(TIMESTAMP '{day} {hour}:00:00' + INTERVAL (i * 3600000 // {rows_per_hour}) MILLISECOND
                          AS TIMESTAMP_MS) AS arrivaltime,
                     CAST(49000000000000000000 + i AS VARCHAR) AS sequencenumber,
                     'shardId-000000000000' AS shardid
              FROM range({rows_per_hour}) t(i)
            ) TO '{path}' (FORMAT parquet, COMPRESSION snappy)""")
        files[(day, hour)] = path
    con.close()
    return files


def upload_archive(athena: AthenaStack, files: dict[tuple[str, str], Path], prefix: str = "raw") -> None:
    """Upload the files under ``<prefix>/dt=/hour=/`` and register them as partitions of unicorn_status."""
    s3, glue = athena.client("s3"), athena.client("glue")
    table = glue.get_table(DatabaseName=DATABASE, Name="unicorn_status")["Table"]
    partitions = []
    for (day, hour), path in files.items():
        location = f"s3://{ARCHIVE_BUCKET}/{prefix}/dt={day}/hour={hour}/"
        s3.upload_file(str(path), ARCHIVE_BUCKET, f"{prefix}/dt={day}/hour={hour}/{path.name}")
        descriptor = dict(table["StorageDescriptor"], Location=location)
        partitions.append({"Values": [day, hour], "StorageDescriptor": descriptor})
    glue.batch_create_partition(DatabaseName=DATABASE, TableName="unicorn_status", PartitionInputList=partitions)


# ---------------------------------------------------------------------------------------------
# running queries through the API
# ---------------------------------------------------------------------------------------------
def run_query(athena_client: Any, sql: str, database: str = DATABASE, workgroup: str = WORKGROUP,
              timeout: float = 120.0, **extra: Any) -> dict[str, Any]:
    """Start, poll to a final state, return the QueryExecution."""
    kwargs: dict[str, Any] = {"QueryString": sql, "QueryExecutionContext": {"Database": database},
                              "WorkGroup": workgroup, **extra}
    query_id = athena_client.start_query_execution(**kwargs)["QueryExecutionId"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = athena_client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return execution
        time.sleep(0.05)
    raise AssertionError(f"query did not finish in {timeout}s: {sql}")


Rows = list[list[str | None]]


def results(athena_client: Any, query_id: str, page_size: int = 1000) -> tuple[list[dict[str, Any]], Rows]:
    """ColumnInfo and every row (header included) through GetQueryResults paging."""
    rows: list[list[str | None]] = []
    columns: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": page_size}
        if token:
            kwargs["NextToken"] = token
        page = athena_client.get_query_results(**kwargs)
        columns = columns or page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        token = page.get("NextToken")
        if not token:
            return columns, rows


def succeeded(athena_client: Any, sql: str, **kwargs: Any) -> tuple[dict[str, Any], list[list[str | None]]]:
    execution = run_query(athena_client, sql, **kwargs)
    assert execution["Status"]["State"] == "SUCCEEDED", (sql, execution["Status"])
    _, rows = results(athena_client, execution["QueryExecutionId"])
    return execution, rows


def failed(athena_client: Any, sql: str, **kwargs: Any) -> str:
    execution = run_query(athena_client, sql, **kwargs)
    assert execution["Status"]["State"] == "FAILED", (sql, execution["Status"])
    return str(execution["Status"]["StateChangeReason"])
