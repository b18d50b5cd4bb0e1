"""Runs one statement: parses it, dispatches it by kind, and returns what Athena would report.

Queries run here: tables are resolved through Glue (transpile.Resolver), the partitions each table
reference needs are chosen (pruning.py), their objects listed and cached (objects.py), registered in a
locked-down DuckDB as ``__wr_scan_N`` views (scans.py, duck.py), and the transpiled SQL executed.
DDL goes to ddl.py, CTAS / INSERT / MERGE to writes.py.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from localaws.athena import pruning, results, statements
from localaws.athena.catalog import Catalog, Partition
from localaws.athena.duck import DuckDatabases
from localaws.athena.errors import AthenaQueryError, from_duckdb
from localaws.athena.objects import ObjectStore, S3Object, folder
from localaws.athena.scans import FileGroup, ScanSql, TableScan, empty_scan_sql
from localaws.athena.statements import Statement
from localaws.athena.transpile import Resolved, Resolver, output_name, to_duckdb


@dataclass
class Services:
    catalog: Catalog
    objects: ObjectStore
    duck: DuckDatabases


@dataclass
class Outcome:
    """What a statement produced, as GetQueryExecution / GetQueryResults report it."""

    statement_type: str
    substatement_type: str
    names: list[str] = field(default_factory=list)
    duck_types: list[str] = field(default_factory=list)
    text: pa.Table | None = None
    header_row: bool = False
    kind: str = "txt"  # result file: csv (queries) or txt (DDL / utility)
    update_count: int | None = None
    scanned: int = 0
    planning_ms: int = 0
    manifest: list[str] | None = None  # objects written (CTAS, INSERT, UNLOAD): the data manifest


@dataclass
class QueryContext:
    query_id: str
    sql: str
    database: str
    output_location: str  # the folder results go to (s3://bucket/prefix/)
    workgroup: str
    services: Services
    parameters: list[str] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)
    connection: duckdb.DuckDBPyConnection | None = None
    # a query's CSV result is uploaded while it runs when the executor gives a way to (see results.CsvUpload)
    open_csv_upload: Callable[[list[str]], results.CsvUpload] | None = None
    csv_upload: results.CsvUpload | None = None
    scanned: int = 0
    planning_ms: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def mark(self, phase: str, started: float) -> float:
        """Record how long a phase took (for the engine's log); returns now."""
        now = time.monotonic()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - started
        return now

    def check(self) -> None:
        if self.cancelled.is_set():
            raise AthenaQueryError("USER_CANCELED", "Query was canceled")

    def locate(self, name: str) -> tuple[int, int] | None:
        """(line, col) of the first identifier ``name`` in the user's SQL."""
        target = name.lower().strip('"')
        try:
            for token in statements.tokens(self.sql):
                if token.text.lower().strip('"`') == target:
                    line = self.sql.count("\n", 0, token.start) + 1
                    return line, token.start - self.sql.rfind("\n", 0, token.start)
        except AthenaQueryError:
            return None
        return None


def substitute_parameters(ast: exp.Expression, parameters: list[str]) -> exp.Expression:
    """ExecutionParameters replace the statement's ``?`` placeholders, in order."""
    placeholders = [p for p in ast.find_all(exp.Placeholder) if p.args.get("this") in (None, "", "?")]
    if len(placeholders) != len(parameters):
        raise AthenaQueryError(
            "INVALID_PARAMETER_USAGE",
            f"Incorrect number of parameters: expected {len(placeholders)} but found {len(parameters)}")
    for placeholder, value in zip(placeholders, parameters, strict=True):
        placeholder.replace(statements.parse_sql(f"SELECT {value}").expressions[0])
    return ast


WIDE_SCAN_PARTITIONS = 4


def group_location(table: Any, group: FileGroup) -> str:
    """Where a file group's objects are: a partition's location, the table's, or for the emulated
    Iceberg tables ``<location>data/``."""
    if group.partition is not None:
        return folder(group.partition.location)
    if table.is_iceberg:
        return folder(table.location) + "data/"
    return folder(table.location)


class Runner:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.resolver = Resolver(services.catalog)
        self._pool = ThreadPoolExecutor(8, thread_name_prefix="plan")
        # imported here: ddl and writes use this module's QueryEngine
        from localaws.athena import ddl, writes

        self.ddl = ddl.Ddl(self)
        self.writes = writes.Writes(self)

    def run(self, ctx: QueryContext) -> Outcome:
        started = time.monotonic()
        statement = statements.parse(ctx.sql)
        if ctx.parameters:
            if statement.ast is None:
                raise AthenaQueryError("NOT_SUPPORTED", "ExecutionParameters are only supported for queries and DML")
            statement.ast = substitute_parameters(statement.ast, ctx.parameters)
        ctx.planning_ms = int((time.monotonic() - started) * 1000)
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
        handler: Callable[[QueryContext, Statement], Outcome] | None = (
            self.writes.handler(statement.kind) or self.ddl.handler(statement.kind))
        if handler is None:
            raise AthenaQueryError("NOT_SUPPORTED", f"{statement.substatement_type} is not supported by the local "
                                                    "engine")
        return handler(ctx, statement)

    # ---- queries -------------------------------------------------------------------------
    def select(self, ctx: QueryContext, ast: exp.Expression, statement: Statement) -> Outcome:
        started = time.monotonic()
        resolved = self.resolver.resolve(ast, ctx.database)
        started = ctx.mark("resolve", started)
        with self.connection(ctx, resolved) as con:
            started = time.monotonic()
            sql = to_duckdb(resolved, ctx.database)
            relation = self.relation(ctx, con, sql)
            names, duck_types = self.names_and_types(relation)
            if isinstance(ast, exp.Values):
                names = [f"_col{i}" for i in range(len(names))]
            started = ctx.mark("bind", started)
            text = self.execute_text(ctx, con, sql, names, duck_types, relation, upload=True)
            ctx.mark("execute", started)
        return Outcome(statement.statement_type, statement.substatement_type, names, duck_types, text,
                       header_row=True, kind="csv")

    def bind(self, ctx: QueryContext, ast: exp.Expression) -> tuple[list[str], list[str]]:
        """Output names and DuckDB types of a query, without reading any data."""
        resolved = self.resolver.resolve(ast, ctx.database)
        with self.connection(ctx, resolved, bind_only=True) as con:
            return self.describe(ctx, con, to_duckdb(resolved, ctx.database))

    def relation(self, ctx: QueryContext, con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyRelation:
        """The query, bound (not run): binding errors are the user's SQL errors."""
        try:
            relation = con.sql(sql)
            relation.types  # noqa: B018 - binds now, so errors surface here
            return relation
        except duckdb.Error as error:
            raise from_duckdb(error, ctx.locate) from None

    @staticmethod
    def names_and_types(relation: duckdb.DuckDBPyRelation) -> tuple[list[str], list[str]]:
        """Output names (Athena's) and DuckDB types of a bound query."""
        names = [output_name(name, index) for index, name in enumerate(relation.columns)]
        return names, [str(t) for t in relation.types]

    def describe(self, ctx: QueryContext, con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[str]]:
        return self.names_and_types(self.relation(ctx, con, sql))

    def execute_text(self, ctx: QueryContext, con: duckdb.DuckDBPyConnection, sql: str, names: list[str],
                     duck_types: list[str], relation: duckdb.DuckDBPyRelation | None = None,
                     upload: bool = False) -> pa.Table:
        """The query's values as Athena's text; with ``upload`` (a query's result) the CSV result goes up
        to S3 batch by batch while DuckDB produces the rest, when the executor allows it."""
        ctx.check()
        try:
            if not (upload and names and ctx.open_csv_upload is not None):
                return results.to_text_table(con, sql, names, duck_types, relation)
            ctx.csv_upload = ctx.open_csv_upload(names)
            batches = []
            for batch in results.text_batches(con, sql, names, duck_types, relation):
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
        resolved = self.resolver.resolve(inner.ast, ctx.database)
        analyze = statement.details["analyze"]
        with self.connection(ctx, resolved, read_data=analyze) as con:
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

    # ---- scans ---------------------------------------------------------------------------
    def partitions_for(self, scan_table: Any, conditions: list[pruning.Condition]) -> list[Partition]:
        table = scan_table
        if pruning.projection_enabled(table):
            return pruning.projected_partitions(table, conditions)
        expression = pruning.glue_expression(conditions, table.partition_keys)
        found = self.services.catalog.planned_partitions(table, expression)
        return pruning.prune(found, table.partition_keys, conditions)

    def plan_scans(self, ctx: QueryContext, resolved: Resolved) -> list[TableScan]:
        """Which objects each table reference reads. Glue's partitions of every table are read in
        parallel; when a query needs all partitions of a table, the table's location is listed (once,
        recursively) while Glue answers, and the objects are assigned to partitions by prefix."""
        objects = self.services.objects
        partitions: dict[int, Future[list[Partition]]] = {}
        speculative: dict[str, Future[list[S3Object]]] = {}
        for index, request in enumerate(resolved.scans):
            ctx.check()
            table = request.table
            if not table.location and not table.partition_keys:
                raise AthenaQueryError("HIVE_METASTORE_ERROR", f"Table {table.qualified} has no location")
            if table.partition_keys and not table.is_iceberg:
                partitions[index] = self._pool.submit(self.partitions_for, table, request.conditions)
                if not request.conditions and table.location and not pruning.projection_enabled(table):
                    root = folder(table.location)
                    if root not in speculative:
                        speculative[root] = self._pool.submit(objects.planned_list, root)
        scans: list[TableScan] = []
        for index, request in enumerate(resolved.scans):
            if index in partitions:
                groups = [FileGroup(p, []) for p in partitions[index].result() if p.location]
            else:
                groups = [FileGroup(None, [])]
            scans.append(TableScan(request.table, groups, request.pseudo))
        wide: dict[int, str] = {}
        locations: list[str] = []
        for index, scan in enumerate(scans):
            own = [group_location(scan.table, g) for g in scan.groups]
            root = folder(scan.table.location) if scan.table.location else ""
            under = bool(root) and bool(scan.groups) and scan.groups[0].partition is not None and all(
                loc.startswith(root) for loc in own)
            if under and (root in speculative or len(own) > WIDE_SCAN_PARTITIONS):
                wide[index] = root
                if root not in speculative:
                    locations.append(root)
            else:
                locations += own
        listed = objects.list_many(locations, planned=True) if locations else {}
        for root, future in speculative.items():
            listed[root] = future.result()
        for index, scan in enumerate(scans):
            if index in wide:
                by_location = {group_location(scan.table, g): g for g in scan.groups}
                for obj in listed.get(wide[index], []):
                    url = obj.url
                    cut = len(url)
                    while True:
                        cut = url.rfind("/", 0, cut)
                        if cut < 0:
                            break
                        group = by_location.get(url[:cut + 1])
                        if group is not None:
                            group.objects.append(obj)
                            break
            else:
                for group in scan.groups:
                    group.objects = listed.get(group_location(scan.table, group), [])
        return scans

    @contextlib.contextmanager
    def connection(self, ctx: QueryContext, resolved: Resolved, read_data: bool = True, bind_only: bool = False,
                   ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A locked-down DuckDB connection with the resolved query's scans registered (``bind_only``:
        empty relations of the tables' types, for binding without reading data)."""
        if bind_only:
            con = self.services.duck.acquire()
            try:
                for request in resolved.scans:
                    sql = empty_scan_sql(request.table, request.pseudo)
                    con.execute(f'CREATE TEMP VIEW "{request.name}" AS {sql}')
                yield con
            finally:
                self.services.duck.release(con)
            return
        started = time.monotonic()
        scans = self.plan_scans(ctx, resolved)
        started = ctx.mark("plan", started)
        objects: list[S3Object] = [o for s in scans for o in s.objects]
        ctx.scanned += sum(o.size for o in objects) if read_data else 0
        duck = self.services.duck
        with self.services.objects.pinned(objects, ctx.cancelled.is_set) as local:
            ctx.check()
            con = duck.acquire()
            ctx.connection = con
            try:
                started = ctx.mark("cache", started)
                builder = ScanSql(lambda obj: local[obj])
                for request, scan in zip(resolved.scans, scans, strict=True):
                    try:
                        con.execute(f'CREATE TEMP VIEW "{request.name}" AS {builder.sql(scan)}')
                    except duckdb.Error as error:
                        raise from_duckdb(error) from None
                ctx.mark("register", started)
                yield con
            finally:
                ctx.connection = None
                duck.release(con)
