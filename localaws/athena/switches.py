"""``WILDRYDES_ATHENA_FAST_PATHS=0`` turns off what the engine does only to answer sooner: queries kept as
prepared and run on the tables and listings read before while those reads are checked (prepared.py,
freshness.py), in the connection their views were registered and bound in before (kept.py), the latest
released DuckDB taken first (duck.py), results paged from memory (recent.py),
responses encoded with orjson. With it off the engine works as before them, so that a benchmark can run an
engine with and one without them side by side (``python -m bench athena``). Read at start-up.
"""

from __future__ import annotations

import os

SWITCH = "WILDRYDES_ATHENA_FAST_PATHS"


def fast_paths() -> bool:
    return os.environ.get(SWITCH, "1") != "0"
