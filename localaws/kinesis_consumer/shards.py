"""Which shards of a stream a consumer starts, and when: in AWS's order after a reshard, a child shard is read
only once its parents have been read to their end."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

LIST_SHARDS_EVERY_S = 2.0  # how often a consumer lists the shards again to pick up children of a reshard


def ready_shards(shards: list[dict[str, Any]], started: Container[str], finished: set[str]) -> list[str]:
    """The ids of the listed shards (ListShards' ``Shards``) to start now, in listed order: neither started nor
    finished, and each parent finished."""
    listed = {s["ShardId"] for s in shards}
    ready: list[str] = []
    for shard in shards:
        shard_id = shard["ShardId"]
        if shard_id in started or shard_id in finished:
            continue
        parents = [p for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")) if p]
        # A parent no longer listed has been trimmed away; one still listed must be finished first.
        if any(p in listed and p not in finished for p in parents):
            continue
        ready.append(shard_id)
    return ready
