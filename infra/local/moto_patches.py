"""Adjustments to moto for its role behind the local endpoint. Applied once, in the moto host only.

1. Determinism: S3 multipart upload ids come from ``os.urandom``; they are drawn from moto's seeded
   generator instead, so replaying the journal with the recorded random state regenerates them.
2. Kinesis event sources: moto's Lambda accepts an event source mapping on a Kinesis stream only if
   the stream lives in moto's own Kinesis backend. Behind the endpoint Kinesis is kinesalite, so a
   Kinesis ARN is accepted as given (the local Lambda runtime validates the stream when it polls).
"""

from __future__ import annotations

import types
from typing import Any

from moto.awslambda import models as lambda_models
from moto.core.exceptions import JsonRESTError as RESTError
from moto.moto_api._internal import mock_random
from moto.s3 import models as s3_models


def _seeded_os() -> types.SimpleNamespace:
    import os

    namespace = {name: getattr(os, name) for name in dir(os) if not name.startswith("__")}
    namespace["urandom"] = lambda n: mock_random.getrandbits(8 * n).to_bytes(n, "big")
    return types.SimpleNamespace(**namespace)


def _create_event_source_mapping(original: Any) -> Any:
    def create(self: lambda_models.LambdaBackend, spec: dict[str, Any]) -> Any:
        try:
            return original(self, spec)
        except RESTError as error:
            arn = spec.get("EventSourceArn", "")
            if error.error_type != "ResourceNotFoundException" or ":kinesis:" not in arn:
                raise
        func = self._lambdas.get_function_by_name_or_arn_with_qualifier(spec["FunctionName"])
        spec.update({"FunctionArn": func.function_arn})
        esm = lambda_models.EventSourceMapping(spec)
        self._event_source_mappings[esm.uuid] = esm
        return esm

    return create


_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    s3_models.os = _seeded_os()  # type: ignore[attr-defined]
    backend = lambda_models.LambdaBackend
    backend.create_event_source_mapping = _create_event_source_mapping(  # type: ignore[method-assign]
        backend.create_event_source_mapping
    )
    _applied = True
