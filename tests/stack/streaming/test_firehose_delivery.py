"""The local Firehose against the real local stack: Kinesis "wildrydes" → archive-transform Lambda →
dynamic partitions → Parquet with the Glue schema → S3, plus error output, buffering and SIGKILL."""

from __future__ import annotations

import base64
import json
import random
import re
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from streaming.lambdas.timefmt import format_epoch_ms
from tests.support.firehose_helpers import (
    ARCHIVE_STREAM,
    Archive,
    FirehoseProcess,
    read_stream,
    set_destination,
    wait_for_version,
)
from tests.support.pipeline_checks import replacement, wait_for
from tests.support.stack import LocalStack, started_stack

BUFFER_INTERVAL_S = 2
SHARD = "shardId-000000000000"
MIB = 1024 * 1024
KEY = re.compile(r"raw/dt=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/wildrydes-archive-(\d+)-"
                 r"(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-[0-9a-f-]{36}")
ERROR_KEY = re.compile(r"errors/processing-failed/dt=\d{4}-\d{2}-\d{2}/hour=\d{2}/wildrydes-archive-\d+-[0-9-]{19}-"
                       r"[0-9a-f-]{36}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from started_stack(tmp_path_factory.mktemp("firehose"),
                             ["--no-producer", "--parameter", f"ArchiveBufferIntervalSeconds={BUFFER_INTERVAL_S}",
                              "--parameter", "ArchiveBufferSizeMB=1"])


@pytest.fixture(scope="module")
def bucket(stack: LocalStack) -> str:
    outputs = json.loads((stack.data_dir / "deploy" / "outputs.json").read_text())["Outputs"]
    name = outputs["ArchiveBucketName"]
    return name


@pytest.fixture(scope="module")
def firehose(stack: LocalStack, bucket: str) -> Iterator[FirehoseProcess]:
    # The template's processor buffers 60 s before invoking the transform (AWS's default); tests
    # shorten that the way an operator would, with UpdateDestination (a new stream version).
    version = set_destination(stack.client("firehose"), ARCHIVE_STREAM, processor_interval_s=1)
    process = FirehoseProcess(stack, stack.data_dir.parent / "firehose.log")
    process.start()
    wait_for_version(stack.data_dir, ARCHIVE_STREAM, version)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def archive(stack: LocalStack, bucket: str) -> Archive:
    return Archive(stack.client("s3"), bucket)


def record(name: str, i: int) -> bytes:
    return json.dumps({"Name": name, "StatusTime": f"2026-11-25 18:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}",
                       "Latitude": round(40.7 + i * 1e-5, 6), "Longitude": round(-73.98 - i * 1e-5, 6),
                       "Distance": round(29 + (i % 200) / 100, 2), "HealthPoints": 100 + i % 60,
                       "MagicPoints": 90 + i % 70}).encode()


def put(stack: LocalStack, data: list[bytes], key: str) -> list[str]:
    """PutRecords in batches of 500; the acknowledged sequence numbers, in order."""
    kinesis = stack.client("kinesis")
    sequence_numbers: list[str] = []
    for start in range(0, len(data), 500):
        chunk = data[start:start + 500]
        result = kinesis.put_records(StreamName="wildrydes", Records=[{"Data": d, "PartitionKey": key} for d in chunk])
        assert result["FailedRecordCount"] == 0
        sequence_numbers.extend(r["SequenceNumber"] for r in result["Records"])
    return sequence_numbers


def expected_row(data: bytes, arrival_ms: int, shard_id: str, sequence_number: str) -> dict[str, Any]:
    raw = json.loads(data)
    return {"name": raw["Name"], "statustime": raw["StatusTime"], "latitude": raw["Latitude"],
            "longitude": raw["Longitude"], "distance": raw["Distance"], "healthpoints": raw["HealthPoints"],
            "magicpoints": raw["MagicPoints"],
            "arrivaltime": datetime.strptime(format_epoch_ms(arrival_ms), "%Y-%m-%d %H:%M:%S.%f"),
            "sequencenumber": sequence_number, "shardid": shard_id}


