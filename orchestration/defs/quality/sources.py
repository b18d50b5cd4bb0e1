"""The two sides of a reconciliation, for one hour: the archive's aggregates computed by Athena over the
raw table's partition, and DynamoDB's items for the hour's windows."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestration.defs.quality.compare import Aggregate, Key

QUERY_WORKERS = 16
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.000"


@functools.lru_cache(maxsize=4096)
def window_label(epoch_s: int) -> str:
    """``YYYY-MM-DD HH:MM:SS.000`` (UTC), as DynamoDB's StatusTime. Cached: an hour has 60 windows, the archive
    side 60,000 rows."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime(TIME_FORMAT)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def archive_sql(database: str, table: str, dt: str, hour: str, window_s: int) -> str:
    """Per (name, window) aggregates of one (dt, hour) partition, each Kinesis record counted once: a record
    Firehose delivered twice has the same (shard, sequence number) and the same values, so grouping on
    that key first removes the copies (a hash aggregate: cheaper than a window function over the hour)."""
    return f"""
with records as (
    select min(name) as name, min(arrivaltime) as arrivaltime, min(distance) as distance,
           min(healthpoints) as healthpoints, min(magicpoints) as magicpoints
    from {_quote(database)}.{_quote(table)}
    where dt = '{dt}' and hour = '{hour}'
    group by shardid, sequencenumber
)
select name,
       cast(floor(to_unixtime(arrivaltime) / {window_s}) * {window_s} as bigint) as window_epoch,
       sum(distance) as distance,
       min(healthpoints) as min_health,
       max(healthpoints) as max_health,
       min(magicpoints) as min_magic,
       max(magicpoints) as max_magic,
       count(*) as record_count
from records
group by 1, 2
""".strip()


def names_sql(database: str, table: str, days: list[str]) -> str:
    listed = ", ".join(f"'{d}'" for d in days)
    return f"select distinct name from {_quote(database)}.{_quote(table)} where dt in ({listed})"


def archive_aggregates(rows: list[dict[str, str | None]]) -> dict[Key, Aggregate]:
    out: dict[Key, Aggregate] = {}
    for row in rows:
        key = (str(row["name"]), window_label(int(float(row["window_epoch"] or 0))))
        out[key] = {
            "Distance": float(row["distance"] or 0),
            "MinHealthPoints": int(row["min_health"] or 0),
            "MaxHealthPoints": int(row["max_health"] or 0),
            "MinMagicPoints": int(row["min_magic"] or 0),
            "MaxMagicPoints": int(row["max_magic"] or 0),
            "RecordCount": int(row["record_count"] or 0),
        }
    return out


def neighbour_days(hour_start: datetime) -> list[str]:
    return sorted({f"{hour_start + timedelta(days=d):%Y-%m-%d}" for d in (-1, 0, 1)})


def _item(item: dict[str, Any]) -> Aggregate:
    return {
        "Distance": float(item["Distance"]["N"]),
        **{f: int(item[f]["N"]) for f in ("MinHealthPoints", "MaxHealthPoints", "MinMagicPoints",
                                          "MaxMagicPoints", "RecordCount") if f in item},
    }


def dynamodb_items(dynamodb: Any, table: str, names: set[str], hour_start: datetime,
                   workers: int = QUERY_WORKERS) -> dict[Key, Aggregate]:
    """The items of the hour's windows for each name: one Query per unicorn (key condition on the sort
    key StatusTime), run in parallel. Names come from the archive around the hour."""
    low = hour_start.strftime(TIME_FORMAT)
    high = (hour_start + timedelta(hours=1)).strftime(TIME_FORMAT)

    def query(name: str) -> list[tuple[Key, Aggregate]]:
        out: list[tuple[Key, Aggregate]] = []
        kwargs: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "#n = :n AND #t BETWEEN :lo AND :hi",
            "ExpressionAttributeNames": {"#n": "Name", "#t": "StatusTime"},
            "ExpressionAttributeValues": {":n": {"S": name}, ":lo": {"S": low}, ":hi": {"S": high}},
            "ProjectionExpression": "StatusTime, Distance, MinHealthPoints, MaxHealthPoints, MinMagicPoints, "
                                    "MaxMagicPoints, RecordCount",
        }
        while True:
            page = dynamodb.query(**kwargs)
            for item in page["Items"]:
                status_time = item["StatusTime"]["S"]
                if status_time < high:  # BETWEEN is inclusive; the next hour's first window is not ours
                    out.append(((name, status_time), _item(item)))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return {key: value for chunk in pool.map(query, sorted(names)) for key, value in chunk}


Runner = Callable[[str], list[dict[str, str | None]]]
