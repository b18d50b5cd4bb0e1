"""What every local resource handler shares: the context, the read-back result, the handler interface
and value comparison."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from infra.deploy import DeployError
from infra.deploy.package import LambdaPackage

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=60)


@dataclass
class LocalContext:
    account_id: str
    region: str
    stack_name: str
    package: LambdaPackage
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        # No endpoint_url: boto3 takes AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) from the environment.
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self.region, config=CLIENT_CONFIG)
        return self._clients[service]

    def arn(self, service: str, resource: str, *, regional: bool = True, account: bool = True) -> str:
        region = self.region if regional else ""
        account_id = self.account_id if account else ""
        return f"arn:aws:{service}:{region}:{account_id}:{resource}"


class NotSupportedLocally(Exception):  # noqa: N818 - a verdict, reported as "skipped"
    """The local endpoint cannot hold this resource; the message says why."""


# Error codes meaning "this endpoint does not implement the operation".
UNSUPPORTED_CODES = frozenset({"NotImplemented", "NotImplementedException", "UnknownOperationException",
                               "InvalidAction"})


@dataclass
class Deployed:
    """A resource as it exists: its Ref value, its GetAtt attributes, and its properties in template
    shape for those the backend reports (the rest are compared with what the last deploy applied)."""

    ref: str
    attrs: dict[str, Any]
    state: dict[str, Any]


class ResourceHandler:
    type_name: ClassVar[str]
    # Template properties this handler applies locally.
    applies: ClassVar[frozenset[str]] = frozenset()
    # Properties the local backend cannot represent, with the reason (reported, not applied).
    unsupported: ClassVar[dict[str, str]] = {}
    # Properties whose change needs a new resource (deleted and created again).
    replace_on: ClassVar[frozenset[str]] = frozenset()
    # Properties whose change would destroy data: refused with a message instead of replacing.
    immutable: ClassVar[frozenset[str]] = frozenset()
    # Resources holding data are left in place when they leave the template (like DeletionPolicy Retain).
    holds_data: ClassVar[bool] = False
    # Set when the type is not deployed locally at all (the reason); ``read`` then only supplies Ref/GetAtt.
    skipped: ClassVar[str | None] = None

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        """The resource's identity in its service (usually its name)."""
        raise NotImplementedError

    def desired(self, props: dict[str, Any], ctx: LocalContext) -> dict[str, Any]:
        """The properties to compare and apply, in the shape ``read`` reports them."""
        return props

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        raise NotImplementedError

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        raise NotImplementedError

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        raise NotImplementedError

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------- helpers
def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def missing(error: ClientError, *codes: str) -> bool:
    """Whether ``error`` says the resource does not exist."""
    code = error_code(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in codes or (not codes and status == 404)


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise DeployError(f"{what} did not become ready within {timeout:.0f} s: run `wildrydes deploy` again")
        time.sleep(0.1)


def canonical(value: Any) -> Any:
    """A comparable form: scalars as strings (``1`` == ``"1"``, ``True`` == ``"true"``, ``1.0`` == ``1``),
    as AWS APIs and templates disagree on scalar types."""
    if isinstance(value, dict):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return None
    return str(value)


def covers(actual: Any, desired: Any) -> bool:
    """Whether ``actual`` has every value of ``desired``; extra keys of ``actual`` (service defaults,
    read-only fields) are ignored at every nesting level."""
    actual, desired = canonical(actual), canonical(desired)
    return _covers(actual, desired)


def _covers(actual: Any, desired: Any) -> bool:
    if isinstance(desired, dict):
        return isinstance(actual, dict) and all(
            key in actual and _covers(actual[key], value) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (isinstance(actual, list) and len(actual) == len(desired)
                and all(_covers(a, d) for a, d in zip(actual, desired, strict=True)))
    return actual == desired


def pick(source: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: source[key] for key in keys if key in source}