BAD = {
    b"not json at all": "JSON",
    b'{"Name": "Bad-Unicorn", "StatusTime": "2026-11-25 18:00:00.000"': "JSON",
    b'{"Name": "Bad-Unicorn", "StatusTime": "2026-11-25 18:00:00.000", "Latitude": 40.7, "Longitude": -73.9, '
    b'"Distance": "far", "HealthPoints": 150, "MagicPoints": 150}': "Distance",
    b'{"Name": "Bad-Unicorn", "StatusTime": "2026-11-25 18:00:00.000", "Latitude": 140.7, "Longitude": -73.9, '
    b'"Distance": 30.0, "HealthPoints": 150, "MagicPoints": 150}': "Latitude",
}


@pytest.fixture(scope="module")
def mixed_batch(stack: LocalStack, firehose: FirehoseProcess) -> dict[str, Any]:
    """300 good records with 4 bad ones among them, put once for the tests that read them back."""
    good = [record("Good-Unicorn", i) for i in range(300)]
    data = good[:100] + list(BAD) + good[100:]
    sequence_numbers = put(stack, data, "Good-Unicorn")
    return {"good": set(sequence_numbers[:100] + sequence_numbers[104:]), "bad": dict(zip(sequence_numbers[100:104],
                                                                                          BAD, strict=True))}


def test_good_records_arrive_as_parquet_with_exactly_their_values(stack: LocalStack, archive: Archive,
                                                                   mixed_batch: dict[str, Any]) -> None:
    rows = archive.wait_for("raw/", mixed_batch["good"])
    stream = read_stream(stack.client("kinesis"), "wildrydes")
    expected = sorted((expected_row(*stream[s], s) for s in mixed_batch["good"]),
                      key=lambda r: r["sequencenumber"])
    got = sorted((row for _, row in rows), key=lambda r: r["sequencenumber"])
    assert got == expected
    for key, row in rows:  # partitioned by arrival time, named as Firehose names objects
        match = KEY.fullmatch(key)
        assert match, key
        assert (match.group(1), match.group(2)) == (row["arrivaltime"].strftime("%Y-%m-%d"),
                                                    row["arrivaltime"].strftime("%H"))
        assert not key.endswith(".parquet")
    bad_rows = [row for _, row in archive.rows("raw/") if row["sequencenumber"] in mixed_batch["bad"]]
    assert bad_rows == []


def test_bad_records_go_to_the_processing_failed_prefix_with_their_reason(
        stack: LocalStack, archive: Archive, mixed_batch: dict[str, Any]) -> None:
    bad = mixed_batch["bad"]
    documents = archive.wait_for("errors/", set(bad), field_name="sequenceNumber")
    assert {d["sequenceNumber"] for _, d in documents} == set(bad)
    for key, document in documents:
        assert ERROR_KEY.fullmatch(key), key
        assert document["errorCode"] == "Lambda.ProcessingFailedStatus"
        assert BAD[bad[document["sequenceNumber"]]] in document["errorMessage"]
        assert base64.b64decode(document["rawData"]) == bad[document["sequenceNumber"]]
        assert document["lambdaArn"].endswith(":function:wildrydes-archive-transform")
        assert document["shardId"] == "shardId-000000000000"
        assert {"attemptsMade", "arrivalTimestamp", "attemptEndingTimestamp"} <= set(document)


@pytest.mark.faults
def test_sigkill_at_random_moments_loses_no_acknowledged_record(stack: LocalStack, archive: Archive,
                                                               firehose: FirehoseProcess) -> None:
    acknowledged: list[str] = []
    failures: list[BaseException] = []

    def produce() -> None:
        try:
            for batch in range(20):
                acknowledged.extend(put(stack, [record("Kill-Unicorn", batch * 100 + i) for i in range(100)],
                                        "Kill-Unicorn"))
                time.sleep(0.25)  # paced: the kills fall among the batches
        except BaseException as error:  # reported by the test thread
            failures.append(error)

    producer = threading.Thread(target=produce)
    producer.start()
    rng = random.Random(7)
    attempts = 0
    restarts: list[tuple[int, int, bool]] = []  # (killed pid, pid of its replacement, while producing), as seen
    while producer.is_alive() or attempts < 4:
        time.sleep(rng.uniform(0.6, 1.8))  # a random moment of the delivery
        pid = firehose.pid()
        if pid is None:
            continue
        producing = producer.is_alive()
        firehose.kill(signal.SIGKILL)
        attempts += 1
        new_pid = replacement(pid, firehose.pid)
        if new_pid is not None:
            restarts.append((pid, new_pid, producing))
    producer.join()
    assert not failures
    # every kill took effect: the killed process was seen gone and a new one running in its place
    assert len(restarts) == attempts, f"{attempts - len(restarts)} of {attempts} kills not seen to restart the " \
                                      f"firehose: {restarts}; log:\n{firehose.log_tail()}"
    assert any(producing for _, _, producing in restarts), "no kill fell while records were being written"

    rows = archive.wait_for("raw/", set(acknowledged), timeout=45)
    by_sequence: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, row in rows:
        by_sequence[row["sequencenumber"]].append(row)
    missing = set(acknowledged) - set(by_sequence)
    assert not missing, f"{len(missing)} acknowledged records lost; log:\n{firehose.log_tail()}"
    for copies in by_sequence.values():  # duplicates after a crash are the same record
        assert all(copy == copies[0] for copy in copies)


