"""What every statement runs with and produces, shared by the runner and the statement families (ddl_*,
writes' modules): the engine's services, a running statement's QueryContext, the Outcome it reports,
and Connections: Glue names resolved (transpile.Resolver), the objects each table reference reads
planned (planning.py), and registered in a locked-down DuckDB connection as ``__wr_scan_N`` views
(scans.py, duck.py).

The runner builds one Connections and hands it to the statement families; they import this module,
never the runner.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from sqlglot import exp

from localaws.athena import results
from localaws.athena.catalog import Catalog, TableInfo
from localaws.athena.duck import DuckDatabases
from localaws.athena.errors import AthenaQueryError, from_duckdb
from localaws.athena.freshness import Assumptions
from localaws.athena.objects import ObjectStore, S3Object
from localaws.athena.planning import ScanPlanner
from localaws.athena.scans import ScanSql, empty_scan_sql
from localaws.athena.statements import Statement
from localaws.athena.syntax import TableName, tokens
from localaws.athena.transpile import Resolved, Resolver, output_name, to_duckdb
from localaws.moto.counters import CountersView


@dataclass
class Services:
    catalog: Catalog
    objects: ObjectStore
    duck: DuckDatabases
    moto_counts: CountersView | None = None  # the moto host's mutation counts, when the engine maps them


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


def text_rows(names: list[str], rows: list[list[str | None]], statement: Statement) -> Outcome:
    """A DDL / utility statement's rows: Athena's headerless ``.txt`` result."""
    return Outcome(statement.statement_type, statement.substatement_type, names, ["VARCHAR"] * len(names),
                   results.rows_table(names, rows) if rows else None, header_row=False, kind="txt")


def no_rows(statement: Statement) -> Outcome:
    return Outcome(statement.statement_type, statement.substatement_type, kind="txt")


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
    connection: duckdb.DuckDBPyConnection | None = None  # the one it runs in now: see attach, interrupt
    connection_lock: threading.Lock = field(default_factory=threading.Lock)
    # a query's CSV result is uploaded while it runs when the executor gives a way to (see results.CsvUpload);
    # it is opened with the result's column names and DuckDB types, once they are known
    open_csv_upload: Callable[[list[str], list[str]], results.CsvUpload] | None = None
    csv_upload: results.CsvUpload | None = None
    metadata_upload: results.MetadataUpload | None = None  # the .metadata put early, by open_csv_upload
    scanned: int = 0
    planning_ms: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    def mark(self, phase: str, started: float) -> float:
        """Record how long a phase took (for the engine's log); returns now."""
        now = time.monotonic()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - started
        return now

    def attach(self, con: duckdb.DuckDBPyConnection | None) -> None:
        """The connection the statement runs in from now on (None: none). Once let go of, a connection can
        be lent to another query (kept.py), so an interrupt must never reach it through this context."""
        with self.connection_lock:
            self.connection = con

    def interrupt(self) -> None:
        """Interrupt DuckDB in the connection the statement runs in, if any."""
        with self.connection_lock:
            if self.connection is not None:
                self.connection.interrupt()

    def check(self) -> None:
        if self.cancelled.is_set():
            raise AthenaQueryError("USER_CANCELED", "Query was canceled")

    def locate(self, name: str) -> tuple[int, int] | None:
        """(line, col) of the first identifier ``name`` in the user's SQL."""
        target = name.lower().strip('"')
        try:
            for token in tokens(self.sql):
                if token.text.lower().strip('"`') == target:
                    line = self.sql.count("\n", 0, token.start) + 1
                    return line, token.start - self.sql.rfind("\n", 0, token.start)
        except AthenaQueryError:
            return None
        return None


Handler = Callable[[QueryContext, Statement], Outcome]


class Connections:
    """Resolves statements' table names through Glue and opens DuckDB connections with a resolved query's
    tables registered."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.resolver = Resolver(services.catalog)
        self.planner = ScanPlanner(services.catalog, services.objects)
        self._checks = ThreadPoolExecutor(8, thread_name_prefix="freshness")

    def assumptions(self, probe: tuple[str, str]) -> Assumptions:
        """Assumptions checked by reads in the background: Glue's stamp by GetDatabase of ``probe``'s
        database (the stamp is Glue's as a whole, so the cheapest read will do), a bucket's by HeadBucket."""
        catalog, objects, counts = self.services.catalog, self.services.objects, self.services.moto_counts
        return Assumptions(self._checks.submit, lambda: catalog.stamp(probe[0]), objects.bucket_stamp,
                           counts.stamp if counts is not None else None)

    @contextlib.contextmanager
    def connection(self, ctx: QueryContext, resolved: Resolved, read_data: bool = True, bind_only: bool = False,
                   assume: Assumptions | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A locked-down DuckDB connection with the resolved query's scans registered (``bind_only``:
        empty relations of the tables' types, for binding without reading data; ``assume``: see
        ScanPlanner.plan)."""
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
        with self.pinned_views(ctx, resolved, read_data, assume) as views:
            con = self.open(ctx, views)
            try:
                yield con
            finally:
                self.let_go(ctx, con)

    @contextlib.contextmanager
    def pinned_views(self, ctx: QueryContext, resolved: Resolved, read_data: bool = True,
                     assume: Assumptions | None = None) -> Iterator[tuple[tuple[str, str], ...]]:
        """The resolved query's scans planned (``assume``: see ScanPlanner.plan), the local copies of their
        objects kept while in use, and each scan's view over them: (view name, SQL)."""
        started = time.monotonic()
        scans = self.planner.plan(resolved, ctx.check, assume)
        started = ctx.mark("plan", started)
        objects: list[S3Object] = [o for s in scans for o in s.objects]
        ctx.scanned += sum(o.size for o in objects) if read_data else 0
        with self.services.objects.pinned(objects, ctx.cancelled.is_set) as local:
            ctx.check()
            builder = ScanSql(lambda obj: local[obj])
            views = tuple((request.name, builder.sql(scan))
                          for request, scan in zip(resolved.scans, scans, strict=True))
            ctx.mark("cache", started)
            yield views

    def open(self, ctx: QueryContext, views: tuple[tuple[str, str], ...]) -> duckdb.DuckDBPyConnection:
        """A locked-down connection, attached to ``ctx``, with ``views`` registered."""
        started = time.monotonic()
        con = self.services.duck.acquire()
        ctx.attach(con)
        try:
            for name, sql in views:
                try:
                    con.execute(f'CREATE TEMP VIEW "{name}" AS {sql}')
                except duckdb.Error as error:
                    raise from_duckdb(error) from None
        except BaseException:
            self.let_go(ctx, con)
            raise
        ctx.mark("register", started)
        return con

    def let_go(self, ctx: QueryContext, con: duckdb.DuckDBPyConnection) -> None:
        ctx.attach(None)
        self.services.duck.release(con)

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


class StatementFamily:
    """The handlers of one family of statements (kind -> handler), and what they run on."""

    def __init__(self, connections: Connections) -> None:
        self.connections = connections
        self.catalog = connections.services.catalog
        self.objects = connections.services.objects

    def handlers(self) -> dict[str, Handler]:
        raise NotImplementedError

    def table(self, ctx: QueryContext, name: TableName) -> TableInfo:
        """The table a statement names (in the session's database when unqualified); TABLE_NOT_FOUND if none."""
        database, relation = name.resolve(ctx.database)
        return self.catalog.require_table(database, relation, name.position)
