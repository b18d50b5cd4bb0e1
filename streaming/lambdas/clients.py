"""boto3 clients shared by the handlers, created once per process (reused across invocations).

Plain ``boto3.client(service)``: region, credentials and endpoint come from the environment
(``AWS_REGION``, ``AWS_ENDPOINT_URL``...), locally as on AWS. ``validate=False`` skips botocore's client-side
parameter validation, for a hot path whose requests the code builds itself (the service still validates
every request): it is a fifth of the client's CPU per PutItem. ``reset()`` forgets them (tests that change
the environment between cases call it).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()
_clients: dict[tuple[str, bool], Any] = {}


def get(service: str, validate: bool = True) -> Any:
    key = (service, validate)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = boto3.client(service, config=Config(parameter_validation=validate))
                _clients[key] = client
    return client


def reset() -> None:
    with _lock:
        _clients.clear()
