"""The local Athena engine's process-level behaviour that needs no running stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A fresh interpreter: the engine's modules imported the way the server imports them, then the first
# translations made concurrently by query threads, as a freshly started engine does.
FIRST_CONCURRENT_QUERIES = """
import sys, threading
import infra.local.athena.server
from infra.local.athena.transpile import transpile_expression

print(all(m in sys.modules for m in ("sqlglot.dialects.athena", "sqlglot.dialects.duckdb")))
out, start = [], threading.Barrier(8)
def translate():
    start.wait()
    out.append(transpile_expression("to_unixtime(arrivaltime)"))
threads = [threading.Thread(target=translate) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(sorted(set(out)))
"""


def test_sql_dialects_are_complete_before_the_first_query_thread() -> None:
    # sqlglot exposes a dialect in its registry before attaching its generator; a query thread that loaded
    # one itself could get the base generator and send DuckDB "TIME_TO_UNIX(...)"
    done = subprocess.run([sys.executable, "-c", FIRST_CONCURRENT_QUERIES], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == ["True", "['EPOCH(arrivaltime)']"], done.stderr