def firehose_status(stack: LocalStack, firehose: FirehoseProcess, written_after: float) -> dict[str, Any] | None:
    """The archive stream's entry of ``status.json`` if the running process wrote it after ``written_after``
    (``time.time()``), with the file's ``updated_at``; else None."""
    try:
        status = json.loads((stack.data_dir / "firehose" / "status.json").read_text())
    except (OSError, ValueError):
        return None
    if status.get("pid") != firehose.pid() or status["updated_at"] <= written_after:
        return None
    stream = status["streams"].get(ARCHIVE_STREAM)
    return {**stream, "updated_at": status["updated_at"]} if stream and "shards" in stream else None


def all_in_s3(stack: LocalStack, firehose: FirehoseProcess) -> tuple[str, dict[str, Any]]:
    """Waits until every record of the stream is in S3 (the shard's checkpoint is the stream's last record, nothing
    is buffered); returns that sequence number and the status saying so."""
    tip = max(read_stream(stack.client("kinesis"), "wildrydes"), key=int)
    asked = time.time()

    def delivered() -> dict[str, Any] | None:
        status = firehose_status(stack, firehose, asked)
        return status if status and status["shards"][SHARD]["checkpoint"] == tip \
            and status["records_buffered"] == 0 else None

    return tip, wait_for("every record of the stream in S3", delivered, 60, stack)


LONG_INTERVAL_S = 8


@pytest.fixture(scope="module")
def long_interval(stack: LocalStack, firehose: FirehoseProcess) -> int:
    """BufferingHints IntervalInSeconds raised for the tests from the SIGTERM one on (the module's last ones):
    records visibly wait in a buffer (status.json is written every 2 s), size, not time, cuts a burst even on a
    slow machine, and a trickle visibly waits."""
    version = set_destination(stack.client("firehose"), ARCHIVE_STREAM, buffer_interval_s=LONG_INTERVAL_S)
    wait_for_version(stack.data_dir, ARCHIVE_STREAM, version)
    return LONG_INTERVAL_S


@pytest.mark.faults
def test_sigterm_stops_promptly_and_nothing_buffered_is_lost(stack: LocalStack, archive: Archive,
                                                             firehose: FirehoseProcess, long_interval: int) -> None:
    tip, _ = all_in_s3(stack, firehose)
    sequence_numbers = set(put(stack, [record("Term-Unicorn", i) for i in range(50)], "Term-Unicorn"))
    put_at = time.time()

    def buffered() -> dict[str, Any] | None:  # read and transformed, waiting in a buffer, not in S3
        status = firehose_status(stack, firehose, put_at)
        return status if status and status["records_buffered"] == 50 \
            and status["shards"][SHARD]["checkpoint"] == tip else None

    wait_for("the 50 records waiting in a buffer, not yet in S3", buffered, long_interval, stack)
    took = firehose.kill(signal.SIGTERM)
    assert took < 5.0
    rows = archive.wait_for("raw/", sequence_numbers, timeout=30 + long_interval)
    assert {r["sequencenumber"] for _, r in rows} == sequence_numbers


def test_status_summary(stack: LocalStack, firehose: FirehoseProcess) -> None:
    asked = time.time()

    def counted() -> dict[str, Any] | None:
        status = firehose_status(stack, firehose, asked)
        return status if status and status["records_delivered"] > 0 else None

    status = wait_for("a fresh status.json counting delivered records", counted, 30, stack)
    assert status["records_read"] >= status["records_delivered"] > 0
    assert status["version"] and status["source"] == "wildrydes" and not status["problem"]
    assert status["updated_at"] > datetime.now(UTC).timestamp() - 30


