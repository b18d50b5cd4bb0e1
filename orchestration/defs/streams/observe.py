"""Observations of the external assets (cheap calls, no data pages read)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

SCAN_SEGMENTS = 4


def stream_summary(kinesis: Any, stream: str) -> dict[str, Any]:
    summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    return {
        "stream": stream,
        "status": summary.get("StreamStatus"),
        "open_shards": summary.get("OpenShardCount"),
        "retention_hours": summary.get("RetentionPeriodHours"),
    }


def table_summary(dynamodb: Any, table: str, segments: int = SCAN_SEGMENTS) -> dict[str, Any]:
    """Item count and newest window (largest StatusTime) by a parallel, key-only scan."""

    def scan(segment: int) -> tuple[int, str]:
        count, newest = 0, ""
        kwargs: dict[str, Any] = {"TableName": table, "ProjectionExpression": "StatusTime",
                                  "Segment": segment, "TotalSegments": segments}
        while True:
            page = dynamodb.scan(**kwargs)
            count += page.get("Count", 0)
            for item in page.get("Items", []):
                value = item["StatusTime"]["S"]
                if value > newest:
                    newest = value
            if "LastEvaluatedKey" not in page:
                return count, newest
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(max_workers=segments) as pool:
        results = list(pool.map(scan, range(segments)))
    return {
        "table": table,
        "item_count": sum(c for c, _ in results),
        "newest_window": max((n for _, n in results), default="") or None,
    }


def archive_summary(s3: Any, bucket: str) -> dict[str, Any]:
    """The newest dt/hour prefix under raw/ and how many days the archive spans."""
    from orchestration.defs.archive.inventory import list_common_prefixes

    days = sorted(list_common_prefixes(s3, bucket, "raw/"))
    newest = None
    if days:
        hours = sorted(list_common_prefixes(s3, bucket, days[-1]))
        newest = (hours[-1] if hours else days[-1]).removeprefix("raw/").rstrip("/")
    return {"bucket": bucket, "days": len(days), "newest_partition": newest}
