"""AWS::DynamoDB::Table on dynalite."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.deploy.resources.base import Deployed, LocalContext, ResourceHandler, missing, pick, wait_for


class DynamoDBTable(ResourceHandler):
    type_name = "AWS::DynamoDB::Table"
    holds_data = True
    applies = frozenset({"TableName", "BillingMode", "AttributeDefinitions", "KeySchema", "ProvisionedThroughput"})
    unsupported = {
        "PointInTimeRecoverySpecification": "dynalite has no backups",
        "SSESpecification": "dynalite does not encrypt at rest",
        "DeletionProtectionEnabled": "dynalite has no deletion protection",
    }
    # Changing the key schema means a new table; with a fixed TableName CloudFormation refuses that
    # too, and locally it would silently drop every item.
    immutable = frozenset({"KeySchema", "AttributeDefinitions"})

    def name(self, logical_id: str, props: dict[str, Any], ctx: LocalContext) -> str:
        return props.get("TableName") or f"{ctx.stack_name}-{logical_id}"

    def desired(self, props: dict[str, Any], ctx: LocalContext) -> dict[str, Any]:
        wanted = dict(props)
        wanted.setdefault("BillingMode", "PROVISIONED")
        wanted["AttributeDefinitions"] = sorted(wanted["AttributeDefinitions"], key=lambda a: a["AttributeName"])
        return wanted

    def read(self, name: str, props: dict[str, Any], ctx: LocalContext) -> Deployed | None:
        table = self._describe(name, ctx)
        if table is None:
            return None
        if table["TableStatus"] != "ACTIVE":
            self._wait_active(name, ctx)
            table = self._describe(name, ctx) or table
        state: dict[str, Any] = {
            "TableName": name,
            "BillingMode": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
            "AttributeDefinitions": sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
            "KeySchema": table["KeySchema"],
        }
        if state["BillingMode"] == "PROVISIONED":
            state["ProvisionedThroughput"] = pick(table["ProvisionedThroughput"],
                                                  "ReadCapacityUnits", "WriteCapacityUnits")
        return Deployed(ref=name, attrs={"Arn": ctx.arn("dynamodb", f"table/{name}")}, state=state)

    def create(self, name: str, props: dict[str, Any], ctx: LocalContext) -> None:
        request = pick(props, "BillingMode", "AttributeDefinitions", "KeySchema", "ProvisionedThroughput")
        ctx.client("dynamodb").create_table(TableName=name, **request)
        self._wait_active(name, ctx)

    def update(self, name: str, props: dict[str, Any], changed: list[str], current: Deployed,
               ctx: LocalContext) -> None:
        request = pick(props, "BillingMode", "ProvisionedThroughput")
        ctx.client("dynamodb").update_table(TableName=name, **request)
        self._wait_active(name, ctx)

    def delete(self, name: str, current: Deployed, ctx: LocalContext) -> None:
        ctx.client("dynamodb").delete_table(TableName=name)

    def _describe(self, name: str, ctx: LocalContext) -> dict[str, Any] | None:
        try:
            return ctx.client("dynamodb").describe_table(TableName=name)["Table"]
        except ClientError as error:
            if missing(error, "ResourceNotFoundException"):
                return None
            raise

    def _wait_active(self, name: str, ctx: LocalContext) -> None:
        wait_for(f"DynamoDB table {name}", lambda: (self._describe(name, ctx) or {}).get("TableStatus") == "ACTIVE")
