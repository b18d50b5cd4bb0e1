"""Completeness by identity, not by count: every record the producer had acknowledged (its ``--acks`` file of
shard id and sequence number) must be in the S3 archive exactly once, and every DynamoDB item must count exactly
the acknowledged records of its unicorn and window. A duplicate cannot hide a loss this way. DuckDB joins the
three: the acks CSV, the archive's Parquet objects (downloaded) and the table's items."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb

from bench.pipeline_probes import TABLE
from tests.support.stack import LocalStack

ARCHIVE_PREFIX = "raw/"


def download_archive(stack: LocalStack, into: Path) -> int:
    s3 = stack.client("s3")
    bucket = stack.outputs["ArchiveBucketName"]
    keys = [obj["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=ARCHIVE_PREFIX)
            for obj in page.get("Contents", [])]
    into.mkdir(parents=True, exist_ok=True)

    def fetch(numbered: tuple[int, str]) -> None:
        index, key = numbered
        (into / f"{index:06d}.parquet").write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fetch, enumerate(keys)))
    return len(keys)


def dump_items(stack: LocalStack, path: Path) -> None:
    dynamodb = stack.client("dynamodb")
    kwargs: dict[str, Any] = {"TableName": TABLE, "ProjectionExpression": "#n, WindowEnd, RecordCount",
                              "ExpressionAttributeNames": {"#n": "Name"}}
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "window_end", "record_count"])
        while True:
            page = dynamodb.scan(**kwargs)
            writer.writerows([i["Name"]["S"], i["WindowEnd"]["S"][:19].replace("T", " "), i["RecordCount"]["N"]]
                             for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def check(stack: LocalStack, acks: Path, window_s: int, work: Path) -> dict[str, Any]:
    """Counts of what differs (all 0 when nothing was lost or duplicated anywhere)."""
    objects = download_archive(stack, work / "archive")
    dump_items(stack, work / "items.csv")
    db = duckdb.connect()
    db.execute(f"CREATE VIEW acks AS SELECT * FROM read_csv('{acks}', header = true, all_varchar = true)")
    db.execute(f"CREATE VIEW archive AS SELECT name, arrivaltime, shardid, sequencenumber "
               f"FROM read_parquet('{work / 'archive'}/*.parquet')" if objects else
               "CREATE VIEW archive AS SELECT NULL::VARCHAR name, NULL::TIMESTAMP arrivaltime, "
               "NULL::VARCHAR shardid, NULL::VARCHAR sequencenumber WHERE false")
    db.execute(f"CREATE VIEW items AS SELECT name, window_end::TIMESTAMP window_end, record_count::BIGINT n "
               f"FROM read_csv('{work / 'items.csv'}', header = true, all_varchar = true)")
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    acknowledged = one("SELECT count(*) FROM acks")
    result = {
        "acknowledged": acknowledged,
        "acknowledged_distinct": one("SELECT count(*) FROM (SELECT DISTINCT shard_id, sequence_number FROM acks)"),
        "archive_objects": objects,
        "archive_rows": one("SELECT count(*) FROM archive"),
        "archive_duplicates": one("SELECT count(*) - count(DISTINCT (shardid, sequencenumber)) FROM archive"),
        "lost_in_archive": one("SELECT count(*) FROM acks a ANTI JOIN archive r "
                               "ON r.shardid = a.shard_id AND r.sequencenumber = a.sequence_number"),
        "archived_not_acknowledged": one("SELECT count(DISTINCT (shardid, sequencenumber)) FROM archive r ANTI JOIN "
                                         "acks a ON r.shardid = a.shard_id AND r.sequencenumber = a.sequence_number"),
    }
    # The windows of the stream's records (by their arrival, as Lambda's tumbling windows are), as the archive
    # recorded them, against the items' counts: a record lost or counted twice on the DynamoDB side shows here.
    expected = (f"SELECT name, make_timestamp(((floor(epoch(arrivaltime) / {window_s}) + 1) * {window_s} * 1e6)"
                "::BIGINT) window_end, count(*) n FROM (SELECT DISTINCT * FROM archive) GROUP BY ALL")
    result["dynamodb_items"] = one("SELECT count(*) FROM items")
    result["dynamodb_records_counted"] = one("SELECT coalesce(sum(n), 0) FROM items")
    result["dynamodb_items_differing"] = one(
        f"SELECT count(*) FROM ({expected}) e FULL JOIN items i ON e.name = i.name AND e.window_end = i.window_end "
        "WHERE e.n IS DISTINCT FROM i.n")
    result["ok"] = (result["acknowledged_distinct"] == acknowledged and not result["archive_duplicates"]
                    and not result["lost_in_archive"] and not result["dynamodb_items_differing"])
    return result
