"""Adjustments to moto for its role behind the local endpoint. Applied once, in the moto host only.

1. Determinism: S3 multipart upload ids come from ``os.urandom``; they are drawn from moto's seeded
   generator instead, so replaying the journal with the recorded random state regenerates them.
2. Kinesis event sources: moto's Lambda accepts an event source mapping on a Kinesis stream only if
   the stream lives in moto's own Kinesis backend. Behind the endpoint Kinesis is kinesalite, so a
   Kinesis ARN is accepted as given (the local Lambda runtime validates the stream when it polls).
3. Policy conditions: moto evaluates a condition on a key the request does not carry (no value for
   ``aws:SecureTransport``, say) as true, so the template's "deny non-TLS" bucket policy denies every
   object write. In IAM's evaluation logic such a condition is false and the statement does not apply.
4. Identity pool roles: moto implements neither SetIdentityPoolRoles nor GetIdentityPoolRoles (its server
   answers 501), so the template's role attachment could not be deployed. They keep the roles and role
   mappings on the pool, as Cognito does.
5. Identity pool flows: moto drops ``AllowClassicFlow`` (the basic flow the map uses); it is kept and described.
6. STS sessions: moto draws session tokens from ``os.urandom``; they come from the seeded generator, so that
   the journal's replay of an AssumeRole gives back the same credentials the caller holds.
7. OpenID tokens: moto's GetOpenIdToken returns a random id that names no identity; it returns a token
   carrying the identity's pool and guest status (localaws/moto/iam_admin.py), which the gateway checks
   before AssumeRoleWithWebIdentity, as STS checks Cognito's signature.
8. Invoke's DryRun: moto runs the function (in Docker, which is not here) before answering 204; it answers
   204 for a function that exists without running it, as Lambda does (the local Firehose asks whether its
   role may invoke the processing function).
9. Log retention: moto keeps every log event in memory (and so in each snapshot); a stream keeps its last
   ``LOG_EVENTS_KEPT`` events, so a long run's function logs do not grow the state without bound.
10. Request routing: moto's server lists its own package directory (a listdir and ~180 stats) twice for
   every request to tell a service name from a host name; that list cannot change while the process runs,
   so it is read once. It was a third of moto's time per S3 PutObject.
"""

from __future__ import annotations

import functools
import json
import types
from datetime import UTC
from typing import Any

from moto import backends as moto_backends
from moto.awslambda import models as lambda_models
from moto.awslambda import responses as lambda_responses_module
from moto.cognitoidentity import models as cognito_models
from moto.cognitoidentity import responses as cognito_responses
from moto.core.exceptions import JsonRESTError as RESTError
from moto.iam import access_control
from moto.logs import models as logs_models
from moto.moto_api._internal import mock_random
from moto.s3 import models as s3_models
from moto.sts import models as sts_models
from moto.sts.utils import SESSION_TOKEN_PREFIX

from localaws.moto import iam_admin


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


def _conditions_gate(original: Any) -> Any:
    def is_action_permitted(self: access_control.IAMPolicyStatement, action: str, resource: str = "*",
                            principal: str | None = None,
                            incoming_condition_values: dict[str, str] | None = None) -> Any:
        conditions = self._statement.get("Condition") or {}
        known = incoming_condition_values or {}
        for operator, tests in conditions.items():
            # IAM: a condition on a key the request does not carry is false (except ...IfExists and
            # Null), so the statement does not apply. moto evaluates it as true.
            if operator.endswith("IfExists") or operator == "Null":
                continue
            if any(key not in known for key in tests):
                return access_control.PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    return is_action_permitted


def _identity_pool(response: Any) -> Any:
    from moto.cognitoidentity.exceptions import ResourceNotFoundError

    pool_id = response._get_param("IdentityPoolId")
    pool = response.backend.identity_pools.get(pool_id)
    if pool is None:
        raise ResourceNotFoundError(pool_id)
    return pool


def _set_identity_pool_roles(self: Any) -> str:
    pool = _identity_pool(self)
    pool.roles = dict(self._get_param("Roles") or {})
    pool.role_mappings = dict(self._get_param("RoleMappings") or {})
    return ""


def _get_identity_pool_roles(self: Any) -> str:
    pool = _identity_pool(self)
    mappings = getattr(pool, "role_mappings", {})
    return json.dumps({"IdentityPoolId": pool.identity_pool_id, "Roles": getattr(pool, "roles", {}),
                       **({"RoleMappings": mappings} if mappings else {})})


