"""Kinesis ``UpdateShardCount`` on the local endpoint. kinesalite has SplitShard and MergeShards (with the
parent/child lineage Kinesis reports) but not UpdateShardCount, so the gateway performs it with them, as
Kinesis does: with UNIFORM_SCALING, the widest open shard is split at its middle until there are enough
shards, and the adjacent pair covering the least of the hash key space is merged until there are few enough.
From a uniform layout, doubling and halving give uniform layouts again.

Kinesis's limits apply: the target is at most double and at least half the open shards (and at most
``MAX_SHARDS``), as its error messages say.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

TARGET = "Kinesis_20131202."
MAX_SHARDS = 1000  # the shard limit the local kinesalite is started with

Call = Callable[[str, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]


class ScalingError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class OpenShard:
    shard_id: str
    start: int
    end: int

    @property
    def width(self) -> int:
        return self.end - self.start + 1


async def update_shard_count(call: Call, request: dict[str, Any]) -> dict[str, Any]:
    stream = request.get("StreamName") or str(request.get("StreamARN", "")).rsplit("/", 1)[-1]
    if not stream:
        raise ScalingError("ValidationException", "StreamName or StreamARN is required")
    if request.get("ScalingType") != "UNIFORM_SCALING":
        raise ScalingError("ValidationException", "1 validation error detected: Value at 'scalingType' failed "
                                                  "to satisfy constraint: Member must satisfy enum value set: "
                                                  "[UNIFORM_SCALING]")
    try:
        target = int(request["TargetShardCount"])
    except (KeyError, TypeError, ValueError):
        raise ScalingError("ValidationException", "TargetShardCount must be an integer") from None
    shards = await open_shards(call, stream)
    current = len(shards)
    if target < 1 or target > MAX_SHARDS:
        raise ScalingError("ValidationException", f"TargetShardCount must be between 1 and {MAX_SHARDS}")
    if target > 2 * current:
        raise ScalingError("ValidationException", f"UpdateShardCount cannot scale up over double your current "
                                                  f"open shard count. Current open shard count: {current} "
                                                  f"Target shard count: {target}")
    if target * 2 < current:
        raise ScalingError("ValidationException", f"UpdateShardCount cannot scale down below half your current "
                                                  f"open shard count. Current open shard count: {current} "
                                                  f"Target shard count: {target}")
    while len(shards) < target:
        widest = max(shards, key=lambda s: (s.width, -s.start))
        middle = widest.start + widest.width // 2
        await _checked(call, "SplitShard", {"StreamName": stream, "ShardToSplit": widest.shard_id,
                                            "NewStartingHashKey": str(middle)})
        await wait_active(call, stream)
        shards = await open_shards(call, stream)
    while len(shards) > target:
        pairs = [(a, b) for a, b in zip(shards, shards[1:], strict=False) if a.end + 1 == b.start]
        a, b = min(pairs, key=lambda pair: (pair[0].width + pair[1].width, pair[0].start))
        await _checked(call, "MergeShards", {"StreamName": stream, "ShardToMerge": a.shard_id,
                                             "AdjacentShardToMerge": b.shard_id})
        await wait_active(call, stream)
        shards = await open_shards(call, stream)
    summary = await _checked(call, "DescribeStreamSummary", {"StreamName": stream})
    return {"StreamName": stream, "StreamARN": summary["StreamDescriptionSummary"]["StreamARN"],
            "CurrentShardCount": current, "TargetShardCount": target}


async def open_shards(call: Call, stream: str) -> list[OpenShard]:
    shards: list[dict[str, Any]] = []
    request: dict[str, Any] = {"StreamName": stream}
    while True:
        page = await _checked(call, "ListShards", request)
        shards += page.get("Shards", [])
        token = page.get("NextToken")
        if not token:
            break
        request = {"NextToken": token}
    open_ = [OpenShard(s["ShardId"], int(s["HashKeyRange"]["StartingHashKey"]),
                       int(s["HashKeyRange"]["EndingHashKey"]))
             for s in shards if "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})]
    return sorted(open_, key=lambda s: s.start)


async def wait_active(call: Call, stream: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        summary = await _checked(call, "DescribeStreamSummary", {"StreamName": stream})
        if summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            return
        if asyncio.get_running_loop().time() > deadline:
            raise ScalingError("LimitExceededException", f"stream {stream} did not become ACTIVE", 400)
        await asyncio.sleep(0.02)


async def _checked(call: Call, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    status, payload = await call(TARGET + operation, body)
    if status != 200:
        code = str(payload.get("__type", "InternalFailure")).rsplit("#", 1)[-1]
        raise ScalingError(code, payload.get("message") or payload.get("Message") or f"{operation} failed", status)
    return payload
