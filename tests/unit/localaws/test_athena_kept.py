"""Prepared queries' DuckDB connections kept between runs (kept.py), on real DuckDB connections, and a
running statement's hold on its connection: an interrupt reaches the connection only while the statement
runs in it."""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from localaws.athena import kept, prepared, results
from localaws.athena.context import QueryContext
from localaws.athena.transpile import Resolved


def _prepared(sql: str = "SELECT 1") -> prepared.PreparedQuery:
    return prepared.PreparedQuery("b:1", ("db", "t"), "DML", "SELECT", Resolved(exp.select("1"), []), sql, False)


def _bound(database: duckdb.DuckDBPyConnection, rows: int = 3) -> kept.BoundQuery:
    con = database.cursor()
    con.execute(f"CREATE TEMP VIEW t AS SELECT range AS x FROM range({rows})")
    relation = con.sql("SELECT sum(x) AS total FROM t")
    projection = results.TextProjection.of(["HUGEINT"])
    return kept.BoundQuery(con, "SELECT sum(x) AS total FROM t", ["total"], ["HUGEINT"], projection,
                           relation.project(projection.sql()))


def _run(bound: kept.BoundQuery) -> list[Any]:
    return [b.column(0).to_pylist() for b in results.read_text(bound.projection, bound.projected)]


def _closed(bound: kept.BoundQuery) -> bool:
    try:
        bound.connection.execute("SELECT 1")
    except duckdb.ConnectionException:
        return True
    return False


VIEWS: kept.Views = (("t", "SELECT range AS x FROM range(3)"),)


def test_a_kept_query_runs_again_and_serves_one_run_at_a_time() -> None:
    database, store = duckdb.connect(), kept.KeptQueries()
    made_for, key = _prepared(), (prepared.key("q", [], "db"), VIEWS)
    bound = _bound(database)
    assert _run(bound) == [["3"]]
    store.keep(key, made_for, bound)
    taken = store.take(key, made_for)
    assert taken is bound and _run(taken) == [["3"]]
    assert store.take(key, made_for) is None  # taken out while it runs
    store.keep(key, made_for, taken)
    assert len(store) == 1


def test_a_query_kept_for_another_preparation_is_closed_not_used() -> None:
    database, store = duckdb.connect(), kept.KeptQueries()
    key = (prepared.key("q", [], "db"), VIEWS)
    old = _bound(database)
    store.keep(key, _prepared(), old)
    assert store.take(key, _prepared()) is None  # Glue changed: the query was prepared again
    assert _closed(old) and len(store) == 0


def test_other_views_are_another_key() -> None:
    database, store = duckdb.connect(), kept.KeptQueries()
    made_for = _prepared()
    store.keep((prepared.key("q", [], "db"), VIEWS), made_for, _bound(database))
    other = (("t", "SELECT range AS x FROM range(4)"),)  # an object changed: another local copy
    assert store.take((prepared.key("q", [], "db"), other), made_for) is None
    assert store.take((prepared.key("q", [], "db"), VIEWS), made_for) is not None


def test_kept_queries_are_bounded_and_closed_when_dropped() -> None:
    database, store = duckdb.connect(), kept.KeptQueries(entries=2)
    made_for = _prepared()
    bound = {name: _bound(database) for name in "abc"}
    for name in "abc":
        store.keep((prepared.key(name, [], "db"), VIEWS), made_for, bound[name])
    assert len(store) == 2 and _closed(bound["a"]) and not _closed(bound["b"])
    second = _bound(database)  # two runs at once kept their own: the one kept later stays
    store.keep((prepared.key("c", [], "db"), VIEWS), made_for, second)
    assert _closed(bound["c"]) and store.take((prepared.key("c", [], "db"), VIEWS), made_for) is second
    store.close()
    assert _closed(bound["b"]) and len(store) == 0


LONG = "SELECT count(*) FROM range(60000000) a(x) WHERE x % 7 = 3"


def _long_query(con: duckdb.DuckDBPyConnection, outcome: dict[str, Any], started: threading.Event) -> None:
    started.set()
    try:
        outcome["rows"] = con.execute(LONG).fetchall()
    except duckdb.Error as error:
        outcome["error"] = error


@pytest.mark.parametrize("attached", [True, False])
def test_an_interrupt_reaches_only_the_connection_the_statement_runs_in(attached: bool) -> None:
    con = duckdb.connect().cursor()
    ctx = QueryContext("q", LONG, "db", "s3://b/", "primary", services=None)  # type: ignore[arg-type]
    ctx.attach(con)
    if not attached:
        ctx.attach(None)  # let go of: it may be running someone else's query now
    outcome: dict[str, Any] = {}
    started = threading.Event()
    thread = threading.Thread(target=_long_query, args=(con, outcome, started))
    thread.start()
    started.wait()
    while thread.is_alive() and not outcome:
        ctx.interrupt()
        thread.join(0.01)
    thread.join()
    if attached:
        assert isinstance(outcome.get("error"), duckdb.InterruptException)
    else:
        assert outcome.get("rows") == [(8571429,)]
