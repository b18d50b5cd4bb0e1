"""Helpers of the Firehose delivery tests: the delivery process, the archive read back, the stream read back."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from localaws.settings import REPO_ROOT
from tests.support.stack import LocalStack

ARCHIVE_STREAM = "wildrydes-archive"


class FirehoseProcess:
    """``python -m localaws.firehose`` for a test stack: started here unless the supervisor runs it."""

    def __init__(self, stack: LocalStack, log_path: Path) -> None:
        self.stack = stack
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def supervised(self) -> bool:
        return "firehose" in self._components()

    def _components(self) -> dict[str, Any]:
        try:
            return json.loads((self.stack.data_dir / "run" / "stack.json").read_text()).get("components") or {}
        except (OSError, ValueError):
            return {}

    def start(self) -> None:
        if self.supervised:
            return
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localaws.firehose", "--data-dir", str(self.stack.data_dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env={**os.environ, **self.stack.env},
            cwd=REPO_ROOT, start_new_session=True)

    def pid(self) -> int | None:
        if self.process is not None:
            return self.process.pid if self.process.poll() is None else None
        pid = self._components().get("firehose", {}).get("pid")
        return int(pid) if pid and _alive(int(pid)) else None  # None while the supervisor restarts it

    def kill(self, sig: int = signal.SIGKILL) -> float:
        """Sends the signal; restarts the process if this test owns it. Returns how long it took to exit."""
        pid = self.pid()
        if pid is None:
            return 0.0
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if self.process is not None:
            self.process.wait(30)
            took = time.monotonic() - started
            self.process = None
            self.start()
            return took
        while _alive(pid) and time.monotonic() - started < 30:
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, chars: int = 3000) -> str:
        path = self.stack.data_dir / "logs" / "firehose.log" if self.supervised else self.log_path
        try:
            return path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def set_destination(firehose: Any, name: str, *, processor_interval_s: int | None = None,
                    buffer_interval_s: int | None = None, buffer_size_mb: int | None = None) -> str:
    """UpdateDestination of a delivery stream; returns the new version id."""
    description = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    s3 = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    update: dict[str, Any] = {}
    if processor_interval_s is not None:
        processing = s3["ProcessingConfiguration"]
        for parameter in processing["Processors"][0]["Parameters"]:
            if parameter["ParameterName"] == "BufferIntervalInSeconds":
                parameter["ParameterValue"] = str(processor_interval_s)
        update["ProcessingConfiguration"] = processing
    if buffer_interval_s is not None or buffer_size_mb is not None:
        hints = dict(s3["BufferingHints"])
        if buffer_interval_s is not None:
            hints["IntervalInSeconds"] = buffer_interval_s
        if buffer_size_mb is not None:
            hints["SizeInMBs"] = buffer_size_mb
        update["BufferingHints"] = hints
    firehose.update_destination(DeliveryStreamName=name, CurrentDeliveryStreamVersionId=description["VersionId"],
                                DestinationId=description["Destinations"][0]["DestinationId"],
                                ExtendedS3DestinationUpdate=update)
    return str(firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]["VersionId"])


def wait_for_version(data_dir: Path, name: str, version: str, timeout: float = 20.0) -> None:
    """Until the delivery process runs the stream's new configuration (its status.json says so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError):
            status = json.loads((data_dir / "firehose" / "status.json").read_text())
            if status["streams"][name].get("version") == version:
                return
        time.sleep(0.2)
    raise AssertionError(f"{name} version {version} not running after {timeout}s")


@dataclass
class Archive:
    """Objects of a bucket read back (each object fetched once): Parquet rows and error documents."""

    s3: Any
    bucket: str
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def refresh(self, prefix: str = "") -> None:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key in self.objects or key.startswith("_"):
                    continue
                body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                self.sizes[key] = len(body)
                if body[:4] == b"PAR1":
                    self.objects[key] = pq.read_table(io.BytesIO(body)).to_pylist()
                else:
                    self.objects[key] = [json.loads(line) for line in body.decode().splitlines() if line]

    def rows(self, prefix: str) -> list[tuple[str, dict[str, Any]]]:
        return [(key, row) for key, rows in sorted(self.objects.items()) if key.startswith(prefix) for row in rows]

    def wait_for(self, prefix: str, sequence_numbers: set[str], field_name: str = "sequencenumber",
                 timeout: float = 30.0) -> list[tuple[str, dict[str, Any]]]:
        """Rows under the prefix once every one of these sequence numbers is there."""
        deadline = time.monotonic() + timeout
        while True:
            self.refresh(prefix)
            rows = [(k, r) for k, r in self.rows(prefix) if r.get(field_name) in sequence_numbers]
            if {r[field_name] for _, r in rows} >= sequence_numbers or time.monotonic() > deadline:
                return rows
            time.sleep(0.3)


def read_stream(kinesis: Any, stream: str) -> dict[str, tuple[bytes, int, str]]:
    """sequence number → (data, approximate arrival ms, shard id) of every record in the stream."""
    records: dict[str, tuple[bytes, int, str]] = {}
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            for r in page["Records"]:
                records[r["SequenceNumber"]] = (r["Data"], round(r["ApproximateArrivalTimestamp"].timestamp() * 1000),
                                                shard["ShardId"])
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    return records
