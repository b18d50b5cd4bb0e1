"""CREATE DATABASE / SCHEMA and DROP DATABASE / SCHEMA [CASCADE], in the Glue catalog."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from localaws.athena.context import Handler, Outcome, QueryContext, StatementFamily, no_rows
from localaws.athena.ddl_tables import drop_data_if_managed, dropped
from localaws.athena.errors import AthenaQueryError
from localaws.athena.objects import parse_s3_url
from localaws.athena.statements import Statement


class Databases(StatementFamily):
    def handlers(self) -> dict[str, Handler]:
        return {"create_database": self.create_database, "drop_database": self.drop_database}

    def create_database(self, ctx: QueryContext, statement: Statement) -> Outcome:
        details = statement.details
        database_input: dict[str, Any] = {"Name": details["name"]}
        if details["comment"]:
            database_input["Description"] = details["comment"]
        if details["location"]:
            parse_s3_url(details["location"])
            database_input["LocationUri"] = details["location"]
        if details["properties"]:
            database_input["Parameters"] = details["properties"]
        if details["if_not_exists"] and self.catalog.get_database(details["name"]) is not None:
            return no_rows(statement)
        self.catalog.create_database(database_input)
        return no_rows(statement)

    def drop_database(self, ctx: QueryContext, statement: Statement) -> Outcome:
        drop = statement.ast
        assert isinstance(drop, exp.Drop)
        target = dropped(drop)
        name = (target.name or target.db).lower()
        if self.catalog.get_database(name) is None:
            if drop.args.get("exists"):
                return no_rows(statement)
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{name}' does not exist")
        tables = self.catalog.list_tables(name)
        if tables and not drop.args.get("cascade"):
            raise AthenaQueryError("SCHEMA_NOT_EMPTY", f"Cannot drop non-empty schema '{name}'")
        for table in tables:
            drop_data_if_managed(self.objects, table)
            self.catalog.delete_table(name, table.name)
        self.catalog.delete_database(name)
        return no_rows(statement)
