"""The engine's fast paths without a stack: assumptions about Glue's and the buckets' stamps and their
checks, queries kept as prepared, results kept in memory, the response JSON, and the bench's reading of
the engine's phase lines."""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pytest
from sqlglot import exp

from bench.athena import engine_phases
from localaws.athena import prepared, switches
from localaws.athena.freshness import Assumptions
from localaws.athena.recent import RecentResults
from localaws.athena.server import _default, encode
from localaws.athena.transpile import Resolved


class Reads:
    """Stamps as the local endpoint would answer, counting the reads."""

    def __init__(self, glue: str | None, buckets: dict[str, str | None]) -> None:
        self.glue_stamp = glue
        self.buckets = buckets
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def glue(self) -> str | None:
        with self._lock:
            self.calls.append("glue")
        return self.glue_stamp

    def bucket(self, name: str) -> str | None:
        with self._lock:
            self.calls.append(name)
        if name not in self.buckets:
            raise RuntimeError("HeadBucket failed")
        return self.buckets[name]


@pytest.fixture
def pool() -> ThreadPoolExecutor:
    with ThreadPoolExecutor(4) as executor:
        yield executor


def assumptions(pool: ThreadPoolExecutor, reads: Reads) -> Assumptions:
    submit: Callable[[Callable[[], str | None]], Future[str | None]] = pool.submit
    return Assumptions(submit, reads.glue, reads.bucket)


def test_assumptions_hold_when_every_stamp_is_still_current(pool: ThreadPoolExecutor) -> None:
    reads = Reads("b:7", {"archive": "b:3"})
    assume = assumptions(pool, reads)
    assume.glue("b:7")
    assume.bucket("archive", "b:3")
    assume.bucket("archive", "b:3")  # one check per scope
    assert reads.calls == []  # checks wait for start()
    assume.start()
    assert assume.hold()
    assert sorted(reads.calls) == ["archive", "glue"]
    assert assume.scopes == ["glue", "s3:archive"]


@pytest.mark.parametrize(("glue", "buckets"), [
    ("b:8", {"archive": "b:3"}),  # Glue changed
    ("b:7", {"archive": "b:4"}),  # an object of the bucket written or deleted
    (None, {"archive": "b:3"}),  # the table is gone (or the endpoint says no stamp)
    ("b:7", {}),  # HeadBucket failed
])
def test_assumptions_fail_on_any_change(pool: ThreadPoolExecutor, glue: str | None,
                                        buckets: dict[str, str | None]) -> None:
    assume = assumptions(pool, Reads(glue, buckets))
    assume.glue("b:7")
    assume.bucket("archive", "b:3")
    assert not assume.hold()  # hold() starts the checks itself


def test_two_different_stamps_of_one_scope_cannot_both_hold(pool: ThreadPoolExecutor) -> None:
    assume = assumptions(pool, Reads("b:7", {"archive": "b:3"}))
    assume.bucket("archive", "b:3")
    assume.bucket("archive", "b:2")
    assert not assume.hold()


def test_an_assumption_made_after_start_is_checked_too(pool: ThreadPoolExecutor) -> None:
    reads = Reads("b:7", {"archive": "b:3", "other": "b:1"})
    assume = assumptions(pool, reads)
    assume.start()
    assume.bucket("other", "b:0")
    assert not assume.hold() and reads.calls == ["other"]


class Local:
    """The moto host's counts as a reader of its file sees them (None: no file)."""

    def __init__(self, stamps: dict[str, str | None]) -> None:
        self.stamps = stamps

    def __call__(self, scope: str) -> str | None:
        return self.stamps.get(scope)


@pytest.mark.parametrize(("glue", "archive", "held"), [
    ("b:7", "b:3", True),
    ("b:8", "b:3", False),  # Glue changed
    ("b:7", "b:4", False),  # the bucket changed
])
def test_checks_read_the_hosts_counts_file_instead_of_asking(pool: ThreadPoolExecutor, glue: str,
                                                               archive: str, held: bool) -> None:
    reads = Reads("b:7", {"archive": "b:3"})
    submit: Callable[[Callable[[], str | None]], Future[str | None]] = pool.submit
    assume = Assumptions(submit, reads.glue, reads.bucket, Local({"glue": glue, "s3:archive": archive}))
    assume.glue("b:7")
    assume.bucket("archive", "b:3")
    assert assume.hold() is held
    assert reads.calls == []


