"""The bad-input corpus (tests/support/bad_inputs.py) through the real stream on the real local stack.

A seeded fleet's records with every bad input of the corpus (and the odd-but-valid ones) interleaved are
put to "wildrydes". Then: each bad record is quarantined with a reason a human understands by the
aggregator (SQS wildrydes-quarantine) and by the archive (errors/processing-failed/ in S3); the good and
tolerated records are aggregated exactly as an independent computation over them alone says, and
archived, bad ones not; and no component crashed, retried a failed batch or dead-lettered anything.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localaws.supervisor.logs import read
from streaming.lambdas.kinesis_put import put_records
from streaming.lambdas.quarantine import MAX_DATA_CHARS
from streaming.lambdas.retry import Backoff
from streaming.producer.sender import KinesisSender, SenderError
from streaming.producer.simulation import simulate
from tests.support.aggregation_oracle import actual_items, expected_items
from tests.support.bad_inputs import (
    BAD,
    BAD_KEY,
    DUPLICATED,
    LONE_SURROGATE_KEY,
    MIB,
    REFUSED_BY_KINESIS,
    TOLERATED,
    BadInput,
    names_are_unique,
)
from tests.support.firehose_helpers import (
    ARCHIVE_STREAM,
    Archive,
    read_stream,
    set_destination,
    wait_for_version,
)
from tests.support.pipeline_checks import wait_for
from tests.support.stack import LocalStack, started_stack

WINDOW_S = 2
TABLE = "UnicornSensorData"
STREAM = "wildrydes"
FLEET, TICKS, SEED = 6, 30, 2026
ROUNDS = 6
PUT_BACKOFF = Backoff(attempts=8, base=0.05, cap=1.0)
# Words a reason for operators should not contain: Python internals, tracebacks, cut-off hints.
UNCLEAR = re.compile(r"Traceback|\b(?:NoneType|list|dict|str|int|bool|tuple)\b|\bsys\.|<\w+ object")


@dataclass
class Sent:
    """What was put, by sequence number."""

    bad: dict[str, BadInput] = field(default_factory=dict)
    good: dict[str, bytes] = field(default_factory=dict)  # the fleet's, the tolerated and the duplicated
    components: dict[str, Any] = field(default_factory=dict)  # the run file's components before sending


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from started_stack(tmp_path_factory.mktemp("bad-input"), [
        "--no-producer", "--parameter", f"TumblingWindowInSeconds={WINDOW_S}",
        "--parameter", "AggregatorMaximumBatchingWindowInSeconds=0",
        "--parameter", "ArchiveBufferIntervalSeconds=1", "--parameter", "ArchiveBufferSizeMB=1"])


@pytest.fixture(scope="module")
def bucket(stack: LocalStack) -> str:
    name = outputs(stack)["ArchiveBucketName"]
    # The processor buffers 60 s before invoking the transform (AWS's default); shortened as an operator would.
    version = set_destination(stack.client("firehose"), ARCHIVE_STREAM, processor_interval_s=1)
    wait_for_version(stack.data_dir, ARCHIVE_STREAM, version)
    return name


def outputs(stack: LocalStack) -> dict[str, str]:
    return json.loads((stack.data_dir / "deploy" / "outputs.json").read_text())["Outputs"]


def run_file(stack: LocalStack) -> dict[str, Any]:
    return json.loads((Path(stack.data_dir) / "run" / "stack.json").read_text())


def stream_order() -> list[tuple[str, bytes, str, Any]]:
    """(kind, data, partition key, corpus entry) in the order they are put: specials between fleet records."""
    fleet = simulate(FLEET, SEED, int(time.time() * 1000), TICKS)
    specials: list[tuple[str, bytes, str, Any]] = [("bad", b.data, b.key, b) for b in BAD]
    specials += [("good", data, key, name) for name, data, key in TOLERATED]
    specials.insert(len(specials) // 3, ("good", DUPLICATED[0], DUPLICATED[1], "duplicate, first"))
    specials.insert(2 * len(specials) // 3, ("good", DUPLICATED[0], DUPLICATED[1], "duplicate, second"))
    order: list[tuple[str, bytes, str, Any]] = []
    k = 0
    for i, reading in enumerate(fleet, start=1):  # spread evenly: special k after fleet record (k+1)·F/(S+1)
        order.append(("good", reading.encode(), reading.name, "fleet"))
        while k < len(specials) and (k + 1) * len(fleet) <= i * (len(specials) + 1):
            order.append(specials[k])
            k += 1
    assert len(order) == len(fleet) + len(specials)
    return order


@pytest.fixture(scope="module")
def sent(stack: LocalStack, bucket: str) -> Sent:
    result = Sent(components=run_file(stack)["components"])
    kinesis = stack.client("kinesis")
    order = stream_order()
    per_round = -(-len(order) // ROUNDS)
    for start in range(0, len(order), per_round):
        chunk = order[start:start + per_round]
        entries = [(data, key) for _, data, key, _ in chunk]
        acks = []
        for batch in calls(entries):
            acks.extend(put_records(kinesis, STREAM, batch, backoff=PUT_BACKOFF))
        for (kind, data, _, entry), ack in zip(chunk, acks, strict=True):
            if kind == "bad":
                result.bad[ack.sequence_number] = entry
            else:
                result.good[ack.sequence_number] = data
        time.sleep(0.5)  # a producer's pace: the records span several windows
    assert len(result.bad) == len(BAD)
    return result


def calls(entries: list[tuple[bytes, str]], max_bytes: int = 4 * MIB) -> Iterator[list[tuple[bytes, str]]]:
    """PutRecords batches (<= 500 records, <= 4 MiB). Not kinesis_put.batches: that one cannot size a partition
    key holding a lone surrogate, which boto3 sends JSON-escaped and Kinesis stores."""
    batch: list[tuple[bytes, str]] = []
    size = 0
    for data, key in entries:
        n = len(data) + len(key.encode("utf-8", "surrogatepass"))
        if batch and (len(batch) == 500 or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append((data, key))
        size += n
    if batch:
        yield batch


def assert_clear(reason: Any) -> None:
    assert isinstance(reason, str) and 0 < len(reason) <= 200, reason
    assert not UNCLEAR.search(reason), f"unclear reason for an operator: {reason!r}"


# ------------------------------------------------------------------------------------------------ corpus


def test_the_corpus_has_at_least_30_distinct_kinds_of_bad_input() -> None:
    assert len(BAD) >= 30
    assert names_are_unique()
    assert len({b.data for b in BAD}) == len(BAD)
    assert len({b.reason for b in BAD}) >= 30


def test_records_kinesis_refuses_are_refused_with_a_clear_error(stack: LocalStack) -> None:
    """Over the 1 MiB record limit PutRecord fails with a ValidationException naming the limit, and the
    producer refuses to send it at all, naming the limit; nothing reaches the stream."""
    kinesis = stack.client("kinesis")
    for name, data in REFUSED_BY_KINESIS:
        with pytest.raises(ClientError) as info:
            kinesis.put_record(StreamName=STREAM, Data=data, PartitionKey=BAD_KEY)
        assert info.value.response["Error"]["Code"] == "ValidationException", name
        assert "1048576" in info.value.response["Error"]["Message"], name
        with KinesisSender(STREAM, kinesis) as sender, pytest.raises(SenderError, match="over the 1 MiB Kinesis limit"):
            sender.add(data, BAD_KEY)


# ------------------------------------------------------------------------------------------- quarantine


def quarantined(stack: LocalStack, sequence_numbers: set[str], timeout: float) -> list[dict[str, Any]]:
    """Messages of the quarantine queue, received until these sequence numbers are all among them."""
    sqs = stack.client("sqs")
    queue_url = outputs(stack)["QuarantineQueueUrl"]
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not sequence_numbers <= {m.get("sequenceNumber") for m in messages} and time.monotonic() < deadline:
        page = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages.extend(json.loads(m["Body"]) for m in page.get("Messages", []))
    return messages


def test_every_bad_record_is_quarantined_by_the_aggregator_with_its_reason(stack: LocalStack, sent: Sent) -> None:
    messages = quarantined(stack, set(sent.bad), timeout=90)
    by_sequence = {m["sequenceNumber"]: m for m in messages}
    missing = [sent.bad[s].name for s in set(sent.bad) - set(by_sequence)]
    assert not missing, f"not quarantined by the aggregator: {missing}"
    assert set(by_sequence) == set(sent.bad), "records that are not in the corpus were quarantined"
    for message in messages:
        bad = sent.bad[message["sequenceNumber"]]
        assert message["source"] == "aggregator", bad.name
        assert bad.reason in message["reason"], (bad.name, message["reason"])
        assert_clear(message["reason"])
        encoded = base64.b64encode(bad.data).decode()
        assert message["dataChars"] == len(encoded), bad.name
        assert message["dataTruncated"] == (len(encoded) > MAX_DATA_CHARS), bad.name
        if message["dataTruncated"]:  # the huge one: its start is kept, flagged (SQS takes 256 KiB)
            assert message["data"] == encoded[:MAX_DATA_CHARS], bad.name
        else:
            assert base64.b64decode(message["data"]) == bad.data, bad.name
        assert message["partitionKey"] == bad.key and message["shardId"], bad.name
        assert message["approximateArrivalTimestamp"], bad.name


def test_every_bad_record_is_in_the_archive_error_prefix_with_its_reason(stack: LocalStack, bucket: str,
                                                                         sent: Sent) -> None:
    archive = Archive(stack.client("s3"), bucket)
    documents = archive.wait_for("errors/", set(sent.bad), field_name="sequenceNumber", timeout=90)
    missing = [sent.bad[s].name for s in set(sent.bad) - {d["sequenceNumber"] for _, d in documents}]
    assert not missing, f"not in the archive's error prefix: {missing}"
    archive.refresh("errors/")
    assert {d["sequenceNumber"] for _, d in archive.rows("errors/")} == set(sent.bad)
    for key, document in documents:
        bad = sent.bad[document["sequenceNumber"]]
        assert key.startswith("errors/processing-failed/dt="), key
        assert document["errorCode"] == "Lambda.ProcessingFailedStatus", bad.name
        assert bad.reason in document["errorMessage"], (bad.name, document["errorMessage"])
        assert_clear(document["errorMessage"])
        assert base64.b64decode(document["rawData"]) == bad.data, bad.name
        assert document["partitionKey"] == bad.key, bad.name


# ------------------------------------------------------------------------------------- good records


def aggregated(stack: LocalStack, records: int, timeout: float = 90) -> dict[tuple[str, str], dict[str, Any]]:
    """DynamoDB's items once they count at least this many records."""
    dynamodb = stack.client("dynamodb")
    deadline = time.monotonic() + timeout
    while True:
        items = actual_items(dynamodb, TABLE)
        if sum(i["RecordCount"] for i in items.values()) >= records or time.monotonic() > deadline:
            return items
        time.sleep(0.5)


