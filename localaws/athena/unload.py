"""UNLOAD (query) TO 's3://...' WITH (format, compression, field_delimiter, partitioned_by): the query's
rows written as objects (writer.py) under an empty location, registering nothing.
"""

from __future__ import annotations

from localaws.athena.context import Handler, Outcome, QueryContext
from localaws.athena.errors import AthenaQueryError
from localaws.athena.objects import folder, parse_s3_url
from localaws.athena.scans import ident
from localaws.athena.statements import Statement, parse_sql
from localaws.athena.transpile import UNNAMED, to_duckdb
from localaws.athena.writer import RESULT, WriteFormat, Writer, check_partition_order, property_value


class Unload(Writer):
    def handlers(self) -> dict[str, Handler]:
        return {"unload": self.unload}

    def unload(self, ctx: QueryContext, statement: Statement) -> Outcome:
        inner: Statement = statement.details["query"]
        if inner.kind != "query" or inner.ast is None:
            raise AthenaQueryError("SYNTAX_ERROR", "UNLOAD takes a query")
        location = folder(statement.details["location"])
        parse_s3_url(location)
        if self.objects.has_objects(location):
            raise AthenaQueryError("HIVE_PATH_ALREADY_EXISTS", f"Target directory for UNLOAD is not empty: {location}")
        props = {k.lower(): v for k, v in statement.details["properties"].items()}
        partitioned_by: list[str] = []
        if props.get("partitioned_by"):
            array = parse_sql(f"SELECT {props['partitioned_by']}").expressions[0]
            partitioned_by = [str(property_value(e)).lower() for e in getattr(array, "expressions", [])]
        fmt = WriteFormat.named(str(props.get("format", "PARQUET")).strip("'"), props.get("compression"),
                                props.get("field_delimiter"))
        resolved = self.connections.resolver.resolve(inner.ast, ctx.database)
        with self.connections.connection(ctx, resolved) as con:
            names, duck_types = self.materialize(ctx, con, to_duckdb(resolved, ctx.database))
            names = [n.lower() if not n.startswith(UNNAMED) else f"_col{i}" for i, n in enumerate(names)]
            renames = ", ".join(f"#{i + 1} AS {ident(n)}" for i, n in enumerate(names))
            con.execute(f"CREATE TEMP TABLE __wr_unload AS SELECT {renames} FROM {RESULT}")
            check_partition_order(names, partitioned_by)
            written = self.write_rows(ctx, con, "__wr_unload", names, duck_types, partitioned_by, location, fmt)
        return self.outcome(statement, written.rows, written, kind="csv")
