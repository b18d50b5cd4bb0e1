"""Who signed a request to the local endpoint, and whether that principal may make it.

Each request's SigV4 signature is checked against the secret of the key that signed it (localaws/iam/sigv4.py);
its IAM action and resources (localaws/iam/actions/) are evaluated against the principal's identity
policies, the bucket policy for S3 and the role's trust policy for STS (localaws/iam/policy.py). Principals:

* the admin key (``test``/``test``) is the account's root: signature checked, every action allowed;
* a key whose id is a service principal's name (``lambda.amazonaws.com``) is that service: it may only assume
  the roles that trust it (the local Lambda runtime and Firehose do their work with those roles' sessions);
* any other key is looked up in moto's IAM and STS state (an IAM user's key, a role session's ASIA key).

Modes: ``enforce`` refuses what AWS would refuse; ``audit`` lets it through and records it; ``off`` checks
nothing. Denials are logged with principal, action, resource and reason, and counted for ``local status``.
``aws:SecureTransport`` is "true": the endpoint serves loopback only, where TLS adds nothing, and the
template's deny-non-TLS bucket policies would otherwise refuse every object.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web

from localaws.iam.actions import Access, RequestInfo, UnmappedRequest, accesses, is_public, kinesalite_iterator_stream
from localaws.iam.policy import Decision, Principal, evaluate, parse_document, trust_allows
from localaws.iam.sigv4 import SignatureError, parse_signature, verify
from localaws.wire.errors import ErrorResponse, auth_error

log = logging.getLogger("wildrydes.gateway.iam")

MODES = ("enforce", "audit", "off")
ADMIN_KEY = "test"
ADMIN_SECRET = "test"
SERVICE_SECRET = "test"
CACHE_SECONDS = 30.0
_IAM_READS = ("Get", "List", "Simulate", "Generate")
_SIGNATURE_PROBLEMS = {
    "MissingAuthenticationToken": "missing", "IncompleteSignature": "malformed",
    "SignatureDoesNotMatch": "bad-signature", "RequestExpired": "request-expired",
    "XAmzContentSHA256Mismatch": "payload-hash",
}
ANONYMOUS = Principal(arn="anonymous", account="", kind="anonymous")


@dataclass
class Caller:
    principal: Principal
    identity_policies: list[dict[str, Any]] = field(default_factory=list)
    session_policy: dict[str, Any] | None = None
    secret: str = ""
    session_token: str | None = None
    expiration: dt.datetime | None = None
    active: bool = True


@dataclass(frozen=True)
class Denial:
    at: float
    principal: str
    action: str
    resource: str
    reason: str
    enforced: bool

    def describe(self) -> dict[str, Any]:
        return {"at": self.at, "principal": self.principal, "action": self.action, "resource": self.resource,
                "reason": self.reason, "enforced": self.enforced}


class Authorizer:
    def __init__(self, mode: str, moto_url: str, account: str, region: str) -> None:
        self.mode = "off"
        self.set_mode(mode)
        self.moto_url = moto_url
        self.account = account
        self.region = region
        self.session: aiohttp.ClientSession | None = None
        self._callers: dict[str, tuple[float, Caller | None]] = {}
        self._lookups: dict[tuple[str, str], tuple[float, Any]] = {}
        self._decisions: dict[tuple[Any, ...], tuple[float, Decision]] = {}
        self.denials: deque[Denial] = deque(maxlen=100)
        self.denied = Counter[str]()
        self.refused = Counter[str]()  # authentication failures by problem
        self.checked = 0

    def set_mode(self, mode: object) -> None:
        if mode not in MODES:
            raise ValueError(f"the IAM mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = str(mode)

    # ---- the check ---------------------------------------------------------------------------------------
    async def check(self, request: web.Request, service: str, operation: str | None, protocol: str,
                    body: bytes) -> ErrorResponse | None:
        """None when the request may go on; else the error to answer with (``audit``: always None)."""
        if self.mode == "off":
            return None
        self.checked += 1
        head = request.method == "HEAD"
        info = RequestInfo(service=service, operation=operation, method=request.method,
                           path=request.raw_path.split("?", 1)[0], query=request.query_string,
                           headers={k.lower(): v for k, v in request.headers.items()}, body=body,
                           region=self.region, account=self.account, host=request.headers.get("Host", ""))
        if operation and is_public(service, operation):
            if service == "sts" and operation == "AssumeRoleWithWebIdentity":
                return await self._web_identity(info, protocol)
            return None
        headers = list(request.headers.items())
        try:
            signed = parse_signature(request.raw_path, headers)
        except SignatureError as error:
            return self._refuse(service, protocol, _SIGNATURE_PROBLEMS.get(error.code, "malformed"), error.message,
                                head)
        caller: Caller
        region = self.region
        if signed is None:
            if service != "s3":
                return self._refuse(service, protocol, "missing", "Missing Authentication Token", head)
            caller = Caller(ANONYMOUS)
        else:
            region = signed.region
            found = await self._caller(signed.access_key)
            if found is None or not found.active:
                return self._refuse(service, protocol, "unknown-key", _unknown_key_message(service), head)
            try:
                verify(signed, found.secret, request.method, request.raw_path, headers, body,
                       dt.datetime.now(dt.UTC))
            except SignatureError as error:
                return self._refuse(service, protocol, _SIGNATURE_PROBLEMS.get(error.code, "bad-signature"),
                                    error.message, head)
            if found.session_token is not None and signed.session_token != found.session_token:
                return self._refuse(service, protocol, "bad-token",
                                    "The security token included in the request is invalid.", head)
            if found.expiration is not None and found.expiration <= dt.datetime.now(dt.UTC):
                return self._refuse(service, protocol, "expired-token",
                                    "The security token included in the request is expired", head)
            caller = found
        if caller.principal.kind == "root":
            return None
        try:
            needed = accesses(info, stream_of_iterator=kinesalite_iterator_stream)
        except UnmappedRequest as error:
            return self._deny(service, protocol, head, caller, operation or request.method, request.path,
                              f"the local endpoint cannot tell which IAM action this request needs ({error})")
        context = self._context(request, caller, region)
        for access in needed:
            decision = await self._decide(caller, access, {**context, **access.context})
            if not decision.allowed:
                resource = decision.resource or (access.resources[0] if access.resources else "*")
                message = decision.message(caller.principal.arn, access.action, resource)
                explained = message + (f" (statement {decision.statement})" if decision.statement else "")
                return self._deny(service, protocol, head, caller, access.action, resource, message, explained)
        return None

    async def _decide(self, caller: Caller, access: Access, context: dict[str, Any]) -> Decision:
        key = (caller.principal.arn, caller.session_token, access.action, access.resources,
               tuple(sorted((k, str(v)) for k, v in access.context.items())))
        cached = self._decisions.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = caller.principal
        if access.action.lower() in ("sts:assumerole", "sts:tagsession", "sts:setsourceidentity"):
            decision = await self._assume_role(caller, access, context)
        elif principal.kind == "service":  # a service principal does its work through role sessions only
            decision = evaluate(access.action, access.resources, context, principal=principal,
                                identity_policies=[])
        else:
            resource_policy = await self._resource_policy(access)
            decision = evaluate(access.action, access.resources, context, principal=principal,
                                identity_policies=caller.identity_policies, resource_policy=resource_policy,
                                session_policy=caller.session_policy)
        self._decisions[key] = (now + CACHE_SECONDS, decision)
        return decision

    async def _assume_role(self, caller: Caller, access: Access, context: dict[str, Any]) -> Decision:
        """The role's trust policy must let the caller in; a user or role session also needs an identity
        policy allowing sts:AssumeRole (a service principal has none)."""
        role_arn = access.resources[0] if access.resources else ""
        role = await self._lookup("role", "RoleArn", role_arn)
        if role is None:
            return Decision(allowed=False, reason="implicit-deny", policy_type="resource-based", statement=None,
                            resource=role_arn)
        trusted = trust_allows(role["trust_policy"], caller.principal, access.action, context)
        if not trusted.allowed or caller.principal.kind == "service":
            return trusted
        return evaluate(access.action, access.resources, context, principal=caller.principal,
                        identity_policies=caller.identity_policies, session_policy=caller.session_policy)

    async def _resource_policy(self, access: Access) -> dict[str, Any] | None:
        if not access.action.lower().startswith("s3:") or not access.resources:
            return None
        arn = access.resources[0]
        if not arn.startswith("arn:aws:s3:::"):
            return None
        bucket = arn.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        found = await self._lookup("bucket-policy", "Bucket", bucket)
        if not found or not found.get("policy"):
            return None
        return parse_document(found["policy"])

    async def _web_identity(self, info: RequestInfo, protocol: str) -> ErrorResponse | None:
        """AssumeRoleWithWebIdentity is unsigned: STS checks the token and the role's trust policy instead."""
        params = {k: v[0] for k, v in parse_qs(info.body.decode("utf-8", "replace")).items()}
        claims = await self._lookup("web-identity", "Token", params.get("WebIdentityToken", ""))
        if claims is None:
            return self._refuse("sts", protocol, "invalid-identity-token",
                                "The ID Token provided is not a valid token issued by this endpoint's Cognito, "
                                "or it has expired.", False)
        issuer = "cognito-identity.amazonaws.com"
        principal = Principal(arn=f"arn:aws:sts::{self.account}:federated-user/{claims['sub']}", account=self.account,
                              kind="federated", federated=issuer)
        role_arn = params.get("RoleArn", "")
        role = await self._lookup("role", "RoleArn", role_arn)
        context = {f"{issuer}:aud": claims["aud"], f"{issuer}:sub": claims["sub"], f"{issuer}:amr": claims["amr"],
                   "aws:SecureTransport": "true"}
        decision = (trust_allows(role["trust_policy"], principal, "sts:AssumeRoleWithWebIdentity", context)
                    if role is not None else None)
        if decision is None or not decision.allowed:
            message = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
            self._record(principal.arn, "sts:AssumeRoleWithWebIdentity", role_arn, "the role's trust policy "
                         "does not allow this identity" if role is not None else "no such role")
            return None if self.mode == "audit" else auth_error("sts", protocol, "denied", message)
        return None

    # ---- principals and policies from moto -----------------------------------------------------------------
    async def _caller(self, access_key: str) -> Caller | None:
        if access_key == ADMIN_KEY:
            return Caller(Principal(arn=f"arn:aws:iam::{self.account}:root", account=self.account, kind="root"),
                          secret=ADMIN_SECRET)
        if access_key.endswith(".amazonaws.com"):
            return Caller(Principal(arn=access_key, account="", kind="service", service=access_key),
                          secret=SERVICE_SECRET)
        now = time.monotonic()
        cached = self._callers.get(access_key)
        if cached is not None and cached[0] > now:
            return cached[1]
        record = await self._fetch("principal", "AccessKeyId", access_key)
        caller = _caller_of(record) if record else None
        self._callers[access_key] = (now + CACHE_SECONDS, caller)
        return caller

    async def _lookup(self, what: str, name: str, value: str) -> Any:
        now = time.monotonic()
        cached = self._lookups.get((what, value))
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self._fetch(what, name, value)
        self._lookups[(what, value)] = (now + CACHE_SECONDS, found)
        return found

    async def _fetch(self, what: str, name: str, value: str) -> Any:
        assert self.session is not None
        async with self.session.get(f"{self.moto_url}/_wildrydes/iam/{what}", params={name: value},
                                    timeout=aiohttp.ClientTimeout(total=10)) as response:
            payload = json.loads(await response.read() or b"null")
            return payload if response.status == 200 else None

    def invalidate(self) -> None:
        """Forget every cached principal, policy and decision (after IAM or a bucket policy changed)."""
        self._callers.clear()
        self._lookups.clear()
        self._decisions.clear()

    def after(self, service: str, operation: str | None, status: int) -> None:
        """Called with each forwarded request's status: a successful change of IAM, a bucket policy or a
        role session's store invalidates the caches."""
        if self.mode == "off" or status >= 300:
            return
        if (service == "iam" and operation and not operation.startswith(_IAM_READS)) or (
                service == "s3" and operation in ("PutBucketPolicy", "DeleteBucketPolicy", "DeleteBucket")):
            self.invalidate()

    # ---- refusals ------------------------------------------------------------------------------------------
    def _context(self, request: web.Request, caller: Caller, region: str) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        principal = caller.principal
        context: dict[str, Any] = {
            "aws:SecureTransport": "true", "aws:SourceIp": request.remote or "127.0.0.1",
            "aws:RequestedRegion": region, "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": str(int(now.timestamp())),
        }
        if principal.kind != "anonymous":
            context.update({"aws:PrincipalArn": principal.role_arn or principal.arn,
                            "aws:PrincipalAccount": principal.account,
                            "aws:PrincipalType": {"assumed-role": "AssumedRole", "user": "User"}.get(
                                principal.kind, principal.kind)})
        if principal.kind == "user":
            context["aws:username"] = principal.arn.rsplit("/", 1)[-1]
        return context

    def _refuse(self, service: str, protocol: str, problem: str, message: str, head: bool) -> ErrorResponse | None:
        self.refused[problem] += 1
        log.warning("refused (%s) a %s request: %s%s", problem, service, message,
                    "" if self.mode == "enforce" else " [audit: let through]")
        return auth_error(service, protocol, problem, message, head=head) if self.mode == "enforce" else None

    def _deny(self, service: str, protocol: str, head: bool, caller: Caller, action: str, resource: str,
              message: str, explained: str | None = None) -> ErrorResponse | None:
        """``message`` is AWS's; ``explained`` (the log's and status's) also names an explicit deny's statement."""
        self._record(caller.principal.arn, action, resource, explained or message)
        if self.mode == "audit":
            return None
        return auth_error(service, protocol, "denied", message, head=head)

    def _record(self, principal: str, action: str, resource: str, reason: str) -> None:
        enforced = self.mode == "enforce"
        self.denials.append(Denial(time.time(), principal, action, resource, reason, enforced))
        self.denied[action] += 1
        log.warning("%s: principal=%s action=%s resource=%s: %s", "denied" if enforced else "would deny (audit)",
                    principal, action, resource, reason)

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, "checked": self.checked, "denied": sum(self.denied.values()),
                "denied_by_action": dict(self.denied), "refused": dict(self.refused),
                "recent_denials": [d.describe() for d in self.denials]}


def _caller_of(record: dict[str, Any]) -> Caller:
    kind = record["kind"]
    principal = Principal(arn=record["arn"], account=record["account"], kind=kind, role_arn=record.get("role_arn"))
    expiration = dt.datetime.fromisoformat(record["expiration"]) if record.get("expiration") else None
    session_policy = parse_document(record["session_policy"]) if record.get("session_policy") else None
    return Caller(principal, [parse_document(p) for p in record.get("identity_policies") or []], session_policy,
                  secret=record["secret"], session_token=record.get("session_token"), expiration=expiration,
                  active=record.get("status", "Active") == "Active")


def _unknown_key_message(service: str) -> str:
    if service == "s3":
        return "The AWS Access Key Id you provided does not exist in our records."
    return "The security token included in the request is invalid."
