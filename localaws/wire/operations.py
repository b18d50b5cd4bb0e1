"""Which requests to moto change state and so must be journaled. Pure functions."""

from __future__ import annotations

from urllib.parse import parse_qs

_READ_PREFIXES = ("Get", "List", "Describe", "BatchGet", "Search", "Head", "Receive", "Check")
# Reads by name that still create state worth keeping (an identity id a browser caches).
_MUTATING_READS = frozenset({"GetId", "GetOpenIdToken"})
# Calls that only hand out ephemeral credentials or tokens. (AssumeRole* is journaled: the session it records is
# what later requests signed with its keys are checked against, and must survive a restart.)
_MUTATING_READS = _MUTATING_READS | {"AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}
_EPHEMERAL = frozenset(
    {"GetSessionToken",
     "GetFederationToken", "GetCredentialsForIdentity", "ChangeMessageVisibility",
     "ChangeMessageVisibilityBatch"}
)


def operation_name(target: str | None, body: bytes, content_type: str | None) -> str | None:
    """The API operation of a JSON (X-Amz-Target) or query-protocol request, if it names one."""
    if target:
        return target.rsplit(".", 1)[-1]
    if content_type and content_type.startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return action[0]
    return None


def is_mutation(method: str, operation: str | None) -> bool:
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    if operation is None:  # REST protocols (S3, Lambda): every non-read method mutates
        return True
    if operation in _MUTATING_READS:
        return True
    if operation in _EPHEMERAL:
        return False
    return not operation.startswith(_READ_PREFIXES)
