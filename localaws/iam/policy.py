"""IAM policy evaluation with AWS's semantics, within one account (pure functions, standard library only).

``evaluate`` decides a request from the principal's identity-based policies, an optional session policy and
the resource's policy: an explicit Deny in any of them wins; otherwise the request is allowed when the
identity policies allow it (and the session policy too, when there is one) or the resource policy allows this
principal; otherwise it is implicitly denied. ``trust_allows`` evaluates a role's trust policy alone.
``parse_document`` normalizes and compiles a document once; pass its result back in to skip re-parsing.

Supported: Action/NotAction (case-insensitive globs), Resource/NotResource (case-sensitive ARN globs),
Principal/NotPrincipal ("*", AWS account / root / user / role / assumed-role session ARNs, Service, Federated),
Condition operators String(Not)Equals(IgnoreCase), String(Not)Like, Numeric*, Date*, Bool, BinaryEquals,
(Not)IpAddress, Arn(Not)Equals, Arn(Not)Like, Null, each with ``...IfExists`` (except Null) and the
``ForAnyValue:`` / ``ForAllValues:`` set qualifiers; policy variables (Version 2012-10-17) with defaults
(``${aws:username, 'anon'}``) and the ``${*}`` ``${?}`` ``${$}`` escapes. An unknown operator raises ValueError.
A single-valued operator given a multi-valued context key is true when any one of its values satisfies it.

Not implemented: cross-account evaluation (both sides must allow), permissions boundaries, SCPs/RCPs, VPC
endpoint policies, NotPrincipal's multi-account nuances (a role ARN there also covers its sessions), the rule
that a session policy also limits what a resource policy grants to the role ARN (as opposed to the session
ARN), CanonicalUser principals, and resolving unique ids (AROA...) in policies.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, unquote_plus

Context = Mapping[str, str | Sequence[str]]
VARIABLES_VERSION = "2012-10-17"  # the only policy language version with policy variables
POLICY_TYPES = ("identity-based", "resource-based", "session")
_ARTICLE = {"identity-based": "an", "resource-based": "a", "session": "a"}
_ACCOUNT = re.compile(r"\d{12}")
_ROOT = re.compile(r"arn:[^:]+:iam::(\d{12}):root")
_TOKEN = re.compile(r"\$\{([^}]*)\}|\*|\?|[^$*?]+|\$")
_PLAIN_TOKEN = re.compile(r"\*|\?|[^*?]+")
_DEFAULT = re.compile(r"\s*([^,]*?)\s*,\s*'([^']*)'\s*")
_NO_IDENTITY_POLICIES = ("anonymous", "service", "federated")


@dataclass(frozen=True)
class Principal:
    arn: str
    account: str
    kind: str  # "root" | "user" | "assumed-role" | "service" | "federated" | "anonymous"
    role_arn: str | None = None  # assumed-role sessions: arn:aws:iam::A:role/[path/]NAME
    service: str | None = None  # kind "service": e.g. "lambda.amazonaws.com"
    federated: str | None = None  # kind "federated": e.g. "cognito-identity.amazonaws.com"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "allowed" | "explicit-deny" | "implicit-deny"
    policy_type: str  # the type that denied (or lacked an allow), or the type that allowed
    statement: str | None  # Sid (or compact JSON) of the deciding statement
    resource: str | None = None  # the resource this decision is about (the first denied one)

    def message(self, principal_arn: str, action: str, resource: str) -> str:
        """AWS's AccessDenied text for a denial (a short description for an allow)."""
        head = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
        if self.reason == "explicit-deny":
            return f"{head} with an explicit deny in {_ARTICLE[self.policy_type]} {self.policy_type} policy"
        if self.reason == "implicit-deny":
            return f"{head} because no {self.policy_type} policy allows the {action} action"
        return f"User: {principal_arn} is authorized to perform: {action} on resource: {resource}"


# ---- globs and policy variables -----------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _regex(source: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(source, flags | re.DOTALL)


