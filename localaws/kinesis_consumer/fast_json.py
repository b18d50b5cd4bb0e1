"""JSON encoding for the local runtime's hot paths (a Lambda worker's replies, up to several MB): orjson, ~6×
faster than ``json.dumps``, with the standard library as the fallback for what orjson refuses (integers beyond
64 bits, lone surrogates). Decoding stays ``json.loads``: orjson reads these payloads no faster, and turns
integers beyond 64 bits into floats. GetRecords pages are the exception (records_parser.py): their content is
Kinesis's own, and skipping botocore's shape walk is the gain there.

``WILDRYDES_FAST_JSON=0`` switches every fast path of the runtime back (this encoder, the GetRecords parser, the
worker protocol's pickled requests), so that a benchmark can run both side by side
(``python -m bench pipeline --compare WILDRYDES_FAST_JSON=0,1``). Application code never uses this module: the
handlers stay standard library + boto3.
"""

from __future__ import annotations

import json
import os
from typing import Any

import orjson

SWITCH = "WILDRYDES_FAST_JSON"


def enabled() -> bool:
    return os.environ.get(SWITCH, "1") != "0"


def dumps(value: Any, fast: bool = True) -> bytes:
    """Compact UTF-8 JSON. Non-string keys become strings as ``json.dumps`` makes them; what orjson cannot
    encode goes through ``json.dumps``, which raises TypeError for what is not JSON at all. One difference
    remains: orjson writes a float NaN as ``null`` where ``json.dumps`` writes the non-JSON token ``NaN``."""
    if fast:
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        except (orjson.JSONEncodeError, TypeError):
            pass
    return json.dumps(value, separators=(",", ":")).encode()
