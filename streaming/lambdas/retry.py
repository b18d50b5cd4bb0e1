"""Bounded exponential backoff with full jitter, and the classification of retryable AWS errors."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "LimitExceededException",
        "KMSThrottlingException",
        "RequestThrottled",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "SlowDown",
    }
)
TRANSPORT_ERRORS = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ConnectTimeoutError)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    """Throttling, 5xx and transport failures are worth retrying; anything else is not."""
    if isinstance(exc, TRANSPORT_ERRORS):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
        return error_code(exc) in RETRYABLE_CODES or status >= 500
    return False


@dataclass(frozen=True)
class Backoff:
    """``attempts`` tries in all; the wait before retry n is uniform(0, min(cap, base * 2**n))."""

    attempts: int = 6
    base: float = 0.05
    cap: float = 2.0

    def delay(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        return rng() * min(self.cap, self.base * (2**retry))

    def worst_case_total(self) -> float:
        return sum(min(self.cap, self.base * (2**n)) for n in range(self.attempts - 1))


def sleep_until(deadline: float | None, seconds: float, sleep: Callable[[float], None] = time.sleep) -> bool:
    """Sleep ``seconds`` unless that passes ``deadline`` (monotonic); return False if out of time."""
    if deadline is not None and time.monotonic() + seconds > deadline:
        return False
    if seconds > 0:
        sleep(seconds)
    return True
