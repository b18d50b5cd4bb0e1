"""AWS::Cognito::IdentityPool and AWS::Cognito::IdentityPoolRoleAttachment on moto."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.deploy.resources.base import (
    Deployed,
    LocalContext,
    ResourceHandler,
    missing,
    pick,
)

POOL_SETTINGS = ("AllowUnauthenticatedIdentities", "AllowClassicFlow", "DeveloperProviderName",
                 "SupportedLoginProviders", "OpenIdConnectProviderARNs", "SamlProviderARNs")


class IdentityPool(ResourceHandler):
    type_name = "AWS::Cognito::IdentityPool"
    applies = frozenset({"IdentityPoolName", *POOL_SETTINGS})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        # Pools are found by name: CloudFormation tracks the generated id, the local deploy has only the name.
        return props.get("IdentityPoolName") or f"{ctx.stack_name}_{logical_id}"

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        client = ctx.client("cognito-identity")
        pool_id = _find(client, name)
        if pool_id is None:
            return None
        pool = client.describe_identity_pool(IdentityPoolId=pool_id)
        state = pick(pool, "IdentityPoolName", *POOL_SETTINGS)
        return Deployed(ref=pool_id, attrs={"Name": name, "Id": pool_id}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        request = pick(props, *POOL_SETTINGS)
        request.setdefault("AllowUnauthenticatedIdentities", False)
        ctx.client("cognito-identity").create_identity_pool(IdentityPoolName=name, **request)

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        request = pick(props, *POOL_SETTINGS)
        request.setdefault("AllowUnauthenticatedIdentities", False)
        ctx.client("cognito-identity").update_identity_pool(
            IdentityPoolId=current.ref, IdentityPoolName=name, **request)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("cognito-identity").delete_identity_pool(IdentityPoolId=current.ref)


class IdentityPoolRoleAttachment(ResourceHandler):
    type_name = "AWS::Cognito::IdentityPoolRoleAttachment"
    applies = frozenset({"IdentityPoolId", "Roles", "RoleMappings"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return str(props["IdentityPoolId"])

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        try:
            roles = ctx.client("cognito-identity").get_identity_pool_roles(IdentityPoolId=name)
        except ClientError as error:
            if missing(error, "ResourceNotFoundException"):
                return None
            raise
        if not roles.get("Roles"):
            return None
        state = {"IdentityPoolId": name, **pick(roles, "Roles", "RoleMappings")}
        return Deployed(ref=name, attrs={}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        ctx.client("cognito-identity").set_identity_pool_roles(
            IdentityPoolId=name, **pick(props, "Roles", "RoleMappings"))

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        self.create(name, props, ctx)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("cognito-identity").set_identity_pool_roles(IdentityPoolId=name, Roles={})


def _find(client: Any, name: str) -> str | None:
    kwargs: dict[str, Any] = {"MaxResults": 60}
    while True:
        page = client.list_identity_pools(**kwargs)
        for pool in page.get("IdentityPools", []):
            if pool["IdentityPoolName"] == name:
                return str(pool["IdentityPoolId"])
        token = page.get("NextToken")
        if not token:
            return None
        kwargs["NextToken"] = token