def test_status_lag_is_the_age_of_the_oldest_record_not_yet_in_s3(stack: LocalStack, archive: Archive,
                                                                  firehose: FirehoseProcess,
                                                                  long_interval: int) -> None:
    """Records held in the buffer for its interval: the shard's lag is their age while they wait, and falls back
    to MillisBehindLatest (0 at the stream's tip) once they are in S3."""
    tip, idle = all_in_s3(stack, firehose)
    assert idle["shards"][SHARD]["lag_ms"] == 0, idle

    put_started = time.time()
    sequence_numbers = put(stack, [record("Lag-Unicorn", i) for i in range(20)], "Lag-Unicorn")
    put_ended = time.time()

    def waited() -> dict[str, Any] | None:  # a status written 3 s or more after the put, the records still waiting
        status = firehose_status(stack, firehose, put_ended + 3)
        return status if status and status["records_buffered"] == 20 \
            and status["shards"][SHARD]["checkpoint"] == tip else None

    held = wait_for("a status 3 s after the put with the records still buffered", waited, long_interval, stack)
    lag = held["shards"][SHARD]["lag_ms"]
    # the age of the oldest of them when the status was written: arrived between put_started and put_ended
    # (a status takes a moment to write: its updated_at is a little after the instant the lag was computed)
    at_least = (held["updated_at"] - put_ended) * 1000 - 500
    at_most = (held["updated_at"] - put_started) * 1000 + 5
    assert at_least <= lag <= at_most, (lag, at_least, at_most)
    assert lag >= 2500

    rows = archive.wait_for("raw/", set(sequence_numbers), timeout=15 + long_interval)
    assert {r["sequencenumber"] for _, r in rows} == set(sequence_numbers)
    last, seen = max(sequence_numbers, key=int), time.time()

    def checkpointed() -> dict[str, Any] | None:
        status = firehose_status(stack, firehose, seen)
        return status if status and status["shards"][SHARD]["checkpoint"] == last else None

    after = wait_for("a status with the records checkpointed", checkpointed, 15, stack)
    assert after["shards"][SHARD]["lag_ms"] == 0, after


def test_size_buffering_cuts_several_objects_of_at_most_the_buffer_size(stack: LocalStack, archive: Archive,
                                                                          long_interval: int) -> None:
    data = [record("Size-Unicorn", i) for i in range(7000)]  # ~2.3 MB after the transform
    sequence_numbers = set(put(stack, data, "Size-Unicorn"))
    rows = archive.wait_for("raw/", sequence_numbers, timeout=30 + long_interval)
    assert {r["sequencenumber"] for _, r in rows} == sequence_numbers
    keys = {key for key, _ in rows}
    assert len(keys) >= 3
    # Each object holds at most SizeInMBs of incoming (transformed) data, plus the record that reached it;
    # every object but the burst's last was cut by size.
    sizes = sorted(sum(len(transformed_line(row)) for row in archive.objects[key]) for key in keys)
    assert sizes[-1] <= MIB + 400
    assert sizes[-2] >= MIB


def transformed_line(row: dict[str, Any]) -> bytes:
    """The transform's JSON line for a row (what Firehose's buffer size counts)."""
    return (json.dumps({"Name": row["name"], "StatusTime": row["statustime"], "Latitude": row["latitude"],
                        "Longitude": row["longitude"], "Distance": row["distance"],
                        "HealthPoints": row["healthpoints"], "MagicPoints": row["magicpoints"],
                        "ArrivalTime": row["arrivaltime"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                        "SequenceNumber": row["sequencenumber"], "ShardId": row["shardid"]},
                       separators=(",", ":")) + "\n").encode()


def test_time_buffering_holds_a_trickle_until_the_interval(stack: LocalStack, archive: Archive,
                                                           long_interval: int) -> None:
    started = time.monotonic()
    sequence_numbers = set(put(stack, [record("Slow-Unicorn", i) for i in range(20)], "Slow-Unicorn"))
    while time.monotonic() - started < long_interval - 1:
        archive.refresh("raw/")
        early = [r for _, r in archive.rows("raw/") if r["sequencenumber"] in sequence_numbers]
        assert early == [], f"written {time.monotonic() - started:.1f}s after the put, before the interval"
        time.sleep(0.5)
    rows = archive.wait_for("raw/", sequence_numbers, timeout=15)
    assert {r["sequencenumber"] for _, r in rows} == sequence_numbers
    assert len({key for key, _ in rows}) == 1  # one object, flushed by time
