"""8 concurrent writers into one shard: every acknowledged record is read back exactly once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.support.stack import LocalStack

WRITERS = 8
PER_WRITER = 7_500
BATCH = 500


def _write(stack: LocalStack, stream: str, writer: int) -> list[tuple[str, bytes]]:
    kinesis = stack.client("kinesis")
    acknowledged: list[tuple[str, bytes]] = []
    pending = [f"w{writer}-{i}".encode() for i in range(PER_WRITER)]
    while pending:
        batch, pending = pending[:BATCH], pending[BATCH:]
        while batch:
            result = kinesis.put_records(
                StreamName=stream, Records=[{"Data": d, "PartitionKey": f"w{writer}"} for d in batch]
            )
            retry = []
            for data, entry in zip(batch, result["Records"], strict=True):
                if "SequenceNumber" in entry:
                    acknowledged.append((entry["SequenceNumber"], data))
                else:
                    retry.append(data)
            batch = retry
    return acknowledged


def test_concurrent_writers_lose_nothing(local_stack: LocalStack) -> None:
    kinesis = local_stack.client("kinesis")
    stream = "concurrency"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    with ThreadPoolExecutor(WRITERS) as pool:
        acknowledged = [r for rs in pool.map(lambda w: _write(local_stack, stream, w), range(WRITERS)) for r in rs]
    assert len(acknowledged) == WRITERS * PER_WRITER

    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    read: list[tuple[str, bytes]] = []
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        read.extend((r["SequenceNumber"], r["Data"]) for r in page["Records"])
        if not page["Records"] and page["MillisBehindLatest"] == 0:
            break
        iterator = page["NextShardIterator"]

    counts = Counter(read)
    assert max(counts.values()) == 1, "a record was read more than once"
    assert set(read) == set(acknowledged)
    sequence_numbers = [int(seq) for seq, _ in read]
    assert sequence_numbers == sorted(sequence_numbers)
