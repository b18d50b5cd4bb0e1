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
"""

from __future__ import annotations

import json
import types
from typing import Any

from moto.awslambda import models as lambda_models
from moto.cognitoidentity import models as cognito_models
from moto.cognitoidentity import responses as cognito_responses
from moto.core.exceptions import JsonRESTError as RESTError
from moto.iam import access_control
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
    statement = access_control.IAMPolicyStatement
    statement.is_action_permitted = _conditions_gate(statement.is_action_permitted)  # type: ignore[method-assign]
    identity = cognito_responses.CognitoIdentityResponse
    identity.set_identity_pool_roles = _set_identity_pool_roles  # type: ignore[attr-defined]
    identity.get_identity_pool_roles = _get_identity_pool_roles  # type: ignore[attr-defined]
    identity.create_identity_pool = _keeping_classic_flow(identity.create_identity_pool)  # type: ignore[method-assign]
    identity.update_identity_pool = _keeping_classic_flow(identity.update_identity_pool)  # type: ignore[method-assign]
    pool_model = cognito_models.CognitoIdentityPool
    pool_model.to_json = _describing_classic_flow(pool_model.to_json)  # type: ignore[method-assign]
    _applied = True
