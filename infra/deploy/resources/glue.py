"""AWS::Glue::Database and AWS::Glue::Table on moto."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler, missing


class GlueDatabase(ResourceHandler):
    type_name = "AWS::Glue::Database"
    holds_data = True
    applies = frozenset({"CatalogId", "DatabaseInput"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return str(props["DatabaseInput"]["Name"])

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        try:
            database = ctx.client("glue").get_database(Name=name)["Database"]
        except ClientError as error:
            if missing(error, "EntityNotFoundException"):
                return None
            raise
        state = {"CatalogId": database.get("CatalogId", ctx.account_id), "DatabaseInput": database}
        return Deployed(ref=name, attrs={}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        ctx.client("glue").create_database(DatabaseInput=props["DatabaseInput"])

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        ctx.client("glue").update_database(Name=name, DatabaseInput=props["DatabaseInput"])

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("glue").delete_database(Name=name)


class GlueTable(ResourceHandler):
    type_name = "AWS::Glue::Table"
    holds_data = True
    applies = frozenset({"CatalogId", "DatabaseName", "TableInput"})
    # A table in another database is another table; the partitions registered in this one stay.
    replace_on = frozenset({"DatabaseName"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return f"{props['DatabaseName']}.{props['TableInput']['Name']}"

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        database, table_name = name.split(".", 1)
        try:
            table = ctx.client("glue").get_table(DatabaseName=database, Name=table_name)["Table"]
        except ClientError as error:
            if missing(error, "EntityNotFoundException"):
                return None
            raise
        state = {"CatalogId": table.get("CatalogId", ctx.account_id), "DatabaseName": database, "TableInput": table}
        return Deployed(ref=table_name, attrs={}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        ctx.client("glue").create_table(DatabaseName=props["DatabaseName"], TableInput=props["TableInput"])

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        # UpdateTable keeps the table's partitions (the orchestration registers them).
        ctx.client("glue").update_table(DatabaseName=props["DatabaseName"], TableInput=props["TableInput"])

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        database, table_name = name.split(".", 1)
        ctx.client("glue").delete_table(DatabaseName=database, Name=table_name)
