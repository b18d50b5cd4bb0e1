"""Runs one statement: parses it, dispatches it by kind, and returns what Athena would report.

Queries run here: their tables are resolved through Glue and registered in a locked-down DuckDB
(context.Connections), and the transpiled SQL executed, its result uploaded as it comes when the
executor allows. DDL and utility statements go to ddl.py, CTAS / INSERT / UNLOAD / MERGE / UPDATE /
DELETE / OPTIMIZE / VACUUM to writes.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import duckdb
import pyarrow as pa
from sqlglot import exp

from localaws.athena import output_types, prepared, results, statements, switches
from localaws.athena.context import Connections, Handler, Outcome, QueryContext, Services
from localaws.athena.ddl import Ddl
from localaws.athena.errors import AthenaQueryError, at, from_duckdb
from localaws.athena.freshness import Assumptions
from localaws.athena.statements import Statement
from localaws.athena.transpile import Resolved, to_duckdb
from localaws.athena.writes import Writes

log = logging.getLogger("wildrydes.athena.runner")


def substitute_parameters(ast: exp.Expression, parameters: list[str], where: str = "") -> exp.Expression:
    """ExecutionParameters replace the statement's ``?`` placeholders, in order; their number must be the
    placeholders' (Trino's QueryPreparer: INVALID_PARAMETER_USAGE, located at the statement)."""
    placeholders = [p for p in ast.find_all(exp.Placeholder) if p.args.get("this") in (None, "", "?")]
    if len(placeholders) != len(parameters):
        raise AthenaQueryError(
            "INVALID_PARAMETER_USAGE",
            f"{where}Incorrect number of parameters: expected {len(placeholders)} but found {len(parameters)}")
    for placeholder, value in zip(placeholders, parameters, strict=True):
        placeholder.replace(statements.parse_sql(f"SELECT {value}").expressions[0])
    return ast


def parameterized(statement: Statement) -> Statement | None:
    """The part of ``statement`` whose ``?`` ExecutionParameters fill: the statement itself, or the query of
    an UNLOAD (Athena takes parameters in SELECT, INSERT INTO, CTAS and UNLOAD); None for other commands."""
    if statement.kind == "unload":
        inner = statement.details.get("query")
        return inner if isinstance(inner, Statement) and inner.ast is not None else None
    return statement if statement.ast is not None else None


def statement_start(text: str) -> str:
    """Where the statement's first token is, as Athena prefixes messages about the whole statement."""
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    line = text.count("\n", 0, offset) + 1
    return at(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


class Runner:
    def __init__(self, services: Services) -> None:
        self.connections = Connections(services)
        self.ddl = Ddl(self.connections)
        self.writes = Writes(self.connections)
        self.prepared = prepared.PreparedQueries() if switches.fast_paths() else None

    def run(self, ctx: QueryContext) -> Outcome:
        started = time.monotonic()
        query_key = prepared.key(ctx.sql, ctx.parameters, ctx.database)
        known = self.prepared.get(query_key) if self.prepared is not None else None
        if known is not None:
            ctx.planning_ms = int((time.monotonic() - started) * 1000)
            ctx.mark("parse", started)
            outcome = self.select_prepared(ctx, known)
            if outcome is not None:
                return outcome
            log.info("query %s: Glue or S3 changed since it was prepared; planned again", ctx.query_id)
            if self.prepared is not None:
                self.prepared.drop(query_key)
            started = time.monotonic()
        statement = statements.parse(ctx.sql)
        target = parameterized(statement)
        if target is not None and target.ast is not None:
            # also without ExecutionParameters: a "?" then has no value, as Athena reports
            target.ast = substitute_parameters(target.ast, ctx.parameters, statement_start(statement.text))
        elif ctx.parameters:
            raise AthenaQueryError("NOT_SUPPORTED", "ExecutionParameters are only supported for queries and DML")
        ctx.planning_ms = int((time.monotonic() - started) * 1000)
        ctx.mark("parse", started)
        outcome = self.dispatch(ctx, statement)
        outcome.scanned = ctx.scanned
        outcome.planning_ms = ctx.planning_ms
        return outcome

    def dispatch(self, ctx: QueryContext, statement: Statement) -> Outcome:
        if statement.kind == "query":
            assert statement.ast is not None
            return self.select(ctx, statement.ast, statement)
        if statement.kind == "explain":
            return self.explain(ctx, statement)
        handler: Handler | None = (
            self.writes.handler(statement.kind) or self.ddl.handler(statement.kind))
        if handler is None:
            raise AthenaQueryError("NOT_SUPPORTED", f"{statement.substatement_type} is not supported by the local "
                                                    "engine")
        return handler(ctx, statement)

    # ---- queries -------------------------------------------------------------------------
    def select(self, ctx: QueryContext, ast: exp.Expression, statement: Statement) -> Outcome:
        started = time.monotonic()
        resolved = self.connections.resolver.resolve(ast, ctx.database)
        ctx.mark("resolve", started)
        values = isinstance(ast, exp.Values)
        outcome, sql = self._select(ctx, resolved, lambda: to_duckdb(resolved, ctx.database), values,
                                    (statement.statement_type, statement.substatement_type))
        stamp = prepared.glue_stamp(resolved)
        if self.prepared is not None and stamp is not None and resolved.scans:
            probe = resolved.scans[0].table
            self.prepared.put(prepared.key(ctx.sql, ctx.parameters, ctx.database), prepared.PreparedQuery(
                stamp, (probe.database, probe.name), statement.statement_type, statement.substatement_type,
                resolved, sql, values))
        return outcome

    def select_prepared(self, ctx: QueryContext, known: prepared.PreparedQuery) -> Outcome | None:
        """The query as prepared before, assuming Glue and the buckets it reads are as they were (checked
        while it runs); None when they are not: what it did is undone, to be planned again."""
        assume = self.connections.assumptions(known.probe)
        assume.glue(known.stamp)
        try:
            outcome, _ = self._select(ctx, known.resolved, lambda: known.sql, known.values,
                                      (known.statement_type, known.substatement_type), assume)
        except AthenaQueryError:
            if assume.hold():
                raise
            outcome = None
        started = time.monotonic()
        if outcome is not None and assume.hold():
            ctx.mark("verify", started)
            outcome.scanned = ctx.scanned
            outcome.planning_ms = ctx.planning_ms
            return outcome
        upload, ctx.csv_upload = ctx.csv_upload, None
        if upload is not None:
            upload.abort()
        ctx.scanned = 0
        return None

    def _select(self, ctx: QueryContext, resolved: Resolved, transpile: Callable[[], str], values: bool,
                types: tuple[str, str], assume: Assumptions | None = None) -> tuple[Outcome, str]:
        with self.connections.connection(ctx, resolved, assume=assume) as con:
            started = time.monotonic()
            sql = transpile()
            relation = self.connections.relation(ctx, con, sql)
            names, duck_types = self.connections.names_and_types(relation)
            duck_types = output_types.apply(duck_types, resolved.output_types)
            if values:
                names = [f"_col{i}" for i in range(len(names))]
            started = ctx.mark("bind", started)
            if assume is not None:
                assume.start()
            text = self.execute_text(ctx, con, sql, names, duck_types, relation, upload=True,
                                     column_zones=resolved.output_zones)
            ctx.mark("execute", started)
        return Outcome(*types, names, duck_types, text, header_row=True, kind="csv"), sql

    def execute_text(self, ctx: QueryContext, con: duckdb.DuckDBPyConnection, sql: str, names: list[str],
                     duck_types: list[str], relation: duckdb.DuckDBPyRelation | None = None,
                     upload: bool = False, column_zones: list[str | None] | None = None) -> pa.Table:
        """The query's values as Athena's text; with ``upload`` (a query's result) the CSV result goes up
        to S3 batch by batch while DuckDB produces the rest, when the executor allows it."""
        ctx.check()
        try:
            if not (upload and names and ctx.open_csv_upload is not None):
                return results.to_text_table(con, sql, names, duck_types, relation, column_zones)
            ctx.csv_upload = ctx.open_csv_upload(names, duck_types)
            batches = []
            for batch in results.text_batches(con, sql, names, duck_types, relation, column_zones):
                ctx.check()
                ctx.csv_upload.add(batch)
                batches.append(batch)
            return pa.Table.from_batches(batches, schema=results.text_schema(names))
        except duckdb.Error as error:
            ctx.check()
            raise from_duckdb(error, ctx.locate) from None

    def explain(self, ctx: QueryContext, statement: Statement) -> Outcome:
        inner: Statement = statement.details["statement"]
        if inner.kind != "query" or inner.ast is None:
            raise AthenaQueryError("NOT_SUPPORTED", "EXPLAIN of statements other than queries is not supported by the "
                                                    "local engine")
        resolved = self.connections.resolver.resolve(inner.ast, ctx.database)
        analyze = statement.details["analyze"]
        with self.connections.connection(ctx, resolved, read_data=analyze) as con:
            sql = to_duckdb(resolved, ctx.database)
            try:
                rows = con.execute(("EXPLAIN ANALYZE " if analyze else "EXPLAIN ") + sql).fetchall()
            except duckdb.Error as error:
                raise from_duckdb(error, ctx.locate) from None
        lines: list[list[str | None]] = []
        for row in rows:
            for line in str(row[-1]).splitlines():
                lines.append([line])
        return Outcome(statement.statement_type, statement.substatement_type, ["Query Plan"], ["VARCHAR"],
                       results.rows_table(["Query Plan"], lines), header_row=False, kind="txt")
