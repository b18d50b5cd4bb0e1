"""AWS::Athena::WorkGroup: the control plane lives in moto behind the local endpoint."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler, missing, pick


class AthenaWorkGroup(ResourceHandler):
    type_name = "AWS::Athena::WorkGroup"
    applies = frozenset({"Name", "Description", "State", "WorkGroupConfiguration"})
    unsupported = {"RecursiveDeleteOption": "it only matters when the workgroup is deleted"}

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return str(props["Name"])

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        try:
            group = ctx.client("athena").get_work_group(WorkGroup=name).get("WorkGroup")
        except ClientError as error:
            if missing(error, "InvalidRequestException", "ResourceNotFoundException"):
                return None
            raise
        if not group:  # moto answers an unknown workgroup with an empty one
            return None
        state = pick(group, "Name", "Description", "State")
        state["WorkGroupConfiguration"] = group.get("Configuration", {})
        return Deployed(ref=name, attrs={}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        request = pick(props, "Description")
        request["Configuration"] = props.get("WorkGroupConfiguration", {})
        ctx.client("athena").create_work_group(Name=name, **request)

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        # moto has no UpdateWorkGroup; a local workgroup holds nothing but its configuration.
        self.delete(name, current, ctx)
        self.create(name, props, ctx)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("athena").delete_work_group(WorkGroup=name, RecursiveDeleteOption=True)
