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

from localaws.athena import kept, output_types, prepared, results, statements, switches
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
        self.kept = kept.KeptQueries() if switches.fast_paths() else None

    def run(self, ctx: QueryContext) -> Outcome:
        started = time.monotonic()
        query_key = prepared.key(ctx.sql, ctx.parameters, ctx.database)
        known = self.prepared.get(query_key) if self.prepared is not None else None
        if known is not None:
            ctx.planning_ms = int((time.monotonic() - started) * 1000)
            ctx.mark("parse", started)
            outcome = self.select_prepared(ctx, known, query_key)
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
        types = (statement.statement_type, statement.substatement_type)
        outcome, bound, views = self._select(ctx, resolved, lambda: to_duckdb(resolved, ctx.database), values, types)
        stamp = prepared.glue_stamp(resolved)
        if self.prepared is None or stamp is None or not resolved.scans:
            self._let_go(bound)
            return outcome
        probe = resolved.scans[0].table
        query_key = prepared.key(ctx.sql, ctx.parameters, ctx.database)
        known = prepared.PreparedQuery(stamp, (probe.database, probe.name), *types, resolved, bound.sql, values)
        self.prepared.put(query_key, known)
        self._keep(query_key, views, known, bound)
        return outcome

    def select_prepared(self, ctx: QueryContext, known: prepared.PreparedQuery,
                        query_key: prepared.Key) -> Outcome | None:
        """The query as prepared before, assuming Glue and the buckets it reads are as they were (checked
        while it runs); None when they are not: what it did is undone, to be planned again."""
        assume = self.connections.assumptions(known.probe)
        assume.glue(known.stamp)
        bound = None
        try:
            outcome, bound, views = self._select(ctx, known.resolved, lambda: known.sql, known.values,
                                                 (known.statement_type, known.substatement_type), assume,
                                                 (query_key, known))
        except AthenaQueryError:
            if assume.hold():
                raise
            outcome = None
        started = time.monotonic()
        if outcome is not None and bound is not None and assume.hold():
            ctx.mark("verify", started)
            self._keep(query_key, views, known, bound)
            outcome.scanned = ctx.scanned
            outcome.planning_ms = ctx.planning_ms
            return outcome
        if bound is not None:
            self._let_go(bound)
        upload, ctx.csv_upload = ctx.csv_upload, None
        if upload is not None:
            upload.abort()
        ctx.scanned = 0
        return None

    def _select(self, ctx: QueryContext, resolved: Resolved, transpile: Callable[[], str], values: bool,
                types: tuple[str, str], assume: Assumptions | None = None,
                kept_as: tuple[prepared.Key, prepared.PreparedQuery] | None = None,
                ) -> tuple[Outcome, kept.BoundQuery, kept.Views]:
        """Run the query; the connection it ran in comes back with it, detached from ``ctx``: the caller
        keeps it (``_keep``) or lets it go (``_let_go``). ``kept_as``: the query may run as bound before."""
        with self.connections.pinned_views(ctx, resolved, assume=assume) as views:
            bound = None
            if self.kept is not None and kept_as is not None:
                bound = self.kept.take((kept_as[0], views), kept_as[1])
            if bound is None:
                bound = self._bind(ctx, resolved, views, transpile, values)
            else:
                ctx.attach(bound.connection)
            try:
                started = time.monotonic()
                if assume is not None:
                    assume.start()
                text = self._read(ctx, bound)
                ctx.mark("execute", started)
            except BaseException:
                ctx.attach(None)
                self._let_go(bound)
                raise
            ctx.attach(None)
        return Outcome(*types, bound.names, bound.duck_types, text, header_row=True, kind="csv"), bound, views

    def _bind(self, ctx: QueryContext, resolved: Resolved, views: kept.Views, transpile: Callable[[], str],
              values: bool) -> kept.BoundQuery:
        """A connection with ``views`` registered, attached to ``ctx``, and the query bound in it."""
        con = self.connections.open(ctx, views)
        try:
            started = time.monotonic()
            sql = transpile()
            relation = self.connections.relation(ctx, con, sql)
            names, duck_types = self.connections.names_and_types(relation)
            duck_types = output_types.apply(duck_types, resolved.output_types)
            if values:
                names = [f"_col{i}" for i in range(len(names))]
            projection = results.TextProjection.of(duck_types, resolved.output_zones)
            projected = relation.project(projection.sql()) if duck_types else relation
            ctx.mark("bind", started)
        except duckdb.Error as error:
            self.connections.let_go(ctx, con)
            raise from_duckdb(error, ctx.locate) from None
        except BaseException:
            self.connections.let_go(ctx, con)
            raise
        return kept.BoundQuery(con, sql, names, duck_types, projection, projected)

    def _read(self, ctx: QueryContext, bound: kept.BoundQuery) -> pa.Table:
        """The bound query's values as Athena's text; its CSV result goes up to S3 batch by batch while DuckDB
        produces the rest, when the executor allows it."""
        ctx.check()
        try:
            if not bound.duck_types:
                bound.projected.to_arrow_table()
                return pa.table({})
            if ctx.open_csv_upload is not None:
                ctx.csv_upload = ctx.open_csv_upload(bound.names, bound.duck_types)
            batches = []
            for batch in results.read_text(bound.projection, bound.projected):
                ctx.check()
                if ctx.csv_upload is not None:
                    ctx.csv_upload.add(batch)
                batches.append(batch)
            return pa.Table.from_batches(batches, schema=results.text_schema(bound.names))
        except duckdb.Error as error:
            ctx.check()
            raise from_duckdb(error, ctx.locate) from None

    def _keep(self, query_key: prepared.Key, views: kept.Views, made_for: prepared.PreparedQuery,
              bound: kept.BoundQuery) -> None:
        if self.kept is None:
            self._let_go(bound)
            return
        self.connections.services.duck.keep_open(bound.connection)
        self.kept.keep((query_key, views), made_for, bound)

    def _let_go(self, bound: kept.BoundQuery) -> None:
        self.connections.services.duck.release(bound.connection)

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
