"""boto3 clients shared by the handlers, created once per process (reused across invocations).

Plain ``boto3.client(service)``: region, credentials and endpoint come from the environment
(``AWS_REGION``, ``AWS_ENDPOINT_URL``...), locally as on AWS. ``reset()`` forgets them (tests that change
the environment between cases call it).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def get(service: str) -> Any:
    client = _clients.get(service)
    if client is None:
        with _lock:
            client = _clients.get(service)
            if client is None:
                client = boto3.client(service)
                _clients[service] = client
    return client


def reset() -> None:
    with _lock:
        _clients.clear()
