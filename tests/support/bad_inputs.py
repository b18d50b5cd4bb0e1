"""A corpus of bad (and of borderline but valid) raw sensor records, as data.

``BAD``: records the contract (streaming/lambdas/contract.py, ARCHITECTURE.md section 2) refuses. Sent
through the stream, each must be quarantined by the aggregator (SQS ``wildrydes-quarantine``) and by the
archive (``errors/processing-failed/`` in S3), with a reason containing ``reason``.

``TOLERATED``: records that look odd but satisfy the contract, so they must be aggregated and archived like
any other: extra fields (the contract ignores them), unicode and maximal names, boundary values, times far
in the past or future (the contract accepts years 1970-2099: windows are cut by arrival, not StatusTime),
pretty-printed JSON. ``DUPLICATED`` is one good record sent twice: two arrivals, two sequence numbers, so
the contract (one record per arrival, windows by arrival) counts it twice; only copies of one sequence
number (a re-delivery) are duplicates, and staging removes those.

``REFUSED_BY_KINESIS``: data PutRecord itself refuses (over the 1 MiB record limit), never in the stream.
Empty data is not among them: the Kinesis API model allows a 0-byte blob (``Data`` min length 0) and the
local endpoint stores it, so it is a bad input like the others, quarantined downstream as an empty record.
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from typing import Any

MIB = 1024 * 1024
BAD_KEY = "bad-input"  # the partition key of the bad records that do not name a unicorn

BASE: dict[str, Any] = {
    "Name": "Corpus-Unicorn",
    "StatusTime": "2026-11-25 18:21:01.427",
    "Latitude": 40.749167,
    "Longitude": -73.985184,
    "Distance": 30.27,
    "HealthPoints": 151,
    "MagicPoints": 149,
}
GOOD_BYTES = json.dumps(BASE).encode()


@dataclass(frozen=True)
class BadInput:
    name: str
    data: bytes
    reason: str  # a fragment the quarantine reason must contain
    key: str = BAD_KEY  # partition key


def record(**changes: Any) -> bytes:
    """BASE with fields changed (``...`` removes one), as compact UTF-8 JSON."""
    out = dict(BASE)
    for key, value in changes.items():
        if value is ...:
            out.pop(key)
        else:
            out[key] = value
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def replace(old: str, new: str) -> bytes:
    """GOOD_BYTES with one literal token replaced (for what json.dumps cannot write)."""
    text = GOOD_BYTES.decode()
    assert old in text, old
    return text.replace(old, new, 1).encode("utf-8")


def padded(total: int) -> bytes:
    """A record that is otherwise good, padded with an extra field to exactly ``total`` bytes."""
    head = record(Padding="")
    return head[:-2] + b"x" * (total - len(head)) + b'"}'


BAD: list[BadInput] = [
    # -- not JSON at all
    BadInput("plain text", b"hello unicorn", "not valid JSON"),
    BadInput("CSV line", b"Shadowfax,2026-11-25 18:21:01.427,40.749167,-73.985184,30.27,151,149", "not valid JSON"),
    BadInput("Python dict repr", repr(BASE).encode(), "not valid JSON"),
    BadInput("JSON with a comment", b"// sensor v2\n" + GOOD_BYTES, "not valid JSON"),
    BadInput("trailing comma", GOOD_BYTES[:-1] + b",}", "not valid JSON"),
    BadInput("whitespace only", b" \t\r\n ", "empty record"),
    BadInput("empty data", b"", "empty record"),
    BadInput("NUL bytes", b"\x00" * 16, "not valid JSON"),
    # -- truncated or concatenated JSON
    BadInput("truncated JSON", GOOD_BYTES[:-5], "not valid JSON"),
    BadInput("JSON cut in half", GOOD_BYTES[: len(GOOD_BYTES) // 2], "not valid JSON"),
    BadInput("two records in one", GOOD_BYTES + b"\n" + GOOD_BYTES, "Extra data"),
    BadInput("UTF-8 byte order mark", b"\xef\xbb\xbf" + GOOD_BYTES, "BOM"),
    # -- binary data and invalid UTF-8
    BadInput("gzip-compressed record", gzip.compress(GOOD_BYTES, mtime=0), "not UTF-8"),
    BadInput("PNG header", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
    BadInput("random bytes", random.Random(7).randbytes(64), "not UTF-8"),
    BadInput("Latin-1 encoded name", record(Name="Élan").replace("É".encode(), "É".encode("latin-1")), "not UTF-8"),
    BadInput("overlong UTF-8 sequence", record(Name="/").replace(b'"/"', b'"\xc0\xaf"'), "not UTF-8"),
    BadInput("truncated UTF-8 sequence", record(Name="€").replace("€".encode(), "€".encode()[:2]), "not UTF-8"),
    BadInput("UTF-8-encoded surrogate (CESU)", record(Name="x").replace(b'"x"', b'"\xed\xa0\x80"'), "not UTF-8"),
    BadInput("UTF-16 encoded JSON", GOOD_BYTES.decode().encode("utf-16-le"), "not valid JSON"),
    # -- JSON, but not one object
    BadInput("JSON array of the record", b"[" + GOOD_BYTES + b"]", "must be a JSON object, got array"),
    BadInput("JSON number", b"42", "must be a JSON object, got integer"),
    BadInput("JSON string", b'"Shadowfax"', "must be a JSON object, got string"),
    BadInput("JSON null", b"null", "must be a JSON object, got null"),
    BadInput("JSON true", b"true", "must be a JSON object, got boolean"),
    BadInput("empty object", b"{}", "missing field 'Name'"),
    # -- structure
    BadInput("duplicate key", replace('"MagicPoints": 149', '"MagicPoints": 149, "MagicPoints": 150'),
             "duplicate field 'MagicPoints'"),
    BadInput("deeply nested JSON", record(Extra="@").replace(b'"@"', b"[" * 5000 + b"]" * 5000), "recursion"),
    BadInput("lower-case field names", json.dumps({k.lower(): v for k, v in BASE.items()}).encode(),
             "missing field 'Name'"),
    BadInput("record just over the contract's 16 KiB", padded(16 * 1024 + 1), "record too large"),
    BadInput("huge record near the 1 MiB Kinesis limit", padded(MIB - 64), "record too large"),
    # -- missing fields
    BadInput("missing Name", record(Name=...), "missing field 'Name'"),
    BadInput("missing StatusTime", record(StatusTime=...), "missing field 'StatusTime'"),
    BadInput("missing Distance", record(Distance=...), "missing field 'Distance'"),
    BadInput("missing HealthPoints", record(HealthPoints=...), "missing field 'HealthPoints'"),
    # -- Name
    BadInput("Name is a number", record(Name=42), "Name must be a string, got integer"),
    BadInput("Name is null", record(Name=None), "Name must be a string, got null"),
    BadInput("empty Name", record(Name=""), "Name must not be empty"),
    BadInput("blank Name", record(Name="   "), "Name must not be empty or blank"),
    BadInput("Name with a newline", record(Name="Shadow\nfax"), "Name must not contain control characters"),
    BadInput("Name 65 characters", record(Name="🦄" * 65), "Name too long: 65 characters > 64"),
    BadInput("Name 10,000 characters", record(Name="Sparkles" * 1250), "Name too long: 10000 characters"),
    BadInput("Name is a lone surrogate", replace('"Corpus-Unicorn"', '"Corpus-\\ud83e"'), "lone surrogate"),
    # -- StatusTime
    BadInput("StatusTime ISO 8601 with zone", record(StatusTime="2026-11-25T18:21:01.427Z"), "YYYY-MM-DD HH:MM:SS.fff"),
    BadInput("StatusTime epoch millis", record(StatusTime=1764094861427), "StatusTime must be a string"),
    BadInput("StatusTime February 30", record(StatusTime="2026-02-30 18:21:01.427"), "StatusTime is not a real time"),
    BadInput("StatusTime far future (2100)", record(StatusTime="2100-01-01 00:00:00.000"), "year 2100 outside"),
    BadInput("StatusTime far future (9999)", record(StatusTime="9999-12-31 23:59:59.999"), "year 9999 outside"),
    BadInput("StatusTime far past (1969)", record(StatusTime="1969-12-31 23:59:59.999"), "year 1969 outside"),
    BadInput("StatusTime far past (0001)", record(StatusTime="0001-01-01 00:00:00.000"), "year 1 outside"),
    # -- coordinates
    BadInput("Latitude above 90", record(Latitude=90.5), "Latitude out of range"),
    BadInput("Latitude below -90", record(Latitude=-91), "Latitude out of range"),
    BadInput("Longitude above 180", record(Longitude=181.0), "Longitude out of range"),
    BadInput("Longitude below -180", record(Longitude=-180.0001), "Longitude out of range"),
    BadInput("Latitude as a string", record(Latitude="40.749167"), "Latitude must be a number, got string"),
    BadInput("Longitude as an object", record(Longitude={"deg": -73}), "Longitude must be a number, got object"),
    # -- Distance
    BadInput("negative Distance", record(Distance=-30.27), "Distance out of range"),
    BadInput("unicode name, key and negative Distance", record(Name="Élan 🦄", Distance=-1.5), "Distance out of range",
             key="Élan 🦄"),
    BadInput("absurd Distance", record(Distance=1_000_000.0), "Distance out of range"),
    BadInput("Distance 1e308", record(Distance=1e308), "Distance out of range"),
    BadInput("Distance NaN", replace("30.27", "NaN"), "NaN is not a number"),
    BadInput("Latitude Infinity", replace("40.749167", "Infinity"), "Infinity is not a number"),
    BadInput("Longitude -Infinity", replace("-73.985184", "-Infinity"), "-Infinity is not a number"),
    BadInput("Distance overflows to infinity", replace("30.27", "1e400"), "Distance must be finite"),
    BadInput("Distance as a string", record(Distance="30.27"), "Distance must be a number, got string"),
    BadInput("Distance null", record(Distance=None), "Distance must be a number, got null"),
    BadInput("Distance as a boolean", record(Distance=True), "Distance must be a number, got boolean"),
    BadInput("Distance as an array", record(Distance=[30.27]), "Distance must be a number, got array"),
    # -- HealthPoints / MagicPoints
    BadInput("HealthPoints boolean", record(HealthPoints=True), "HealthPoints must be an integer, got boolean"),
    BadInput("MagicPoints as a string", record(MagicPoints="149"), "MagicPoints must be an integer, got string"),
    BadInput("HealthPoints as a float", record(HealthPoints=151.0), "must be an integer, got float 151.0"),
    BadInput("MagicPoints fractional", record(MagicPoints=149.5), "MagicPoints must be an integer, got float"),
    BadInput("HealthPoints negative", record(HealthPoints=-1), "HealthPoints out of range"),
    BadInput("MagicPoints absurd", record(MagicPoints=1001), "MagicPoints out of range"),
    BadInput("MagicPoints huge integer", record(MagicPoints=10**30), "a huge integer"),
    BadInput("HealthPoints 5000-digit integer", replace("151", "9" * 5000),
             "number too long: an integer of more than 4300 digits"),
]

# A producer keying by Name sends a lone surrogate as the partition key too: boto3 JSON-escapes it and
# Kinesis stores it. Kept apart: the local Firehose cannot write its error document yet (see the test).
LONE_SURROGATE_KEY = BadInput("Name and partition key a lone surrogate",
                              replace('"Corpus-Unicorn"', '"Keyed-\\ud83e"'), "lone surrogate", key="Keyed-\ud83e")

# Odd but valid: (name, data, partition key). Aggregated and archived like the fleet's records.
TOLERATED: list[tuple[str, bytes, str]] = [
    ("extra fields (ignored)", record(Name="Extra-Fields", Color="pink", Firmware={"v": [2, 1]}), "Extra-Fields"),
    ("lone surrogate in an extra field (ignored)",
     record(Name="Surrogate-Extra").replace(b'"Name"', b'"Note":"\\udc00","Name"'), "Surrogate-Extra"),
    ("unicode name", record(Name="Élan ユニコーン 🦄"), "Élan ユニコーン 🦄"),
    ("name of exactly 64 emoji", record(Name="🦄" * 64), "🦄" * 64),
    ("right-to-left name", record(Name="حصان وحيد القرن"), "حصان وحيد القرن"),
    ("name differs from the partition key", record(Name="Keyless"), "some-other-key"),
    ("boundary coordinates", record(Name="Pole-Dancer", Latitude=90, Longitude=-180), "Pole-Dancer"),
    ("integer and zero distances", record(Name="Resting", Distance=0, Latitude=40), "Resting"),
    ("negative zero distance", replace("30.27", "-0.0").replace(b"Corpus-Unicorn", b"Negative-Zero"), "Negative-Zero"),
    ("maximum distance", record(Name="Speedy", Distance=1000), "Speedy"),
    ("StatusTime far in the future (2099)", record(Name="Time-Traveller", StatusTime="2099-12-31 23:59:59.999"),
     "Time-Traveller"),
    ("StatusTime at the epoch (1970)", record(Name="Old-Timer", StatusTime="1970-01-01 00:00:00.000"), "Old-Timer"),
    ("pretty-printed JSON", json.dumps({**BASE, "Name": "Pretty"}, indent=4).encode(), "Pretty"),
    ("escaped unicode in the name", json.dumps({**BASE, "Name": "Ünïcörn"}).encode(), "Ünïcörn"),
]

# Sent twice, interleaved with other records: two arrivals, counted twice.
DUPLICATED: tuple[bytes, str] = (record(Name="Twice-Told", Distance=12.5), "Twice-Told")

REFUSED_BY_KINESIS: list[tuple[str, bytes]] = [
    ("1 MiB + 1 byte", padded(MIB + 1)),
    ("2 MiB", padded(2 * MIB)),
]


def names_are_unique() -> bool:
    names = [b.name for b in BAD] + [t[0] for t in TOLERATED]
    return len(names) == len(set(names))