@lru_cache(maxsize=8192)
def _tokens(pattern: str, variables: bool) -> tuple[tuple[str, str], ...]:
    """("text", s) | ("*", "") | ("?", "") | ("var", name); with variables off, ``${`` is plain text."""
    tokens: list[tuple[str, str]] = []
    for match in (_TOKEN if variables else _PLAIN_TOKEN).finditer(pattern):
        whole, name = match.group(0), match.group(1) if variables else None
        if name is None:
            tokens.append((whole, "") if whole in ("*", "?") else ("text", whole))
        elif name in ("*", "?", "$"):
            tokens.append(("text", name))
        else:
            tokens.append(("var", name))
    return tuple(tokens)


def _expand(pattern: str, variables: bool, lookup: Callable[[str], str | None] | None, glob: bool) -> str | None:
    """The pattern as regex source (glob) or text, variables substituted literally; None if one has no value."""
    parts: list[str] = []
    for kind, text in _tokens(pattern, variables):
        if kind == "var":
            value = lookup(text) if lookup is not None else None
            if value is None:
                return None
            parts.append(re.escape(value) if glob else value)
        elif kind == "text":
            parts.append(re.escape(text) if glob else text)
        else:
            parts.append((".*" if kind == "*" else ".") if glob else kind)
    return "".join(parts)


@lru_cache(maxsize=8192)
def _glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """A compiled glob without variables: ``*`` any run of characters, ``?`` one, all else literal."""
    return _regex(_expand(pattern, False, None, True) or "", re.IGNORECASE if ignore_case else 0)


def _has_variables(value: str, variables: bool) -> bool:
    return variables and any(kind == "var" for kind, _ in _tokens(value, True))


# ---- documents ------------------------------------------------------------------------------------------------


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise ValueError(f"unsupported policy value {value!r}")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        return [_string(value)]
    return [_string(item) for item in value]


