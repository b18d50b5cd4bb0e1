"""The expressions that read complex columns of text tables (localaws.athena.text_columns), evaluated by
DuckDB over literal column text: Hive's separators per nesting level, NULL sequences, Trino's parsing of
elements, map key rules, and the JSON SerDes' coercions."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from localaws.athena.errors import AthenaQueryError
from localaws.athena.text_columns import Delimiters, delimited_column, delimited_text, json_column, separator
from localaws.athena.types import HiveType

C, K = "\x02", "\x03"


def _literal(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def delimited(texts: list[str | None], type_text: str, delimiters: Delimiters | None = None) -> list[Any]:
    expression = delimited_column("x", type_text, delimiters or Delimiters.of({}))
    values = ", ".join(f"({_literal(t)})" for t in texts)
    return [row[0] for row in duckdb.connect().sql(f"SELECT {expression} FROM (VALUES {values}) v(x)").fetchall()]


def from_json(texts: list[str | None], type_text: str, openx: bool = True) -> list[Any]:
    expression = json_column("CAST(x AS JSON)", type_text, openx)
    values = ", ".join(f"({_literal(t)})" for t in texts)
    return [row[0] for row in duckdb.connect().sql(f"SELECT {expression} FROM (VALUES {values}) v(x)").fetchall()]


# ---------------------------------------------------------------------------------------------
# delimiters
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    (None, "\x02"), ("", "\x02"), ("1", "\x01"), ("9", "\t"), ("44", ","), ("|", "|"), ("ab", "a"), ("300", "3"),
])
def test_a_delimiter_property_is_a_byte_value_or_a_first_character(value: str | None, expected: str) -> None:
    assert separator(value, "\x02") == expected


def test_a_negative_byte_delimiter_is_refused() -> None:
    with pytest.raises(AthenaQueryError) as refused:
        separator("-3", ",")
    assert refused.value.name == "NOT_SUPPORTED"


def test_separators_by_level_default_custom_and_extended() -> None:
    default = Delimiters.of({"serialization.format": "1"})
    assert default.separators == tuple(chr(c) for c in range(1, 9)) and default.null_sequence == "\\N"
    custom = Delimiters.of({"field.delim": "|", "colelction.delim": ",", "mapkey.delim": ":",
                            "serialization.null.format": "NA"})
    assert custom.separators[:4] == ("|", ",", ":", "\x04") and custom.null_sequence == "NA"
    extended = Delimiters.of({}, {"hive.serialization.extend.nesting.levels": "true"})
    assert extended.levels == 24
    assert extended.separators[8:10] == ("\x0b", "\x0e") and extended.separators[-2:] == ("\x1c", "\x1d")


# ---------------------------------------------------------------------------------------------
# LazySimpleSerDe values
# ---------------------------------------------------------------------------------------------
def test_array_elements_parse_as_trino_does() -> None:
    text = C.join(["1", "x", "\\N", "", " 2", "3.7", "-.5", "+4", "99999999999"])
    assert delimited([text, "", None], "array<int>") == [[1, None, None, None, None, 3, 0, 4, None], [], None]
    assert delimited([C.join(["TRUE", "false", "1", "yes"])], "array<boolean>") == [[True, False, None, None]]
    assert delimited([C.join(["a", "\\N", ""])], "array<varchar(2)>") == [["a", None, ""]]
    assert delimited([C.join(["abc", "de"])], "array<varchar(2)>") == [["ab", "de"]]


def test_map_entries_keys_and_values() -> None:
    text = C.join([f"a{K}1", f"b{K}x", f"a{K}9", "c", f"\\N{K}5", f"d{K}\\N", f"e{K}"])
    # the first of equal keys wins, NULL keys are dropped, an entry without a key separator has a NULL value
    assert delimited([text, "", None], "map<string,int>") == [
        {"a": 1, "b": None, "c": None, "d": None, "e": None}, {}, None]
    assert delimited([C.join([f"1{K}y", f"x{K}z"])], "map<int,string>") == [{1: "y"}]


def test_nested_levels_use_the_next_separators() -> None:
    assert delimited([f"k{K}1\x042\x04\\N{C}j{K}"], "map<string,array<int>>") == [{"k": [1, 2, None], "j": []}]
    assert delimited([f"1{K}2{C}{C}3"], "array<array<int>>") == [[[1, 2], [], [3]]]
    value = delimited([f"1{C}n{K}true{C}extra", "", "5"], "struct<a:int,b:struct<c:string,d:boolean>>")
    assert value == [{"a": 1, "b": {"c": "n", "d": True}}, {"a": None, "b": None}, {"a": 5, "b": None}]


def test_custom_delimiters_nest_through_the_map_key_delimiter() -> None:
    custom = Delimiters.of({"field.delim": "|", "collection.delim": ",", "mapkey.delim": ":",
                            "serialization.null.format": "NA"})
    assert delimited(["x,1:2", "NA,1"], "struct<a:string,b:struct<c:int,d:int>>", custom) == [
        {"a": "x", "b": {"c": 1, "d": 2}}, {"a": None, "b": {"c": 1, "d": None}}]
    assert delimited(["NA,b"], "array<string>", custom) == [[None, "b"]]


def test_too_deep_a_type_names_the_table_property() -> None:
    deep = "array<" * 8 + "int" + ">" * 8
    with pytest.raises(AthenaQueryError) as refused:
        delimited(["1"], deep)
    assert refused.value.reason == ("NOT_SUPPORTED: Type " + "array(" * 8 + "integer" + ")" * 8 + " requires 8 "
                                    "nesting levels, which can be enabled with the "
                                    "hive.serialization.extend.nesting.levels table property")
    extended = Delimiters.of({}, {"hive.serialization.extend.nesting.levels": "true"})
    assert delimited(["1\x0b2"], deep, extended) == [[[[[[[[[1, 2]]]]]]]]]


@pytest.mark.parametrize(("type_text", "literal", "text"), [
    ("array<int>", "[1, NULL, 3]", f"1{C}\\N{C}3"),
    ("array<string>", "['a', '', NULL]", f"a{C}{C}\\N"),
    ("map<string,array<int>>", "MAP {'x': [1, 2], 'y': [], 'z': NULL}", f"x{K}1\x042{C}y{K}{C}z{K}\\N"),
    ("struct<a:string,b:struct<c:int,d:boolean>>", "{'a': 'n', 'b': {'c': 1, 'd': false}}", f"n{C}1{K}false"),
    ("array<array<double>>", "[[1.5], [], [NULL, -2.0]]", f"1.5{C}{C}\\N{K}-2.0"),
    ("array<timestamp>", "[TIMESTAMP '2024-01-02 03:04:05.678']", "2024-01-02 03:04:05.678"),
])
def test_values_written_as_text_read_back_unchanged(type_text: str, literal: str, text: str) -> None:
    delimiters = Delimiters.of({})
    con = duckdb.connect()
    typed = f"CAST({literal} AS {HiveType.parse(type_text).duck()})"
    written = con.sql(f"SELECT {delimited_text('v', type_text, delimiters)} FROM (SELECT {typed} AS v)").fetchall()
    assert written == [(text,)]
    read = con.sql(f"SELECT {delimited_column('x', type_text, delimiters)} = v FROM "
                   f"(SELECT {_literal(text)} AS x, {typed} AS v)").fetchall()
    assert read == [(True,)]


# ---------------------------------------------------------------------------------------------
# JSON SerDes
# ---------------------------------------------------------------------------------------------
def test_json_arrays_openx_and_hive() -> None:
    texts = ['[1, "2", "x", null, 1.9]', "5", '""', "null", None, "[]"]
    assert from_json(texts, "array<int>") == [[1, 2, None, None, 1], [5], None, None, None, []]
    assert from_json(texts, "array<int>", openx=False) == [[1, 2, None, None, 1], None, None, None, None, []]


def test_json_maps_keep_the_last_of_equal_keys_and_drop_null_keys() -> None:
    # "y" is no int (dropped); "01" is the key 1 again, and the later entry wins
    assert from_json(['{"1": "x", "y": "z", "2": 3, "01": "w"}'], "map<int,string>") == [{2: "3", 1: "w"}]
    assert from_json(['{"a": [1, 2], "b": null}', "{}", "[1]", '"s"'], "map<string,array<int>>") == [
        {"a": [1, 2], "b": None}, {}, None, None]


def test_json_structs_match_fields_case_insensitively() -> None:
    texts = ['{"A": 1, "B": {"C": "x", "d": true}}', '[7, {"c": "y"}]', '" "', "{}"]
    row = "struct<a:int,b:struct<c:string,d:boolean>>"
    assert from_json(texts, row) == [{"a": 1, "b": {"c": "x", "d": True}}, {"a": 7, "b": {"c": "y", "d": None}},
                                     {"a": None, "b": None}, {"a": None, "b": None}]
    assert from_json(texts, row, openx=False) == [{"a": 1, "b": {"c": "x", "d": True}}, None, None,
                                                  {"a": None, "b": None}]
    sensitive = json_column("CAST(x AS JSON)", "struct<a:int>", openx=True, case_insensitive=False)
    assert duckdb.connect().sql(f"SELECT {sensitive} FROM (VALUES ('{{\"A\": 1, \"a\": 2}}')) v(x)").fetchall() == [
        ({"a": 2},)]


def test_json_keys_with_quotes_and_dots() -> None:
    assert from_json(['{"a.b": {"q\\"x": 1}}'], "map<string,map<string,int>>") == [{"a.b": {'q"x': 1}}]