def test_good_records_around_them_aggregate_exactly_as_computed_from_the_good_records_alone(
        stack: LocalStack, sent: Sent) -> None:
    items = aggregated(stack, len(sent.good))
    stream = read_stream(stack.client("kinesis"), STREAM)
    assert set(stream) == set(sent.good) | set(sent.bad)
    good = [(stream[s][0], stream[s][1] / 1000) for s in sorted(sent.good, key=int)]
    expected = expected_items(good, WINDOW_S)
    assert items == expected
    assert len({start for _, start in items}) >= 2  # several windows
    # Documented behaviour for the same record sent twice: two arrivals, both counted.
    twice = sum(i["RecordCount"] for (name, _), i in items.items() if name == DUPLICATED[1])
    assert twice == 2
    assert {json.loads(data)["Name"] for _, data, _ in TOLERATED} <= {name for name, _ in items}


def test_good_records_are_archived_with_their_values_and_bad_ones_are_not(stack: LocalStack, bucket: str,
                                                                          sent: Sent) -> None:
    archive = Archive(stack.client("s3"), bucket)
    rows = archive.wait_for("raw/", set(sent.good), timeout=90)
    by_sequence = {row["sequencenumber"]: row for _, row in rows}
    assert set(by_sequence) == set(sent.good)
    assert {row["sequencenumber"] for _, row in archive.rows("raw/")} <= set(sent.good)
    for sequence, data in sent.good.items():
        raw, row = json.loads(data), by_sequence[sequence]
        assert (row["name"], row["statustime"], row["distance"], row["healthpoints"], row["magicpoints"]) == (
            raw["Name"], raw["StatusTime"], raw["Distance"], raw["HealthPoints"], raw["MagicPoints"])
        assert (row["latitude"], row["longitude"]) == (raw["Latitude"], raw["Longitude"])