def _keeping_classic_flow(original: Any) -> Any:
    def create_or_update(self: Any) -> str:
        described = json.loads(original(self))
        pool = self.backend.identity_pools[described["IdentityPoolId"]]
        pool.allow_classic_flow = bool(self._get_param("AllowClassicFlow", False))
        return pool.to_json()

    return create_or_update


def _describing_classic_flow(original: Any) -> Any:
    def to_json(self: Any) -> str:
        classic = getattr(self, "allow_classic_flow", False)
        return json.dumps({**json.loads(original(self)), "AllowClassicFlow": classic})

    return to_json


def _seeded_session_token() -> str:
    import base64

    raw = mock_random.getrandbits(8 * 266).to_bytes(266, "big")
    return SESSION_TOKEN_PREFIX + base64.b64encode(raw)[len(SESSION_TOKEN_PREFIX):].decode()


def _get_open_id_token(self: Any) -> str:
    from moto.cognitoidentity.exceptions import ResourceNotFoundError
    from moto.core.utils import utcnow

    identity_id = self._get_param("IdentityId") or ""
    try:
        token = iam_admin.issue_open_id_token(self.backend, identity_id, utcnow().replace(tzinfo=UTC))
    except LookupError:
        raise ResourceNotFoundError(identity_id) from None
    return json.dumps({"IdentityId": identity_id, "Token": token})


def _dry_run_without_running(original: Any) -> Any:
    def invoke(self: Any) -> Any:
        if self.headers.get("X-Amz-Invocation-Type") != "DryRun":
            return original(self)
        from urllib.parse import unquote

        name = unquote(self.path.rsplit("/", 2)[-2])
        self.backend.get_function(name, self._get_param("qualifier"))  # ResourceNotFoundException if missing
        return 204, {"status": "204"}, b""

    return invoke


LOG_EVENTS_KEPT = 10_000


def _keeping_recent_events(original: Any) -> Any:
    def put_log_events(self: Any, log_events: list[dict[str, Any]]) -> Any:
        result = original(self, log_events)
        if len(self.events) > LOG_EVENTS_KEPT:
            del self.events[: len(self.events) - LOG_EVENTS_KEPT]
        return result

    return put_log_events


_applied = False


def _listed_once(original: Any) -> Any:
    modules = functools.cache(lambda: frozenset(original()))
    return lambda: modules()


def apply() -> None:
    global _applied
    if _applied:
        return
    s3_models.os = _seeded_os()  # type: ignore[attr-defined]
    backend = lambda_models.LambdaBackend
    backend.create_event_source_mapping = _create_event_source_mapping(  # type: ignore[method-assign]
        backend.create_event_source_mapping
    )
    statement = access_control.IAMPolicyStatement
    statement.is_action_permitted = _conditions_gate(statement.is_action_permitted)  # type: ignore[method-assign]
    identity = cognito_responses.CognitoIdentityResponse
    identity.set_identity_pool_roles = _set_identity_pool_roles  # type: ignore[attr-defined]
    identity.get_identity_pool_roles = _get_identity_pool_roles  # type: ignore[attr-defined]
    identity.create_identity_pool = _keeping_classic_flow(identity.create_identity_pool)  # type: ignore[method-assign]
    identity.update_identity_pool = _keeping_classic_flow(identity.update_identity_pool)  # type: ignore[method-assign]
    pool_model = cognito_models.CognitoIdentityPool
    pool_model.to_json = _describing_classic_flow(pool_model.to_json)  # type: ignore[method-assign]
    sts_models.random_session_token = _seeded_session_token  # type: ignore[attr-defined]
    identity.get_open_id_token = _get_open_id_token  # type: ignore[method-assign]
    log_stream = logs_models.LogStream
    log_stream.put_log_events = _keeping_recent_events(log_stream.put_log_events)  # type: ignore[method-assign]
    lambda_responses = lambda_responses_module.LambdaResponse
    lambda_responses.invoke = _dry_run_without_running(lambda_responses.invoke)  # type: ignore[method-assign]
    moto_backends.list_of_moto_modules = _listed_once(moto_backends.list_of_moto_modules)  # type: ignore[assignment]
    _applied = True