@pytest.mark.parametrize("local", [
    {"glue": "c:7", "s3:archive": "c:3"},  # the host restarted since the stamps were read: another boot id
    {},  # no counts file
])
def test_checks_ask_the_endpoint_when_the_file_cannot_say(pool: ThreadPoolExecutor,
                                                          local: dict[str, str | None]) -> None:
    reads = Reads("c:1", {"archive": "b:3"})
    submit: Callable[[Callable[[], str | None]], Future[str | None]] = pool.submit
    assume = Assumptions(submit, reads.glue, reads.bucket, Local(local))
    assume.glue("b:7")
    assume.bucket("archive", "b:3")
    assert not assume.hold()  # Glue's read through the endpoint says the host restarted
    assert sorted(reads.calls) == ["archive", "glue"]


def _resolved(*stamps: str | None) -> Resolved:
    resolved = Resolved(exp.select("1"), [])
    resolved.stamps = list(stamps)
    return resolved


def test_a_query_is_kept_only_when_all_its_tables_were_read_with_one_stamp() -> None:
    assert prepared.glue_stamp(_resolved("b:1", "b:1")) == "b:1"
    assert prepared.glue_stamp(_resolved("b:1", "b:2")) is None  # a view and its table read across a change
    assert prepared.glue_stamp(_resolved("b:1", None)) is None
    assert prepared.glue_stamp(_resolved()) is None  # no tables: nothing to keep


def test_prepared_queries_are_keyed_by_text_parameters_and_database_and_bounded() -> None:
    queries = prepared.PreparedQueries(entries=2)
    one = prepared.PreparedQuery("b:1", ("db", "t"), "DML", "SELECT", _resolved("b:1"), "SELECT 1", False)
    queries.put(prepared.key("SELECT ?", ["1"], "db"), one)
    assert queries.get(prepared.key("SELECT ?", ["1"], "db")) is one
    assert queries.get(prepared.key("SELECT ?", ["2"], "db")) is None
    assert queries.get(prepared.key("SELECT ?", ["1"], "other")) is None
    queries.put(prepared.key("b", [], "db"), one)
    queries.get(prepared.key("SELECT ?", ["1"], "db"))  # used: now the most recent
    queries.put(prepared.key("c", [], "db"), one)  # over the bound: "b" goes
    assert queries.get(prepared.key("b", [], "db")) is None
    assert queries.get(prepared.key("SELECT ?", ["1"], "db")) is one
    queries.drop(prepared.key("SELECT ?", ["1"], "db"))
    assert queries.get(prepared.key("SELECT ?", ["1"], "db")) is None


def _text(rows: int) -> pa.Table:
    return pa.table({"c0": pa.array([f"row {i:04d}" for i in range(rows)])})


def test_recent_results_are_bounded_by_bytes() -> None:
    small, large = _text(10), _text(100)
    recent = RecentResults(max_bytes=small.nbytes * 2 + 1)
    recent.put("a", small)
    recent.put("b", small)
    assert recent.get("a") is small  # a is now the most recent
    recent.put("c", small)  # over the bound: b goes
    assert recent.get("b") is None and recent.get("a") is small and recent.get("c") is small
    recent.put("d", large)  # larger than the whole bound: not kept
    assert recent.get("d") is None and recent.get("a") is small


def test_responses_encode_to_the_same_json_values() -> None:
    payload = {"QueryExecution": {"Status": {"SubmissionDateTime": datetime.datetime(2026, 11, 25, 1, 2, 3, 456000,
                                                                                      tzinfo=datetime.UTC)},
                                  "Day": datetime.date(2026, 11, 25), "Bytes": b"x", "Text": "Einhörner",
                                  "Rows": [{"Data": [{"VarCharValue": "1.5"}, {}]}], "Big": 2 ** 70,
                                  "Ratio": 0.1}}
    assert json.loads(encode(payload)) == json.loads(json.dumps(payload, default=_default))


def test_the_switch_turns_the_fast_paths_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(switches.SWITCH, raising=False)
    assert switches.fast_paths()
    monkeypatch.setenv(switches.SWITCH, "0")
    assert not switches.fast_paths()


def test_the_bench_reads_the_engines_phase_lines(tmp_path: Path) -> None:
    log = tmp_path / "athena.log"
    log.write_text(
        "2026-12-05 INFO wildrydes.athena.executor: query q1 SELECT: ran in 0.0500s (parse 0.0001 plan 0.0002 "
        "execute 0.0400), results written in 0.0050s (405 rows)\n"
        "2026-12-05 INFO wildrydes.athena.executor: query q2 SELECT: ran in 0.0100s (execute 0.0100), results "
        "written in 0.0010s (1 rows)\n")
    assert engine_phases(log, {"q1"}) == {"q1": {"parse": 0.0001, "plan": 0.0002, "execute": 0.04, "ran": 0.05,
                                                 "results written": 0.005}}
    assert engine_phases(tmp_path / "missing.log", {"q1"}) == {}