# ------------------------------------------------------------------------------------ nothing crashed


def test_nothing_crashed_nothing_failed_and_the_counts_are_where_an_operator_looks(stack: LocalStack,
                                                                                  sent: Sent) -> None:
    components = run_file(stack)["components"]
    assert {name: c["restarts"] for name, c in components.items()} == {name: 0 for name in components}
    assert {name: c["pid"] for name, c in components.items()} == {name: c["pid"] for name, c in
                                                                  sent.components.items()}
    status = stack.cli("local", "status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    assert json.loads(status.stdout)["status"] == "ok"

    sqs = stack.client("sqs")
    for queue in ("wildrydes-aggregator-dlq", "wildrydes-summary-writer-dlq"):
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
            "0", "0"), f"{queue} holds failed batches"

    # Every invocation of the functions succeeded the first time (no retries, no bisection, nothing given up).
    logs = stack.data_dir / "logs"
    lines = list(read(logs, ["lambda"]))
    invocations = [e.text for e in lines if "outcome=" in e.text]
    assert invocations
    assert [line for line in invocations if " error=" in line] == []
    assert not [e for e in lines if "gave up" in e.text or "Traceback" in e.text]
    # Each quarantined record is logged once, at ERROR, with its sequence number.
    quarantined = re.compile(r"\tquarantined record: .* \(shard \S+, sequence (\d+)\)$")
    logged = [m.group(1) for e in lines if e.level == "ERROR" and (m := quarantined.search(e.text))]
    assert sorted(logged) == sorted(sent.bad)

    # The archive transform logs each ProcessingFailed record once, at ERROR, with its sequence number.
    lines = list(read(logs, ["firehose"]))
    failed = re.compile(r"\tProcessingFailed record \S+ \(shard \S+, sequence (\d+)\): ")
    logged = [m.group(1) for e in lines if e.level == "ERROR" and (m := failed.search(e.text))]
    assert sorted(logged) == sorted(sent.bad)
    assert not [e for e in lines if "Traceback" in e.text]
    status_path = stack.data_dir / "firehose" / "status.json"

    def delivered_status() -> dict[str, Any] | None:
        # status.json is rewritten every 2 s (localaws/firehose/service.py): the last objects may be in S3 before
        # the status that counts them.
        stream = json.loads(status_path.read_text())["streams"][ARCHIVE_STREAM]
        return stream if stream["records_delivered"] >= len(sent.good) else None

    firehose = wait_for("a Firehose status.json counting every good record delivered", delivered_status, 20, stack)
    assert firehose["records_failed_by_type"] == {"processing-failed": len(sent.bad)}
    assert firehose["lambda_errors"] == 0
    assert firehose["records_delivered"] == len(sent.good)