def _loads(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        text = text.decode()
    text = text.strip()
    for candidate in (text, unquote(text), unquote_plus(text)):  # IAM returns documents URL-encoded
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as error:
            problem = error
    raise ValueError(f"malformed policy document: {problem}")


class PolicyDocument(dict):  # type: ignore[type-arg]
    """parse_document's result: the normalized document (a plain, JSON-serialisable dict to any reader) that
    also carries its compiled statements. Treat it as read-only: the compiled form does not follow edits."""

    __slots__ = ("compiled",)
    compiled: tuple[_Statement, ...]


def parse_document(document: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """JSON text, URL-encoded JSON text or a mapping → the normalized document: ``Statement`` a list,
    Action/NotAction/Resource/NotResource lists of strings, Principal/NotPrincipal "*" or {type: [strings]},
    Condition {operator: {key: [strings]}}. Idempotent; raises ValueError for what IAM would reject."""
    if isinstance(document, PolicyDocument):
        return document
    if isinstance(document, str | bytes):
        document = _loads(document)
    if not isinstance(document, Mapping):
        raise ValueError("a policy document is a JSON object")
    parsed = PolicyDocument({key: value for key, value in document.items() if key != "Statement"})
    raw = document.get("Statement", [])
    statements = [raw] if isinstance(raw, Mapping) else list(raw)
    parsed["Statement"] = [_normalize(statement) for statement in statements]
    variables = parsed.get("Version") == VARIABLES_VERSION
    parsed.compiled = tuple(_compile(statement, variables) for statement in parsed["Statement"])
    return parsed


def _normalize(statement: Any) -> dict[str, Any]:
    if not isinstance(statement, Mapping):
        raise ValueError(f"a policy statement is a JSON object, not {statement!r}")
    out = dict(statement)
    if out.get("Effect") not in ("Allow", "Deny"):
        raise ValueError(f"statement Effect must be Allow or Deny, not {out.get('Effect')!r}")
    for pair in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
        if all(name in out for name in pair):
            raise ValueError(f"a statement has either {pair[0]} or {pair[1]}, not both")
    if "Action" not in out and "NotAction" not in out:
        raise ValueError("a statement needs Action or NotAction")
    for name in ("Action", "NotAction", "Resource", "NotResource"):
        if name in out:
            out[name] = _strings(out[name])
    for name in ("Principal", "NotPrincipal"):
        if name in out and out[name] != "*":
            if not isinstance(out[name], Mapping):
                raise ValueError(f"{name} is \"*\" or an object, not {out[name]!r}")
            out[name] = {kind: _strings(values) for kind, values in out[name].items()}
    if "Condition" in out:
        if not isinstance(out["Condition"], Mapping):
            raise ValueError("Condition is an object")
        out["Condition"] = {op: {key: _strings(values) for key, values in block.items()}
                            for op, block in out["Condition"].items()}
    return out


# ---- condition operators -------------------------------------------------------------------------------------


def _date(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        moment = datetime.fromisoformat(text.strip())
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _boolean(text: str) -> str:
    value = text.lower()
    if value not in ("true", "false"):
        raise ValueError(f"not a boolean: {text!r}")
    return value


def _binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise ValueError(f"not base64: {text!r}") from error


def _arn_pattern(text: str) -> tuple[re.Pattern[str], ...]:
    parts = text.split(":", 5)
    if len(parts) != 6:
        raise ValueError(f"not an ARN: {text!r}")
    return tuple(_glob(part) for part in parts)


def _arn_parts(text: str) -> list[str]:
    parts = text.split(":", 5)
    if len(parts) != 6:
        raise ValueError(f"not an ARN: {text!r}")
    return parts


def _arn_test(parts: list[str], patterns: tuple[re.Pattern[str], ...]) -> bool:
    return all(pattern.fullmatch(part) for part, pattern in zip(parts, patterns, strict=True))


def _identity(text: str) -> str:
    return text


@dataclass(frozen=True)
class _Family:
    policy: Callable[[str], Any]  # policy value → comparable (ValueError if invalid)
    context: Callable[[str], Any]  # context value → comparable (ValueError: the value matches nothing)
    test: Callable[[Any, Any], bool]  # (context, policy) → matches
    glob: bool = False  # the policy value is a glob (variables substitute literally)


_EQUALS = _Family(_identity, _identity, operator.eq)
_IGNORE_CASE = _Family(str.casefold, str.casefold, operator.eq)
_LIKE = _Family(_glob, _identity, lambda value, pattern: pattern.fullmatch(value) is not None, glob=True)
_BOOL = _Family(_boolean, str.lower, operator.eq)
_BINARY = _Family(_binary, _binary, operator.eq)
_IP = _Family(lambda text: ipaddress.ip_network(text.strip(), strict=False),
              lambda text: ipaddress.ip_address(text.strip()), lambda address, network: address in network)
_ARN = _Family(_arn_pattern, _arn_parts, _arn_test)
_COMPARISONS = {"Equals": operator.eq, "LessThan": operator.lt, "LessThanEquals": operator.le,
                "GreaterThan": operator.gt, "GreaterThanEquals": operator.ge}

# operator name → (family, negated)
_OPERATORS: dict[str, tuple[_Family, bool]] = {
    "StringEquals": (_EQUALS, False), "StringNotEquals": (_EQUALS, True),
    "StringEqualsIgnoreCase": (_IGNORE_CASE, False), "StringNotEqualsIgnoreCase": (_IGNORE_CASE, True),
    "StringLike": (_LIKE, False), "StringNotLike": (_LIKE, True),
    "Bool": (_BOOL, False), "BinaryEquals": (_BINARY, False),
    "IpAddress": (_IP, False), "NotIpAddress": (_IP, True),
    "ArnEquals": (_ARN, False), "ArnLike": (_ARN, False), "ArnNotEquals": (_ARN, True), "ArnNotLike": (_ARN, True),
}
for _kind, _convert in (("Numeric", float), ("Date", _date)):
    for _name, _test in _COMPARISONS.items():
        _OPERATORS[f"{_kind}{_name}"] = (_Family(_convert, _convert, _test), False)
    _OPERATORS[f"{_kind}NotEquals"] = (_Family(_convert, _convert, operator.eq), True)


@dataclass(frozen=True)
class _Condition:
    operator: str
    key: str  # lower-case: context keys are case-insensitive
    family: _Family | None  # None: Null
    negated: bool
    qualifier: str  # "" | "ForAnyValue" | "ForAllValues"
    if_exists: bool
    values: tuple[Any, ...]  # converted policy values (raw strings when dynamic)
    dynamic: bool  # values hold policy variables: substituted and converted per request


def _condition(name: str, key: str, values: list[str], variables: bool) -> _Condition:
    qualifier, _, base = name.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise ValueError(f"unsupported condition operator {name!r}")
    if base == "Null":
        if qualifier:
            raise ValueError(f"unsupported condition operator {name!r}")
        return _Condition(name, key.lower(), None, False, "", False, tuple(_boolean(v) for v in values), False)
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base not in _OPERATORS:
        raise ValueError(f"unsupported condition operator {name!r}")
    family, negated = _OPERATORS[base]
    dynamic = any(_has_variables(value, variables) for value in values)
    converted = tuple(values) if dynamic else tuple(family.policy(value) for value in values)
    return _Condition(name, key.lower(), family, negated, qualifier, if_exists, converted, dynamic)


# ---- statements -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Statement:
    label: str
    deny: bool
    actions: tuple[re.Pattern[str], ...]
    not_action: bool
    resources: tuple[str, ...] | None  # None: neither Resource nor NotResource
    not_resource: bool
    principal: str | Mapping[str, list[str]] | None  # None: neither Principal nor NotPrincipal
    not_principal: bool
    conditions: tuple[_Condition, ...]
    variables: bool


def _compile(statement: Mapping[str, Any], variables: bool) -> _Statement:
    label = statement.get("Sid") or json.dumps(statement, separators=(",", ":"), sort_keys=True)
    actions = statement.get("Action", statement.get("NotAction", []))
    resources = statement.get("Resource", statement.get("NotResource"))
    principal = statement.get("Principal", statement.get("NotPrincipal"))
    conditions = tuple(_condition(op, key, values, variables)
                       for op, block in statement.get("Condition", {}).items() for key, values in block.items())
    return _Statement(
        label=str(label), deny=statement["Effect"] == "Deny",
        actions=tuple(_glob(action, True) for action in actions), not_action="NotAction" in statement,
        resources=None if resources is None else tuple(resources), not_resource="NotResource" in statement,
        principal=principal, not_principal="NotPrincipal" in statement,
        conditions=conditions, variables=variables,
    )


@lru_cache(maxsize=1024)
def _parse_text(text: str) -> PolicyDocument:
    return parse_document(text)  # type: ignore[return-value]


def _statements(document: str | bytes | Mapping[str, Any]) -> tuple[_Statement, ...]:
    """The compiled statements; a plain dict or JSON text is compiled once per distinct content."""
    if isinstance(document, PolicyDocument):
        return document.compiled
    if isinstance(document, Mapping):
        return _parse_text(json.dumps(document, sort_keys=True)).compiled
    return _parse_text(document.decode() if isinstance(document, bytes) else document).compiled


# ---- evaluation ----------------------------------------------------------------------------------------------


_PRINCIPAL_TYPES = {"root": "Account", "user": "User", "assumed-role": "AssumedRole", "anonymous": "Anonymous"}


def _request_context(context: Context, principal: Principal) -> dict[str, tuple[str, ...]]:
    """The request context, keys lower-cased, values tuples; the principal's own global keys added when the
    caller did not give them (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:username,
    aws:userid for root, aws:PrincipalServiceName)."""
    derived: dict[str, str | None] = {"aws:principaltype": _PRINCIPAL_TYPES.get(principal.kind)}
    if principal.kind not in _NO_IDENTITY_POLICIES:
        derived["aws:principalarn"] = principal.role_arn if principal.kind == "assumed-role" else principal.arn
        derived["aws:principalaccount"] = principal.account
    if principal.kind == "user":
        derived["aws:username"] = principal.arn.rsplit("/", 1)[-1]
    if principal.kind == "root":
        derived["aws:userid"] = principal.account
    if principal.kind == "service":
        derived["aws:principalservicename"] = principal.service
    ctx = {key: (value,) for key, value in derived.items() if value}
    for key, value in context.items():
        ctx[key.lower()] = tuple(_strings(value))
    return ctx


def _lookup(ctx: Mapping[str, tuple[str, ...]]) -> Callable[[str], str | None]:
    def value_of(name: str) -> str | None:
        default = None
        if match := _DEFAULT.fullmatch(name):
            name, default = match.group(1), match.group(2)
        values = ctx.get(name.strip().lower(), ())
        return values[0] if len(values) == 1 else default  # a multi-valued key is no variable

    return value_of


def _policy_values(condition: _Condition, ctx: Mapping[str, tuple[str, ...]]) -> list[Any] | None:
    """A dynamic condition's values for this request; None when a negated operator has an unresolved one."""
    family, lookup, out = condition.family, _lookup(ctx), []
    assert family is not None
    for raw in condition.values:
        text = _expand(raw, True, lookup, family.glob)
        if text is None:
            if condition.negated:
                return None
            continue  # an unresolved variable: that value matches nothing
        try:
            out.append(_regex(text) if family.glob else family.policy(text))
        except ValueError:
            if condition.negated:
                return None
    return out


def _holds(condition: _Condition, ctx: Mapping[str, tuple[str, ...]]) -> bool:
    present = ctx.get(condition.key, ())
    family = condition.family
    if family is None:  # Null: "true" holds when the key is absent, "false" when present
        return any((value == "true") != bool(present) for value in condition.values)
    if not present:
        if condition.if_exists or condition.qualifier == "ForAllValues":
            return True
        return False if condition.qualifier == "ForAnyValue" else condition.negated
    policy = _policy_values(condition, ctx) if condition.dynamic else condition.values
    if policy is None:
        return False

    def satisfied(value: str) -> bool:
        try:
            converted = family.context(value)
        except ValueError:
            return False
        return any(family.test(converted, p) for p in policy) != condition.negated

    if condition.qualifier == "ForAllValues":
        return all(satisfied(value) for value in present)
    return any(satisfied(value) for value in present)  # ForAnyValue, and single-valued operators


def _principal_value(kind: str, value: str, principal: Principal) -> bool:
    if kind == "AWS":
        if value == "*":
            return True
        if principal.kind in _NO_IDENTITY_POLICIES:
            return False
        root = _ROOT.fullmatch(value)
        account = value if _ACCOUNT.fullmatch(value) else root.group(1) if root else None
        if account is not None:
            return account == principal.account
        return value in (principal.arn, principal.role_arn)
    if kind == "Service":
        return principal.kind == "service" and principal.service == value
    if kind == "Federated":
        return principal.kind == "federated" and principal.federated == value
    return False  # CanonicalUser and others: not supported, never matched


def _principal_matches(spec: str | Mapping[str, list[str]], principal: Principal) -> bool:
    if spec == "*":
        return True
    assert isinstance(spec, Mapping)
    return any(_principal_value(kind, value, principal) for kind, values in spec.items() for value in values)


def _applies(statement: _Statement, action: str, resource: str | None, ctx: Mapping[str, tuple[str, ...]],
             principal: Principal, resource_based: bool) -> bool:
    if any(pattern.fullmatch(action) for pattern in statement.actions) == statement.not_action:
        return False
    if resource_based:
        if statement.principal is None:
            return False  # IAM rejects such a resource policy; it grants and denies nobody
        if _principal_matches(statement.principal, principal) == statement.not_principal:
            return False
    if resource is not None:
        if statement.resources is None:
            if not resource_based:
                return False
        elif any(_resource_matches(p, resource, statement.variables, ctx)
                 for p in statement.resources) == statement.not_resource:
            return False
    return all(_holds(condition, ctx) for condition in statement.conditions)


def _resource_matches(pattern: str, resource: str, variables: bool, ctx: Mapping[str, tuple[str, ...]]) -> bool:
    if not _has_variables(pattern, variables):
        return _glob(pattern).fullmatch(resource) is not None
    source = _expand(pattern, True, _lookup(ctx), True)
    return source is not None and _regex(source).fullmatch(resource) is not None


def _first(statements: Sequence[_Statement], deny: bool, action: str, resource: str | None,
           ctx: Mapping[str, tuple[str, ...]], principal: Principal, resource_based: bool) -> _Statement | None:
    for statement in statements:
        if statement.deny == deny and _applies(statement, action, resource, ctx, principal, resource_based):
            return statement
    return None


def _decide(action: str, resource: str, ctx: Mapping[str, tuple[str, ...]], principal: Principal,
            identity: Sequence[_Statement], session: Sequence[_Statement] | None,
            by_resource: Sequence[_Statement]) -> Decision:
    for policy_type, statements, resource_based in (("identity-based", identity, False),
                                                   ("session", session or (), False),
                                                   ("resource-based", by_resource, True)):
        if denied := _first(statements, True, action, resource, ctx, principal, resource_based):
            return Decision(False, "explicit-deny", policy_type, denied.label, resource)
    identity_allow = _first(identity, False, action, resource, ctx, principal, False)
    session_allow = session is None or _first(session, False, action, resource, ctx, principal, False)
    if identity_allow and session_allow:
        return Decision(True, "allowed", "identity-based", identity_allow.label, resource)
    if resource_allow := _first(by_resource, False, action, resource, ctx, principal, True):
        return Decision(True, "allowed", "resource-based", resource_allow.label, resource)
    if identity_allow:
        return Decision(False, "implicit-deny", "session", None, resource)
    lacking = "resource-based" if principal.kind in _NO_IDENTITY_POLICIES else "identity-based"
    return Decision(False, "implicit-deny", lacking, None, resource)


def evaluate(action: str, resources: Sequence[str], context: Context, *, principal: Principal,
             identity_policies: Sequence[Mapping[str, Any]], resource_policy: Mapping[str, Any] | None = None,
             session_policy: Mapping[str, Any] | None = None) -> Decision:
    """Whether ``principal`` may perform ``action`` on every one of ``resources`` (same account).

    Every resource must be allowed (Glue GetTable authorizes its catalog, database and table); the first
    denied resource decides, and is the Decision's ``resource``. An allow reports the first resource.
    No resources means the action's ``*`` resource. Documents: parsed (parse_document), dicts or JSON text."""
    targets = [resources] if isinstance(resources, str) else list(resources) or ["*"]
    if principal.kind == "root":  # the caller short-circuits the account's root; same answer here
        return Decision(True, "allowed", "identity-based", None, targets[0])
    ctx = _request_context(context, principal)
    identity = [statement for document in identity_policies for statement in _statements(document)]
    session = None if session_policy is None else _statements(session_policy)
    by_resource = () if resource_policy is None else _statements(resource_policy)
    decisions = []
    for resource in targets:
        decision = _decide(action, resource, ctx, principal, identity, session, by_resource)
        if not decision.allowed:
            return decision
        decisions.append(decision)
    return decisions[0]


def trust_allows(trust_policy: Mapping[str, Any], principal: Principal, action: str, context: Context) -> Decision:
    """A role's trust policy, alone, as a resource-based policy: may ``principal`` assume the role with
    ``action`` (sts:AssumeRole, sts:AssumeRoleWithWebIdentity, ...)? Explicit deny wins."""
    ctx = _request_context(context, principal)
    statements = _statements(trust_policy)
    if denied := _first(statements, True, action, None, ctx, principal, True):
        return Decision(False, "explicit-deny", "resource-based", denied.label)
    if allowed := _first(statements, False, action, None, ctx, principal, True):
        return Decision(True, "allowed", "resource-based", allowed.label)
    return Decision(False, "implicit-deny", "resource-based", None)
