"""An independent computation of the per-minute aggregates from raw records and arrival times,
written from the contract (ARCHITECTURE.md), not from the aggregator's code."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any


def window_key(arrival: float, window_s: int) -> str:
    start = math.floor(arrival / window_s) * window_s
    return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%d %H:%M:%S.000")


def expected_items(records: list[tuple[bytes, float]], window_s: int) -> dict[tuple[str, str], dict[str, Any]]:
    """records: (data, approximate arrival epoch seconds) in stream order."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for data, arrival in records:
        record = json.loads(data)
        groups[(record["Name"], window_key(arrival, window_s))].append(record)
    return {
        key: {
            "Distance": math.fsum(r["Distance"] for r in rows),
            "MinHealthPoints": min(r["HealthPoints"] for r in rows),
            "MaxHealthPoints": max(r["HealthPoints"] for r in rows),
            "MinMagicPoints": min(r["MagicPoints"] for r in rows),
            "MaxMagicPoints": max(r["MagicPoints"] for r in rows),
            "RecordCount": len(rows),
        }
        for key, rows in groups.items()
    }


def actual_items(dynamodb: Any, table: str) -> dict[tuple[str, str], dict[str, Any]]:
    items: dict[tuple[str, str], dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page["Items"]:
            items[(item["Name"]["S"], item["StatusTime"]["S"])] = {
                "Distance": float(item["Distance"]["N"]),
                **{k: int(item[k]["N"]) for k in ("MinHealthPoints", "MaxHealthPoints", "MinMagicPoints",
                                                  "MaxMagicPoints", "RecordCount")},
            }
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def read_stream(kinesis: Any, stream: str) -> list[tuple[bytes, float]]:
    records: list[tuple[bytes, float]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            records.extend((r["Data"], r["ApproximateArrivalTimestamp"].timestamp()) for r in page["Records"])
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    return records
