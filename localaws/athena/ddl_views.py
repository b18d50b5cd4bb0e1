"""CREATE [OR REPLACE] VIEW: the query bound (not run) for its columns' names and types, and stored in
Glue as Athena stores a view (views.py). DROP VIEW is ddl_tables' DROP TABLE.
"""

from __future__ import annotations

from sqlglot import exp

from localaws.athena import views
from localaws.athena.catalog import DEFAULT_CATALOG
from localaws.athena.context import Handler, Outcome, QueryContext, StatementFamily, no_rows
from localaws.athena.errors import AthenaQueryError
from localaws.athena.statements import Statement
from localaws.athena.syntax import table_name, tokens
from localaws.athena.types import DuckType


def view_query_text(text: str) -> str:
    """The query of a CREATE VIEW statement, as the user wrote it (what Athena stores as originalSql)."""
    depth = 0
    seen_view = False
    for token in tokens(text):
        word = token.text.upper()
        if token.token_type.name in ("L_PAREN",):
            depth += 1
        elif token.token_type.name in ("R_PAREN",):
            depth -= 1
        elif word == "VIEW":
            seen_view = True
        elif seen_view and depth == 0 and word == "AS":
            return text[token.end + 1:].strip()
    raise AthenaQueryError("SYNTAX_ERROR", "CREATE VIEW without AS <query>")


class Views(StatementFamily):
    def handlers(self) -> dict[str, Handler]:
        return {"create_view": self.create_view}

    def create_view(self, ctx: QueryContext, statement: Statement) -> Outcome:
        create = statement.ast
        assert isinstance(create, exp.Create) and create.expression is not None
        target = table_name(create.this)
        database, name = target.resolve(ctx.database)
        self.catalog.require_database(database)
        query_text = view_query_text(statement.text)
        names, duck_types = self.connections.bind(ctx, create.expression.copy())
        if isinstance(create.this, exp.Schema) and create.this.expressions:
            aliases = [e.name.lower() for e in create.this.expressions]
            if len(aliases) != len(names):
                raise AthenaQueryError("MISMATCHED_COLUMN_ALIASES",
                                       f"Column alias list has {len(aliases)} entries but the view has {len(names)} "
                                       "columns")
            names = aliases
        for index, column in enumerate(names):
            if column.startswith("_col") and column[4:].isdigit():
                raise AthenaQueryError("MISSING_COLUMN_NAME", f"Column name not specified at position {index + 1}")
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise AthenaQueryError("DUPLICATE_COLUMN_NAME", f"Column name '{sorted(duplicates)[0]}' specified more "
                                                            "than once")
        parsed = [DuckType.parse(t) for t in duck_types]
        definition = views.ViewDefinition(
            # unqualified names in the view resolve in the session's schema, as when it was created
            original_sql=query_text, catalog=DEFAULT_CATALOG, schema=ctx.database,
            columns=[{"name": n, "type": t.athena_signature()} for n, t in zip(names, parsed, strict=True)])
        hive_columns = []
        for column, parsed_type in zip(names, parsed, strict=True):
            try:
                hive = parsed_type.hive()
            except AthenaQueryError:
                hive = "string"
            hive_columns.append({"Name": column, "Type": hive})
        table_input = views.table_input(name, definition, hive_columns)
        existing = self.catalog.get_table(database, name)
        if existing is not None:
            if not existing.is_view:
                raise AthenaQueryError("TABLE_ALREADY_EXISTS", f"{existing.qualified} is a table, not a view")
            if not create.args.get("replace"):
                raise AthenaQueryError("ALREADY_EXISTS", f"View '{existing.qualified}' already exists")
            self.catalog.update_table(database, table_input)
        else:
            self.catalog.create_table(database, table_input)
        return no_rows(statement)
