"""The check an AWS service makes before it reads a stream with a role: may the role describe it."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

_DENIED = ("AccessDeniedException", "AccessDenied")


class StreamAccessDenied(Exception):
    """The role may not read the stream; the message names the call, as Lambda's and Firehose's do."""


def check_stream_access(kinesis: Any, stream_name: str, role_kind: str) -> None:
    """DescribeStreamSummary and DescribeStream with the role's client (``role_kind``: "execution role",
    "delivery stream role"); raises StreamAccessDenied on an access denial, ClientError on anything else."""
    calls = (("DescribeStreamSummary", lambda: kinesis.describe_stream_summary(StreamName=stream_name)),
             ("DescribeStream", lambda: kinesis.describe_stream(StreamName=stream_name, Limit=1)))
    for name, call in calls:
        try:
            call()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _DENIED:
                raise StreamAccessDenied(
                    f"The provided {role_kind} does not have permissions to call {name} on Kinesis: "
                    f"{error.response['Error'].get('Message', '')}") from None
            raise
