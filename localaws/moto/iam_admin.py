"""What the gateway needs to authenticate and authorize a request, read from moto's IAM, STS, S3 and Cognito
state: the principal behind an access key (its secret, session token and policies), a role's trust policy, a
bucket's policy, the claims of a Cognito OpenID token. Served by the moto host under ``/_wildrydes/iam/``;
called under the state lock, because moto's request threads change these dicts."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any
from urllib.parse import unquote

from moto.cognitoidentity.models import cognitoidentity_backends
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.sts.models import sts_backends

PARTITION = "aws"
OPENID_TOKEN_SECONDS = 600  # Cognito's OpenID tokens last ten minutes


def principal(access_key_id: str) -> dict[str, Any] | None:
    """The principal an access key belongs to, or None if no IAM user or STS session has it."""
    for account_id, account in list(iam_backends.items()):
        backend = account[PARTITION]
        key = backend.access_keys.get(access_key_id)
        if key is None:
            continue
        if key.role_arn:
            session = sts_backends[account_id][PARTITION].get_assumed_role_from_access_key(access_key_id)
            if session is None:
                return None
            role = _role(backend, key.role_arn)
            return {
                "kind": "assumed-role", "arn": session.arn, "account": account_id,
                "secret": key.secret_access_key, "session_token": session.session_token,
                "expiration": _iso(session.expiration), "status": key.status, "role_arn": key.role_arn,
                "identity_policies": _role_policies(role) if role is not None else [],
                "session_policy": session.policy or None,
            }
        user = backend.users.get(key.user_name) if key.user_name else None
        if user is None:
            return None
        return {
            "kind": "user", "arn": user.arn, "account": account_id, "secret": key.secret_access_key,
            "session_token": None, "expiration": None, "status": key.status, "role_arn": None,
            "identity_policies": _user_policies(backend, user), "session_policy": None,
        }
    return None


def role(role_arn: str) -> dict[str, Any] | None:
    """A role's trust policy, or None if the role does not exist."""
    account_id = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    account = iam_backends.get(account_id) if account_id in iam_backends else None
    if account is None:
        return None
    found = _role(account[PARTITION], role_arn)
    if found is None:
        return None
    return {"arn": found.arn, "trust_policy": _document(found.assume_role_policy_document),
            "max_session_duration": int(getattr(found, "max_session_duration", 3600) or 3600)}


def bucket_policy(bucket: str) -> dict[str, Any]:
    """``{"exists": bool, "policy": document or None}``."""
    for account in list(s3_backends.values()):
        found = account[PARTITION].buckets.get(bucket)
        if found is not None:
            policy = found.policy
            if isinstance(policy, bytes):
                policy = policy.decode()
            return {"exists": True, "policy": _document(policy) if policy else None}
    return {"exists": False, "policy": None}


def web_identity(token: str, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The claims (iss, aud, sub, amr, iat, exp) of an OpenID token this endpoint's Cognito issued and that has
    not expired."""
    now = now or dt.datetime.now(dt.UTC)
    for account in list(cognitoidentity_backends.values()):
        for backend in list(account.values()):
            claims = getattr(backend, "open_id_tokens", {}).get(token)
            if claims is not None and claims["exp"] > now.timestamp():
                return claims
    return None


def issue_open_id_token(backend: Any, identity_id: str, now: dt.datetime) -> str:
    """A token carrying the identity's pool (aud), id (sub) and whether it is a guest (amr), remembered on the
    backend so the STS side can check it; deterministic under journal replay (moto's seeded random)."""
    from moto.moto_api._internal import mock_random

    pool_id = next((pool for pool, record in backend.pools_identities.items()
                    if any(i.get("IdentityId") == identity_id for i in record.get("Identities", []))), None)
    if pool_id is None:
        raise LookupError(identity_id)
    issued = int(now.timestamp())
    # the token's text leaves out the times, so that a replay (at another time) issues the same token
    claims = {"iss": "https://cognito-identity.amazonaws.com", "aud": pool_id, "sub": identity_id,
              "amr": ["unauthenticated"]}
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
    claims = {**claims, "iat": issued, "exp": issued + OPENID_TOKEN_SECONDS}
    token = f"eyJraWQiOiJsb2NhbCIsImFsZyI6IkhTMjU2In0.{body}.{mock_random.get_random_hex(43)}"
    tokens = getattr(backend, "open_id_tokens", None)
    if tokens is None:
        tokens = backend.open_id_tokens = {}
    for old in [t for t, c in tokens.items() if c["exp"] <= issued]:
        del tokens[old]
    tokens[token] = claims
    return token


def _role(backend: Any, role_arn: str) -> Any:
    name = role_arn.rsplit("/", 1)[-1]
    for candidate in list(backend.roles.values()):
        if candidate.arn == role_arn or (candidate.name == name and role_arn.endswith(f":role/{name}")):
            return candidate
    return None


def _role_policies(role: Any) -> list[Any]:
    inline = [_document(doc) for doc in list(role.policies.values())]
    return inline + [_managed(policy) for policy in list(role.managed_policies.values())]


def _user_policies(backend: Any, user: Any) -> list[Any]:
    documents = [_document(doc) for doc in list(user.policies.values())]
    documents += [_managed(policy) for policy in list(user.managed_policies.values())]
    for group in backend.get_groups_for_user(user.name):
        documents += [_document(doc) for doc in list(group.policies.values())]
        documents += [_managed(policy) for policy in list(group.managed_policies.values())]
    return documents


def _managed(policy: Any) -> Any:
    version = next((v for v in policy.versions if v.version_id == policy.default_version_id), policy.versions[0])
    return _document(version.document)


def _document(document: Any) -> Any:
    if isinstance(document, dict):
        return document
    text = str(document)
    if not text.lstrip().startswith("{"):
        text = unquote(text)
    return json.loads(text)


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat()
