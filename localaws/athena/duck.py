"""DuckDB for queries: an in-memory database per worker thread, locked down before any user SQL.

Each database is opened with extension auto-install/auto-load off (json, parquet and icu are built
into the wheel), the Trino macros below, Athena's session semantics (UTC, integer division), then
``lock_down``: only the engine's cache of S3 object copies stays readable, every other file and URL is
refused, and the configuration is locked so SQL cannot undo any of it. Queries run in connections of
their own (``cursor()``), so nothing one query registers is visible to another.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import uuid
from pathlib import Path

import duckdb

from localaws.athena import java_regex, switches

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
    # Trino's exact decimal quotient (decimals.py): n / d on unscaled HUGEINTs, rounded half up
    """CREATE OR REPLACE MACRO __wr_div_half_up(n, d) AS CASE WHEN n IS NULL OR d IS NULL THEN NULL
        WHEN d = 0 THEN error('Division by zero')
        ELSE (abs(n) // abs(d) + CASE WHEN 2 * (abs(n) % abs(d)) >= abs(d) THEN 1 ELSE 0 END)
             * sign(n) * sign(d) END""",
    """CREATE OR REPLACE MACRO __wr_timestamp_text(x) AS strftime(x, '%Y-%m-%d %H:%M:%S.%g')""",
    # a zone's offset in minutes as Trino writes it in ISO 8601 (zones.py)
    """CREATE OR REPLACE MACRO __wr_offset_text(m) AS CASE WHEN m < 0 THEN '-' ELSE '+' END
        || lpad(CAST(abs(m) // 60 AS VARCHAR), 2, '0') || ':' || lpad(CAST(abs(m) % 60 AS VARCHAR), 2, '0')""",
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
    """CREATE OR REPLACE MACRO arrays_overlap(a, b) AS list_has_any(a, b)""",
    """CREATE OR REPLACE MACRO zip(a, b) AS list_zip(a, b)""",
    """CREATE OR REPLACE MACRO array_union(a, b) AS list_distinct(list_concat(a, b))""",
    """CREATE OR REPLACE MACRO human_readable_seconds(s) AS to_seconds(CAST(s AS BIGINT))::VARCHAR""",
]


class DuckDatabases:
    """In-memory DuckDBs, opened once, configured once and locked; each query works in a connection of
    its own on one (``cursor()``), whose TEMP views and tables disappear with it. A database that served
    queries is warm (threads, buffers, file metadata), which saves the 50-100 ms a fresh instance spends
    on its first query. A query takes the database the latest query released (one per query running at
    the same time): on a small machine an aggregate over 10M rows ran 5-9 ms slower when consecutive
    queries took turns on four databases, as the worker threads did with one database each (which they
    still do with the fast paths off, switches.py)."""

    def __init__(self, tmp_dir: Path, readable_dir: Path, threads: int, memory_limit: str) -> None:
        self.tmp_dir = tmp_dir
        shutil.rmtree(tmp_dir, ignore_errors=True)
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self.readable_dir = readable_dir
        self.threads = threads
        self.memory_limit = memory_limit
        self._local = threading.local()
        self._all: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()
        self.latest_first = switches.fast_paths()
        self._free: list[duckdb.DuckDBPyConnection] = []  # the latest released last
        self._lent: dict[int, duckdb.DuckDBPyConnection] = {}  # id(cursor) -> its database

    def _open(self) -> duckdb.DuckDBPyConnection:
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
        # the cached copies never change (a changed object is a new copy), so their footers can be cached
        con.execute("SET parquet_metadata_cache = true")
        for macro in MACROS:
            con.execute(macro)
        java_regex.register(con)
        lock_down(con, self.readable_dir)
        with self._lock:
            self._all.append(con)
        return con

    def database(self) -> duckdb.DuckDBPyConnection:
        """This thread's database (opened on first use)."""
        database = getattr(self._local, "database", None)
        if database is None:
            database = self._open()
            self._local.database = database
        return database

    def open_spare(self) -> None:
        """Open a database now rather than on a query (for this thread, or for any query)."""
        if not self.latest_first:
            self.database()
            return
        database = self._open()
        with self._lock:
            self._free.insert(0, database)

    def acquire(self) -> duckdb.DuckDBPyConnection:
        """A fresh connection, for one query."""
        if not self.latest_first:
            return self.database().cursor()
        with self._lock:
            database = self._free.pop() if self._free else None
        if database is None:
            database = self._open()
        cursor = database.cursor()
        with self._lock:
            self._lent[id(cursor)] = database
        return cursor

    def release(self, con: duckdb.DuckDBPyConnection) -> None:
        with contextlib.suppress(Exception):
            con.close()
        with self._lock:
            database = self._lent.pop(id(con), None)
            if database is not None:
                self._free.append(database)

    def keep_open(self, con: duckdb.DuckDBPyConnection) -> None:
        """The query is done with ``con``'s database but keeps ``con`` (kept.py): the database is free for
        others again, and ``con`` stays open until its holder closes it."""
        with self._lock:
            database = self._lent.pop(id(con), None)
            if database is not None:
                self._free.append(database)

    def close(self) -> None:
        with self._lock:
            databases, self._all = self._all, []
        for database in databases:
            with contextlib.suppress(Exception):
                database.close()
        shutil.rmtree(self.tmp_dir, ignore_errors=True)


def lock_down(con: duckdb.DuckDBPyConnection, readable_dir: Path) -> None:
    """From here on the database reads nothing but files under ``readable_dir`` (the cached copies of S3
    objects), reaches no URL, loads no extension, and its configuration cannot be changed again."""
    con.execute("SET allowed_directories = $dirs", {"dirs": [str(readable_dir) + "/"]})
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
