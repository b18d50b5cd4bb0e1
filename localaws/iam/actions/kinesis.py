"""Kinesis: the stream, consumer or other resource ARN of each operation (GetRecords through its iterator)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localaws.iam.actions.model import Access, IteratorResolver, RequestInfo, make_arn, one
from localaws.iam.actions.parsing import member_str

_KINESIS_CONSUMER_OPS = frozenset({"DescribeStreamConsumer", "DeregisterStreamConsumer", "SubscribeToShard"})
_KINESIS_STAR = frozenset({"ListStreams", "DescribeLimits", "DescribeAccountSettings", "UpdateAccountSettings"})


def _kinesis_stream(request: RequestInfo, params: Mapping[str, Any]) -> str | None:
    arn = member_str(params, "StreamARN")
    if arn:
        return arn
    name = member_str(params, "StreamName")
    return make_arn("kinesis", request.region, request.account, f"stream/{name}") if name else None


def kinesis_accesses(
    request: RequestInfo, operation: str, params: Mapping[str, Any], stream_of_iterator: IteratorResolver | None
) -> list[Access]:
    action = f"kinesis:{operation}"
    if operation in _KINESIS_STAR:
        return one(action)
    stream = _kinesis_stream(request, params)
    if operation == "GetRecords" and stream is None:
        iterator = member_str(params, "ShardIterator")
        name = stream_of_iterator(iterator) if iterator and stream_of_iterator else None
        if name:
            stream = name if name.startswith("arn:") else make_arn("kinesis", request.region, request.account,
                                                                f"stream/{name}")
        else:  # undeterminable: a policy granting GetRecords on one named stream does not match this
            stream = make_arn("kinesis", request.region, request.account, "stream/*")
        return one(action, stream)
    if operation in _KINESIS_CONSUMER_OPS:
        consumer = member_str(params, "ConsumerARN")
        name = member_str(params, "ConsumerName")
        if consumer:
            return one(action, consumer)
        if stream and name:
            return one(action, f"{stream}/consumer/{name}:*")
        return one(action)
    for key in ("ResourceARN", "QueueARN", "ChannelARN"):
        arn = member_str(params, key)
        if arn:
            return one(action, arn)
    return one(action, stream) if stream else one(action)
