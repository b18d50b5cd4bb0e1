"""The Firehose's whole-batch conversion against record-by-record conversion (differential): for every batch
it either gives exactly the table RowConverter's rows give, or declines (None) so the caller converts record
by record; it never accepts a batch holding a record RowConverter refuses."""

from __future__ import annotations

import contextlib
import json
import math
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from localaws.firehose import batch_convert
from localaws.firehose.batch_convert import BatchConverter
from localaws.firehose.convert import ConversionError, RowConverter, SerDeOptions
from localaws.firehose.records import Outcome
from localaws.firehose.router import ARROW_ERRORS
from localaws.firehose.schema import Column, parse_type
from tests.unit.localaws.test_firehose import route, source, stream_config

ARCHIVE_COLUMNS = [("name", "string"), ("statustime", "string"), ("latitude", "double"), ("longitude", "double"),
                   ("distance", "double"), ("healthpoints", "int"), ("magicpoints", "int"),
                   ("arrivaltime", "timestamp"), ("sequencenumber", "string"), ("shardid", "string")]


def converter(columns: list[tuple[str, str]] = ARCHIVE_COLUMNS, deserializer: dict[str, Any] | None = None
              ) -> RowConverter:
    return RowConverter([Column(n, parse_type(t)) for n, t in columns], SerDeOptions(deserializer))


def record(rng: random.Random, i: int) -> dict[str, Any]:
    """A record as the archive's transform writes it."""
    return {"Name": f"Unicorn-{rng.randrange(1000)}", "StatusTime": f"2026-12-06 01:{i % 60:02d}:00.{i % 1000:03d}",
            "Latitude": rng.uniform(-90, 90), "Longitude": rng.uniform(-180, 180), "Distance": rng.random() * 10,
            "HealthPoints": rng.randrange(0, 151), "MagicPoints": rng.randrange(-(2**31), 2**31),
            "ArrivalTime": f"20{rng.randrange(10, 99)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d} "
                           f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{i % 1000:03d}",
            "SequenceNumber": str(rng.randrange(10**55)), "ShardId": "shardId-000000000000"}


