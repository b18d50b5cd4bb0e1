"""``wildrydes produce --acks`` with two PutRecords lanes into two shards, on kinesalite through the endpoint.

Not in the unit tests' bare moto: moto's Kinesis numbers a record by reading the shard's highest sequence
number and adding one, so two concurrent PutRecords can share a number and one record overwrites the other.
"""

from __future__ import annotations

import argparse
import io
import uuid
from pathlib import Path

import pytest

from streaming.producer import cli
from tests.support.pipeline_checks import shard_records
from tests.support.stack import LocalStack


def test_produce_acks_lists_every_acknowledged_record_by_identity(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key, value in local_stack.env.items():
        monkeypatch.setenv(key, value)
    stream = f"acks-{uuid.uuid4().hex[:8]}"
    kinesis = local_stack.client("kinesis")
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})

    parser = argparse.ArgumentParser()
    cli.configure_parser(parser)
    acks = tmp_path / "acks.csv"
    args = parser.parse_args(["--count", "240", "--seed", "4", "--stream", stream, "--rate", "1000",
                              "--in-flight", "2", "--acks", str(acks)])
    assert cli.run_produce(args, io.StringIO(), io.StringIO()) == 0

    header, *lines = acks.read_text().splitlines()
    assert header == "shard_id,sequence_number"
    listed = [tuple(line.split(",")) for line in lines]
    assert len(listed) == len(set(listed)) == 240
    stored = [(shard["ShardId"], r["SequenceNumber"]) for shard in kinesis.list_shards(StreamName=stream)["Shards"]
              for r in shard_records(kinesis, stream, shard["ShardId"])]
    assert len(stored) == len(set(stored)) == 240
    assert set(listed) == set(stored)
    assert {shard for shard, _ in listed} == {s["ShardId"] for s in kinesis.list_shards(StreamName=stream)["Shards"]}
