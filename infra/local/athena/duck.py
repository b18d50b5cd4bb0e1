"""DuckDB connections for queries: one fresh in-memory DuckDB per query execution, locked down.

Opening a DuckDB instance costs ~50-90 ms, so a small pool keeps instances ready (opened and
configured in the background); each is used by exactly one query and then closed, so nothing a query
registers or changes outlives it. Before user SQL runs, ``lock_down`` allows exactly the cached
object copies the query reads, disables every other file and network access, and locks the
configuration so SQL cannot undo it. Extensions are never installed or auto-loaded (json, parquet
and icu are built into the wheel).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import shutil
import threading
import uuid
from pathlib import Path

import duckdb

log = logging.getLogger("wildrydes.athena.duck")

# Trino functions DuckDB lacks or names differently, as macros in every connection. Type-dependent
# behaviour (e.g. date_add on a DATE) is handled by the transpiler, which knows the types.
MACROS = [
    # Java's Double.toString / Float.toString, which is how Trino renders doubles as text: the
    # shortest round-trip digits (DuckDB's text), in E notation outside [1e-3, 1e7).
    "CREATE OR REPLACE MACRO __wr_mant(s) AS CASE WHEN s LIKE '%e%' THEN split_part(s, 'e', 1) ELSE s END",
    "CREATE OR REPLACE MACRO __wr_exp(s) AS CASE WHEN s LIKE '%e%' THEN CAST(split_part(s, 'e', 2) AS INTEGER) "
    "ELSE 0 END",
    "CREATE OR REPLACE MACRO __wr_digits(m) AS CASE "
    "WHEN split_part(m, '.', 1) <> '0' THEN rtrim(split_part(m, '.', 1) || split_part(m, '.', 2), '0') "
    "ELSE rtrim(ltrim(split_part(m, '.', 2), '0'), '0') END",
    "CREATE OR REPLACE MACRO __wr_exp10(m, e) AS CASE "
    "WHEN split_part(m, '.', 1) <> '0' THEN e + length(split_part(m, '.', 1)) - 1 "
    "ELSE e - (length(split_part(m, '.', 2)) - length(ltrim(split_part(m, '.', 2), '0'))) - 1 END",
    "CREATE OR REPLACE MACRO __wr_sci(s) AS left(__wr_digits(__wr_mant(s)), 1) || '.' "
    "|| CASE WHEN length(__wr_digits(__wr_mant(s))) > 1 THEN substr(__wr_digits(__wr_mant(s)), 2) ELSE '0' END "
    "|| 'E' || CAST(__wr_exp10(__wr_mant(s), __wr_exp(s)) AS VARCHAR)",
    """CREATE OR REPLACE MACRO __wr_java_double(x) AS CASE
        WHEN abs(x) >= 1e-3 AND abs(x) < 1e7 THEN CAST(x AS VARCHAR)
        WHEN x IS NULL THEN NULL
        WHEN isnan(x) THEN 'NaN'
        WHEN isinf(x) AND x > 0 THEN 'Infinity'
        WHEN isinf(x) THEN '-Infinity'
        WHEN x = 0 THEN '0.0'
        ELSE (CASE WHEN x < 0 THEN '-' ELSE '' END) || __wr_sci(CAST(abs(x) AS VARCHAR))
        END""",
    """CREATE OR REPLACE MACRO __wr_timestamp_text(x) AS strftime(x, '%Y-%m-%d %H:%M:%S.%g')""",
    """CREATE OR REPLACE MACRO __wr_varbinary_text(x) AS rtrim(regexp_replace(lower(hex(x)), '(..)', '\\1 ', 'g'))""",
    """CREATE OR REPLACE MACRO to_iso8601(x) AS CASE
        WHEN typeof(x) = 'DATE' THEN strftime(x, '%Y-%m-%d')
        WHEN typeof(x) LIKE 'TIMESTAMP WITH TIME ZONE' THEN strftime(x, '%Y-%m-%dT%H:%M:%S.%gZ')
        ELSE strftime(x, '%Y-%m-%dT%H:%M:%S.%g') END""",
    """CREATE OR REPLACE MACRO json_format(j) AS CAST(j AS VARCHAR)""",
    """CREATE OR REPLACE MACRO json_parse(s) AS json(s)""",
    """CREATE OR REPLACE MACRO url_extract_host(u) AS regexp_extract(u, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)""",
    """CREATE OR REPLACE MACRO url_extract_path(u) AS regexp_extract(u, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*([^?#]*)',
        1)""",
    """CREATE OR REPLACE MACRO url_extract_parameter(u, p) AS
        url_decode(regexp_extract(u, '[?&]' || p || '=([^&#]*)', 1))""",
    """CREATE OR REPLACE MACRO levenshtein_distance(a, b) AS levenshtein(a, b)""",
    """CREATE OR REPLACE MACRO hamming_distance(a, b) AS hamming(a, b)""",
    """CREATE OR REPLACE MACRO is_nan(x) AS isnan(x)""",
    """CREATE OR REPLACE MACRO is_finite(x) AS isfinite(x)""",
    """CREATE OR REPLACE MACRO is_infinite(x) AS isinf(x)""",
    """CREATE OR REPLACE MACRO infinity() AS CAST('inf' AS DOUBLE)""",
    """CREATE OR REPLACE MACRO nan() AS CAST('nan' AS DOUBLE)""",
    """CREATE OR REPLACE MACRO codepoint(s) AS unicode(s)""",
    """CREATE OR REPLACE MACRO bitwise_and(a, b) AS (a & b)""",
    """CREATE OR REPLACE MACRO bitwise_or(a, b) AS (a | b)""",
    """CREATE OR REPLACE MACRO bitwise_xor(a, b) AS xor(a, b)""",
    """CREATE OR REPLACE MACRO array_position(a, x) AS coalesce(list_position(a, x), 0)""",
    """CREATE OR REPLACE MACRO array_remove(a, x) AS list_filter(a, lambda e: e <> x)""",
    """CREATE OR REPLACE MACRO to_unixtime(x) AS epoch(x)""",
    """CREATE OR REPLACE MACRO human_readable_seconds(s) AS to_seconds(CAST(s AS BIGINT))::VARCHAR""",
]


class DuckPool:
    def __init__(self, tmp_dir: Path, threads: int, memory_limit: str, ready: int = 2) -> None:
        self.tmp_dir = tmp_dir
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self.threads = threads
        self.memory_limit = memory_limit
        self._ready: queue.Queue[tuple[duckdb.DuckDBPyConnection, Path]] = queue.Queue(maxsize=ready)
        self._stopping = threading.Event()
        self._temp_dirs: dict[int, Path] = {}
        self._lock = threading.Lock()
        self._filler = threading.Thread(target=self._fill, name="duckdb-warmer", daemon=True)
        self._filler.start()

    def _open(self) -> tuple[duckdb.DuckDBPyConnection, Path]:
        temp = self.tmp_dir / uuid.uuid4().hex
        con = duckdb.connect(":memory:", config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "threads": self.threads,
            "memory_limit": self.memory_limit,
            "temp_directory": str(temp),
            "integer_division": True,
            "python_enable_replacements": False,
            "arrow_large_buffer_size": False,
            "preserve_insertion_order": True,
        })
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET lambda_syntax = 'DISABLE_SINGLE_ARROW'")
        for macro in MACROS:
            con.execute(macro)
        return con, temp

    def _fill(self) -> None:
        while not self._stopping.is_set():
            try:
                item = self._open()
            except Exception:  # pragma: no cover - DuckDB failing to open is fatal for queries anyway
                log.exception("opening a DuckDB connection failed")
                self._stopping.wait(1.0)
                continue
            while not self._stopping.is_set():
                try:
                    self._ready.put(item, timeout=0.5)
                    break
                except queue.Full:
                    continue
            else:
                item[0].close()

    def acquire(self) -> duckdb.DuckDBPyConnection:
        try:
            con, temp = self._ready.get(timeout=5.0)
        except queue.Empty:
            con, temp = self._open()
        with self._lock:
            self._temp_dirs[id(con)] = temp
        return con

    def release(self, con: duckdb.DuckDBPyConnection) -> None:
        with contextlib.suppress(Exception):
            con.close()
        with self._lock:
            temp = self._temp_dirs.pop(id(con), None)
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)

    def close(self) -> None:
        self._stopping.set()
        self._filler.join(timeout=10)
        while True:
            try:
                con, temp = self._ready.get_nowait()
            except queue.Empty:
                break
            con.close()
            shutil.rmtree(temp, ignore_errors=True)


def lock_down(con: duckdb.DuckDBPyConnection, allowed_paths: list[str]) -> None:
    """From here on the connection can read exactly ``allowed_paths`` and nothing else, for good."""
    if allowed_paths:
        con.execute("SET allowed_paths = $paths", {"paths": allowed_paths})
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