def line(document: Any) -> bytes:
    return (json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def canonical(count: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    return [line(record(rng, i)) for i in range(count)]


def comparable(table: pa.Table) -> tuple[pa.Schema, list[dict[str, Any]]]:
    rows = [{k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
            for row in table.to_pylist()]
    return table.schema, rows


def one_by_one(conv: RowConverter, datas: list[bytes]) -> pa.Table | None:
    try:
        return conv.table([conv.convert(d) for d in datas])
    except (ConversionError, *ARROW_ERRORS):  # what the router sends to the error output
        return None


def test_the_archive_s_records_are_converted_as_a_whole_to_exactly_the_row_by_row_table() -> None:
    conv = converter()
    datas = canonical(2000)
    batch = BatchConverter(conv).table(datas)
    assert batch is not None
    assert comparable(batch) == comparable(one_by_one(conv, datas))


MUTATIONS: list[tuple[str, Any]] = [
    ("double as text", lambda d: {**d, "Latitude": "12.5"}),
    ("int as float", lambda d: {**d, "HealthPoints": 1.0}),
    ("int out of range", lambda d: {**d, "MagicPoints": 2**31}),
    ("int as text", lambda d: {**d, "HealthPoints": "12"}),
    ("boolean int", lambda d: {**d, "HealthPoints": True}),
    ("number for a string", lambda d: {**d, "Name": 12}),
    ("object for a string", lambda d: {**d, "Name": {"a": 1}}),
    ("missing key", lambda d: {k: v for k, v in d.items() if k != "Distance"}),
    ("null values", lambda d: {**d, "Distance": None, "ArrivalTime": None, "Name": None}),
    ("extra key", lambda d: {**d, "Colour": "pink"}),
    ("key in another case", lambda d: {("name" if k == "Name" else k): v for k, v in d.items()}),
    ("huge int for a double", lambda d: {**d, "Distance": 123456789012345678901234567890}),
    ("negative zero", lambda d: {**d, "HealthPoints": -0, "Distance": -0.0}),
    ("31 February", lambda d: {**d, "ArrivalTime": "2026-02-31 01:00:00.000"}),
    ("leap second", lambda d: {**d, "ArrivalTime": "2026-12-31 23:59:60.000"}),
    ("ISO timestamp", lambda d: {**d, "ArrivalTime": "2026-12-06T01:02:03.456Z"}),
    ("micro timestamp", lambda d: {**d, "ArrivalTime": "2026-12-06 01:02:03.456789"}),
    ("epoch timestamp", lambda d: {**d, "ArrivalTime": 1764990000123}),
    ("year zero", lambda d: {**d, "ArrivalTime": "0000-01-01 00:00:00.000"}),
    ("control character", lambda d: {**d, "Name": "a\u0000b\u2028c"}),
]
RAW_MUTATIONS: list[tuple[str, Any]] = [
    ("two objects on a line", lambda b: b.rstrip(b"\n") + b' {"Name":"x"}\n'),
    ("a key twice", lambda b: b.replace(b'{"Name":', b'{"Name":"x","Name":', 1)),
    ("trailing comma", lambda b: b.replace(b"}\n", b",}\n")),
    ("not JSON", lambda b: b"{nope\n"),
    ("an array", lambda b: b"[1,2]\n"),
    ("invalid UTF-8", lambda b: b.replace(b"Unicorn", b"Uni\xffcorn")),
    ("lone surrogate", lambda b: b.replace(b"Unicorn", b"Uni\\ud83ecorn")),
    ("NaN", lambda b: b.replace(b'"Distance":', b'"Distance":NaN,"x":', 1)),
    ("leading space", lambda b: b" " + b),
    ("no newline", lambda b: b.rstrip(b"\n")),
    ("CRLF", lambda b: b.rstrip(b"\n") + b"\r\n"),
    ("newline inside", lambda b: b.replace(b",", b",\n", 1)),
    ("empty", lambda b: b""),
]


@pytest.mark.parametrize("position", [0, 7])
@pytest.mark.parametrize(("name", "mutate"), MUTATIONS + RAW_MUTATIONS, ids=[m[0] for m in MUTATIONS + RAW_MUTATIONS])
def test_a_batch_is_converted_as_a_whole_only_when_that_gives_the_row_by_row_table(name: str, mutate: Any,
                                                                                    position: int) -> None:
    conv = converter()
    datas = canonical(10)
    if (name, mutate) in MUTATIONS:
        datas[position] = line(mutate(json.loads(datas[position])))
    else:
        datas[position] = mutate(datas[position])
    expected = one_by_one(conv, datas)
    batch = BatchConverter(conv).table(datas)
    if expected is None:
        assert batch is None, f"{name}: accepted a batch RowConverter refuses"
    elif batch is not None:
        assert comparable(batch) == comparable(expected), name


def test_a_random_batch_gives_the_same_table_or_none() -> None:
    rng = random.Random(11)
    conv = converter()
    accepted = 0
    for trial in range(200):
        datas = canonical(rng.randrange(1, 30), seed=trial)
        for _ in range(rng.randrange(0, 3)):
            name, mutate = rng.choice(MUTATIONS + RAW_MUTATIONS)
            i = rng.randrange(len(datas))
            if (name, mutate) in RAW_MUTATIONS:
                datas[i] = mutate(datas[i])
            else:
                with contextlib.suppress(ValueError, AttributeError):  # unless a raw mutation came first
                    datas[i] = line(mutate(json.loads(datas[i])))
        expected, batch = one_by_one(conv, datas), BatchConverter(conv).table(datas)
        if expected is None:
            assert batch is None
        elif batch is not None:
            accepted += 1
            assert comparable(batch) == comparable(expected)
    assert accepted > 50  # the fast path is taken, not only declined


def test_other_serdes_and_types_are_left_to_record_by_record() -> None:
    assert not BatchConverter(converter(deserializer={"HiveJsonSerDe": {}})).eligible
    assert not BatchConverter(converter(deserializer={"OpenXJsonSerDe": {"ConvertDotsInJsonKeysToUnderscores": True}})
                              ).eligible
    assert not BatchConverter(converter([("a", "string"), ("b", "array<int>")])).eligible
    assert BatchConverter(converter([("a", "bigint"), ("b", "smallint"), ("c", "timestamp")])).eligible


def test_the_switch_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(batch_convert.SWITCH, "0")
    assert not batch_convert.enabled()
    monkeypatch.setenv(batch_convert.SWITCH, "1")
    assert batch_convert.enabled()


@pytest.mark.parametrize("switch", ["0", "1"])
def test_a_partition_of_records_that_do_not_fit_leaves_no_data_buffer(switch: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(batch_convert.SWITCH, switch)
    keys = {("partitionKeyFromLambda", "dt"): "2026-11-25", ("partitionKeyFromLambda", "hour"): "18"}
    bad = [Outcome(source(str(i)), data=b'{"Distance": "far"}\n', keys=keys) for i in range(3)]
    buffers, _ = route(stream_config(), bad, tmp_path)
    assert [(b.output_type, len(b.items)) for b in buffers.due(now=10**12)] == [("format-conversion-failed", 3)]