# ----------------------------------------------------------------------- a partition key with no UTF-8 form


@pytest.fixture(scope="module")
def surrogate_sent(stack: LocalStack, sent: Sent) -> dict[str, Any]:
    """After everything else (it stops the local Firehose's shard delivery): good records around a bad record
    whose partition key is a lone surrogate."""
    around = [json.dumps({**json.loads(sent.good[min(sent.good, key=int)]), "Name": "Around-Surrogate",
                          "Distance": 10.0 + i}).encode() for i in range(3)]
    entries = [(around[0], "Around-Surrogate"), (LONE_SURROGATE_KEY.data, LONE_SURROGATE_KEY.key),
               (around[1], "Around-Surrogate"), (around[2], "Around-Surrogate")]
    acks = put_records(stack.client("kinesis"), STREAM, entries, backoff=PUT_BACKOFF)
    return {"bad": acks[1].sequence_number, "good": {acks[i].sequence_number for i in (0, 2, 3)},
            "records": len(sent.good) + 3}


def test_a_lone_surrogate_partition_key_is_quarantined_by_the_aggregator(stack: LocalStack,
                                                                         surrogate_sent: dict[str, Any]) -> None:
    messages = [m for m in quarantined(stack, {surrogate_sent["bad"]}, timeout=60)
                if m["sequenceNumber"] == surrogate_sent["bad"]]
    assert messages, "not quarantined by the aggregator"
    for message in messages:
        assert LONE_SURROGATE_KEY.reason in message["reason"]
        assert_clear(message["reason"])
        assert message["partitionKey"] == LONE_SURROGATE_KEY.key
        assert base64.b64decode(message["data"]) == LONE_SURROGATE_KEY.data
    items = aggregated(stack, surrogate_sent["records"], timeout=60)
    assert sum(i["RecordCount"] for (name, _), i in items.items() if name == "Around-Surrogate") == 3
    assert sum(i["Distance"] for (name, _), i in items.items() if name == "Around-Surrogate") == 33.0
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName="wildrydes-aggregator-dlq")["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_lone_surrogate_partition_key_reaches_the_archive_error_prefix(stack: LocalStack, bucket: str,
                                                                         surrogate_sent: dict[str, Any]) -> None:
    archive = Archive(stack.client("s3"), bucket)
    documents = archive.wait_for("errors/", {surrogate_sent["bad"]}, field_name="sequenceNumber", timeout=20)
    assert [d["partitionKey"] for _, d in documents] == [LONE_SURROGATE_KEY.key]
    rows = archive.wait_for("raw/", surrogate_sent["good"], timeout=20)
    assert {r["sequencenumber"] for _, r in rows} == surrogate_sent["good"]
