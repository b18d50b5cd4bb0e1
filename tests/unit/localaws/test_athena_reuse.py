"""Result reuse's pieces without a stack: the request's validation, the store's search for an earlier
result (and the columns it needs added to a store an older engine wrote)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from localaws.athena import reuse
from localaws.athena.errors import RequestError
from localaws.athena.store import SUCCEEDED, QueryRecord, QueryStore


def record(query_id: str, query: str = "SELECT 1", **changes: object) -> QueryRecord:
    values: dict[str, object] = {"id": query_id, "query": query, "workgroup": "wg", "state": SUCCEEDED,
                                 "submitted": time.time() - 1, "catalog": "awsdatacatalog", "database": "db",
                                 "output_location": f"s3://b/{query_id}.csv", "completed": time.time(),
                                 "statement_type": "DML", "substatement_type": "SELECT"}
    values.update(changes)
    return QueryRecord(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("body", "expected"), [
    ({}, None),
    ({"ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": True}}}, reuse.ReuseRequest(True, 60)),
    ({"ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 0}}},
     reuse.ReuseRequest(True, 0)),
    ({"ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}}},
     reuse.ReuseRequest(False, 60)),
])
def test_reuse_request(body: dict[str, object], expected: reuse.ReuseRequest | None) -> None:
    assert reuse.reuse_request(body) == expected


@pytest.mark.parametrize("by_age", [{}, {"Enabled": "yes"}, {"Enabled": True, "MaxAgeInMinutes": -1},
                                    {"Enabled": True, "MaxAgeInMinutes": 10081}])
def test_a_malformed_reuse_request_is_refused(by_age: dict[str, object]) -> None:
    with pytest.raises(RequestError):
        reuse.reuse_request({"ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": by_age}})


def test_the_newest_matching_success_is_found(tmp_path: Path) -> None:
    store = QueryStore(tmp_path)
    store.insert(record("old", completed=time.time() - 30))
    store.insert(record("new"))
    store.insert(record("other-db", database="elsewhere"))
    store.insert(record("params", parameters=["1"]))
    store.insert(record("failed", state="FAILED", completed=time.time() + 1))
    found = store.latest_success("SELECT 1", "wg", "awsdatacatalog", "db", None, time.time() - 60)
    assert found is not None and found.id == "new"
    found = store.latest_success("SELECT 1", "wg", "awsdatacatalog", "db", ["1"], time.time() - 60)
    assert found is not None and found.id == "params"
    assert store.latest_success("SELECT 1", "wg", "awsdatacatalog", "db", None, time.time() + 1) is None
    assert store.latest_success("SELECT 2", "wg", "awsdatacatalog", "db", None, 0) is None


def test_only_select_reuses_and_a_reused_record_points_at_the_earlier_result(tmp_path: Path) -> None:
    store = QueryStore(tmp_path / "store")
    results = tmp_path / "results"
    results.mkdir()
    (results / "first.arrow").write_bytes(b"arrow")
    store.insert(record("first", result_rows=1, columns=[{"Name": "x"}], header_row=True))
    request = reuse.ReuseRequest(True, 60)
    later = record("later", state="QUEUED", completed=None, output_location="s3://b/later.csv")
    previous = reuse.find_reusable(store, later, request, lambda url: True, results)
    assert previous is not None and previous.id == "first"
    assert reuse.find_reusable(store, later, request, lambda url: False, results) is None  # result gone
    elsewhere = record("elsewhere", state="QUEUED", completed=None, output_location="s3://other/elsewhere.csv")
    assert reuse.find_reusable(store, elsewhere, request, lambda url: True, results) is None
    assert reuse.find_reusable(store, later, reuse.ReuseRequest(False, 60), lambda url: True, results) is None
    insert = record("insert", query="SELECT 1", substatement_type="INSERT")
    assert reuse.find_reusable(store, insert, request, lambda url: True, results) is None
    answered = reuse.reused_record(later, previous, results)
    store.insert(answered)
    stored = store.get("later")
    assert stored is not None and stored.reused and stored.state == SUCCEEDED
    assert stored.output_location == "s3://b/first.csv" and stored.columns == [{"Name": "x"}]
    assert (results / "later.arrow").read_bytes() == b"arrow"
    assert stored.started is not None and stored.started > stored.submitted


def test_a_store_an_older_engine_wrote_gets_the_reuse_columns(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "queries.sqlite3")
    db.execute("CREATE TABLE queries (id TEXT PRIMARY KEY, token TEXT, query TEXT NOT NULL, workgroup TEXT NOT NULL, "
               "catalog TEXT, database TEXT, output_location TEXT, result_configuration TEXT, state TEXT NOT NULL, "
               "reason TEXT, athena_error TEXT, statement_type TEXT, substatement_type TEXT, submitted REAL NOT NULL, "
               "started REAL, completed REAL, scanned INTEGER, planning_ms INTEGER, engine_ms INTEGER, "
               "processing_ms INTEGER, update_count INTEGER, columns TEXT, result_rows INTEGER, header_row INTEGER, "
               "parameters TEXT, engine_version TEXT, manifest_location TEXT)")
    db.execute("INSERT INTO queries (id, query, workgroup, state, submitted, header_row) "
               "VALUES ('q', 'SELECT 1', 'wg', 'SUCCEEDED', 1.0, 1)")
    db.commit()
    db.close()
    stored = QueryStore(tmp_path).get("q")
    assert stored is not None and stored.reused is False and stored.reuse_configuration is None
