"""Arrays, maps and structs in text tables, read through the Athena API as Athena reads them:
LazySimpleSerDe (ROW FORMAT DELIMITED: default and custom delimiters, the separators of deeper nesting
levels, the NULL sequence per element, empty collections, elements that do not parse), the OpenX and Hive
JSON SerDes (nested values, case-insensitive struct fields, OpenX's coercions), the OpenCSVSerde's
refusal, and the values pyathena's cursor converts from Athena's text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.athena_stack import (
    ARCHIVE_BUCKET,
    WORKGROUP,
    AthenaStack,
    athena_stack,
    failed,
    results,
    run_query,
    succeeded,
)

DB = "complex_text"
BASE = f"s3://{ARCHIVE_BUCKET}/complex-text"
C, K, L3 = "\x02", "\x03", "\x04"  # Hive's collection, map-key and third-level separators


@pytest.fixture(scope="module")
def athena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaStack]:
    yield from athena_stack(tmp_path_factory.mktemp("athena-text-complex"))


@pytest.fixture(scope="module")
def client(athena: AthenaStack) -> Any:
    athena_client = athena.client("athena")
    succeeded(athena_client, f"CREATE DATABASE IF NOT EXISTS {DB}")
    return athena_client


def put(athena: AthenaStack, key: str, body: str) -> None:
    athena.client("s3").put_object(Bucket=ARCHIVE_BUCKET, Key=f"complex-text/{key}", Body=body.encode())


def select(client: Any, sql: str) -> tuple[list[tuple[str, str]], list[list[str | None]]]:
    """(name, type) of each result column and the data rows, as GetQueryResults returns them."""
    execution = run_query(client, sql, database=DB)
    assert execution["Status"]["State"] == "SUCCEEDED", (sql, execution["Status"].get("StateChangeReason"))
    columns, rows = results(client, execution["QueryExecutionId"])
    return [(c["Name"], c["Type"]) for c in columns], rows[1:]


@pytest.fixture(scope="module")
def hive_text(athena: AthenaStack, client: Any) -> str:
    """A LazySimpleSerDe table with Hive's default delimiters (\\u0001 fields, \\u0002 items, \\u0003 keys)."""
    lines = [
        # every kind of element: NULL sequence, empty string, bad number, nested levels
        "\x01".join(["1", f"a{C}\\N{C}", f"x{K}1{L3}2{C}y{K}{C}z{K}\\N{C}w",
                     f"Ann{C}Oslo{K}1234", f"1{C}x{C}3{C} 4{C}5.9", f"1{K}true{C}2{K}yes{C}3{K}FALSE{C}x{K}true",
                     f"a{K}1{C}a{K}2{C}\\N{K}3"]),
        # empty fields: empty array and map, a struct whose first field is ""
        "\x01".join(["2", "", "", "", "", "", ""]),
        # the NULL sequence for every column
        "\x01".join(["3", "\\N", "\\N", "\\N", "\\N", "\\N", "\\N"]),
        # a short row: the missing columns are NULL
        "4",
    ]
    put(athena, "hive/part-0", "\n".join(lines) + "\n")
    succeeded(client, f"""CREATE EXTERNAL TABLE {DB}.hive_text (
                            id int, tags array<string>, scores map<string,array<int>>,
                            person struct<name:string,address:struct<city:string,zip:int>>,
                            nums array<int>, flags map<int,boolean>, firsts map<string,int>)
                          LOCATION '{BASE}/hive/'""", database=DB)
    return "hive_text"


def test_default_delimiters_nesting_nulls_and_bad_elements(client: Any, hive_text: str) -> None:
    columns, rows = select(client, f"SELECT * FROM {hive_text} ORDER BY id")
    assert columns == [("id", "integer"), ("tags", "array"), ("scores", "map"), ("person", "row"),
                       ("nums", "array"), ("flags", "map"), ("firsts", "map")]
    assert [row for row in rows if row[0] != "2"] == [
        ["1", "[a, null, ]", "{x=[1, 2], y=[], z=null, w=null}", "{name=Ann, address={city=Oslo, zip=1234}}",
         "[1, null, 3, null, 5]", "{1=true, 2=null, 3=false}", "{a=1}"],
        ["3", None, None, None, None, None, None],
        ["4", None, None, None, None, None, None],
    ]
    # empty fields: empty arrays and maps, a struct whose first field is ""
    assert rows[1] == ["2", "[]", "{}", "{name=, address=null}", "[]", "{}", "{}"]
    _, sizes = select(client, f"SELECT cardinality(scores), cardinality(flags), cardinality(firsts) FROM {hive_text} "
                              "WHERE id = 2")
    assert sizes == [["0", "0", "0"]]


def test_elements_are_typed_values_sql_can_use(client: Any, hive_text: str) -> None:
    columns, rows = select(client, f"""SELECT cardinality(tags), tags[1], scores['x'][2], (person.address).zip + 1,
                                              element_at(flags, 3), map_keys(scores)
                                       FROM {hive_text} WHERE id = 1""")
    assert [t for _, t in columns] == ["bigint", "varchar", "integer", "integer", "boolean", "array"]
    assert rows == [["3", "a", "2", "1235", "false", "[x, y, z, w]"]]
    _, rows = select(client, f"SELECT id FROM {hive_text} WHERE contains(nums, 3) OR cardinality(tags) = 0 "
                             "ORDER BY id")
    assert rows == [["1"], ["2"]]


def test_top_level_scalars_parse_as_their_elements_do(athena: AthenaStack, client: Any) -> None:
    put(athena, "scalars/part-0", "7\x01TRUE\x011.5\n 4\x01yes\x01x\n5.9\x01false\x01\n")
    succeeded(client, f"CREATE EXTERNAL TABLE {DB}.scalars (n int, b boolean, d double) LOCATION '{BASE}/scalars/'",
              database=DB)
    _, rows = select(client, f"SELECT n, b, d FROM {DB}.scalars")
    # Trino's text encodings: no blanks around a number, a fraction ignored, only true/false for booleans
    assert sorted(rows, key=str) == sorted([["7", "true", "1.5"], [None, None, None], ["5", "false", None]], key=str)


@pytest.fixture(scope="module")
def custom_text(athena: AthenaStack, client: Any) -> str:
    """ROW FORMAT DELIMITED with its own field, collection and map-key delimiters and NULL sequence: the
    second nesting level splits on the map-key delimiter, the third on \\u0004."""
    put(athena, "custom/part-0", f"1|a:1{L3}2,b:3|x,1:2|1:2,3|NA,b\n2|NA|NA,1|NA|\n")
    succeeded(client, f"""CREATE EXTERNAL TABLE {DB}.custom_text (
                            id int, m map<string,array<int>>, s struct<a:string,b:struct<c:int,d:int>>,
                            aa array<array<int>>, t array<string>)
                          ROW FORMAT DELIMITED FIELDS TERMINATED BY '|' COLLECTION ITEMS TERMINATED BY ','
                            MAP KEYS TERMINATED BY ':' NULL DEFINED AS 'NA'
                          LOCATION '{BASE}/custom/'""", database=DB)
    return "custom_text"


def test_custom_delimiters_and_null_sequence(client: Any, custom_text: str) -> None:
    _, rows = select(client, f"SELECT * FROM {custom_text} ORDER BY id")
    assert rows == [
        ["1", "{a=[1, 2], b=[3]}", "{a=x, b={c=1, d=2}}", "[[1, 2], [3]]", "[null, b]"],
        ["2", None, "{a=null, b={c=1, d=null}}", None, "[]"],
    ]


def test_ctas_and_insert_write_complex_columns_that_read_back(client: Any, hive_text: str,
                                                              custom_text: str) -> None:
    """A TEXTFILE table written by CTAS (Hive's default delimiters) or INSERT (the table's own delimiters and
    NULL sequence) holds its arrays, maps and structs in LazySimpleSerDe text, so they read back equal."""
    source = f"SELECT * FROM {hive_text} WHERE id IN (1, 2, 3)"
    succeeded(client, f"CREATE TABLE {DB}.hive_text_copy WITH (format = 'TEXTFILE') AS {source}", database=DB)
    _, original = select(client, f"{source} ORDER BY id")
    _, copied = select(client, f"SELECT * FROM {DB}.hive_text_copy ORDER BY id")
    assert copied == original and len(copied) == 3
    succeeded(client, f"INSERT INTO {DB}.{custom_text} SELECT id + 10, m, s, aa, t FROM {DB}.{custom_text}",
              database=DB)
    _, rows = select(client, f"SELECT * FROM {DB}.{custom_text} WHERE id > 10 ORDER BY id")
    assert rows == [
        ["11", "{a=[1, 2], b=[3]}", "{a=x, b={c=1, d=2}}", "[[1, 2], [3]]", "[null, b]"],
        ["12", None, "{a=null, b={c=1, d=null}}", None, "[]"],
    ]


def test_nesting_deeper_than_eight_levels_needs_the_table_property(athena: AthenaStack, client: Any) -> None:
    deep = "int"
    for _ in range(8):
        deep = f"array<{deep}>"
    put(athena, "deep/part-0", "1\x0b2\n")  # the ninth separator, \u000b, splits the innermost array
    succeeded(client, f"CREATE EXTERNAL TABLE {DB}.deep (a {deep}) LOCATION '{BASE}/deep/'", database=DB)
    reason = failed(client, f"SELECT a FROM {DB}.deep", database=DB)
    assert reason == ("NOT_SUPPORTED: Type array(array(array(array(array(array(array(array(integer)))))))) "
                      "requires 8 nesting levels, which can be enabled with the "
                      "hive.serialization.extend.nesting.levels table property")
    succeeded(client, f"ALTER TABLE {DB}.deep SET TBLPROPERTIES ('hive.serialization.extend.nesting.levels'='true')",
              database=DB)
    _, rows = select(client, f"SELECT a FROM {DB}.deep")
    assert rows == [["[[[[[[[[1, 2]]]]]]]]"]]


@pytest.fixture(scope="module")
def json_tables(athena: AthenaStack, client: Any) -> tuple[str, str]:
    """The same well-typed lines for both JSON SerDes; OpenX's table also has lines it coerces."""
    lines = [
        '{"id": 1, "tags": ["a", null, ""], "scores": {"x": [1, 2], "y": [], "z": null}, '
        '"Person": {"NAME": "Ann", "Address": {"City": "Oslo", "zip": 1234}}, "nums": [1, null, 2]}',
        '{"id": 2, "tags": [], "scores": {}, "person": {"name": "Bob"}, "nums": []}',
        '{"id": 3, "tags": null}',
    ]
    coerced = ['{"id": 4, "tags": "solo", "scores": {"k": 5}, "person": ["Cy", {"city": "Rome", "zip": "7"}], '
               '"nums": ["x", 2.9, "3"]}',
               '{"id": 5, "tags": "", "scores": " ", "person": " ", "nums": 6}']
    for name, serde in (("openx", "org.openx.data.jsonserde.JsonSerDe"),
                        ("hivejson", "org.apache.hive.hcatalog.data.JsonSerDe")):
        put(athena, f"{name}/part-0.json", "\n".join(lines + (coerced if name == "openx" else [])) + "\n")
        succeeded(client, f"""CREATE EXTERNAL TABLE {DB}.{name} (
                                id int, tags array<string>, scores map<string,array<int>>,
                                person struct<name:string,address:struct<city:string,zip:int>>, nums array<int>)
                              ROW FORMAT SERDE '{serde}' LOCATION '{BASE}/{name}/'""", database=DB)
    return "openx", "hivejson"


@pytest.mark.parametrize("serde", ["openx", "hivejson"])
def test_json_nested_values_and_case_insensitive_fields(client: Any, json_tables: Any, serde: str) -> None:
    columns, rows = select(client, f"SELECT id, tags, IF(cardinality(scores) = 0, NULL, scores), person, nums "
                                   f"FROM {serde} WHERE id <= 3 ORDER BY id")
    assert [t for _, t in columns] == ["integer", "array", "map", "row", "array"]
    assert rows == [  # an empty map (id 2) as NULL: see the size check above for its value
        ["1", "[a, null, ]", "{x=[1, 2], y=[], z=null}", "{name=Ann, address={city=Oslo, zip=1234}}",
         "[1, null, 2]"],
        ["2", "[]", None, "{name=Bob, address=null}", "[]"],
        ["3", None, None, None, None],
    ]


def test_openx_coerces_scalars_to_arrays_and_arrays_to_structs(client: Any, json_tables: Any) -> None:
    _, rows = select(client, "SELECT tags, scores, person, nums FROM openx WHERE id >= 4 ORDER BY id")
    assert rows == [
        # a scalar is a one-element array, a JSON array a struct by position, a bad number NULL, 2.9 is 2
        ["[solo]", "{k=[5]}", "{name=Cy, address={city=Rome, zip=7}}", "[null, 2, 3]"],
        # "" is a NULL array, a blank string a NULL map and a struct of NULLs
        [None, None, "{name=null, address=null}", "[6]"],
    ]


def test_opencsv_refuses_complex_columns(athena: AthenaStack, client: Any) -> None:
    put(athena, "csv/part-0.csv", '"1","a,b"\n')
    succeeded(client, f"""CREATE EXTERNAL TABLE {DB}.csv_tags (id int, tags array<string>)
                          ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
                          LOCATION '{BASE}/csv/'""", database=DB)
    reason = failed(client, f"SELECT * FROM {DB}.csv_tags", database=DB)
    assert reason.startswith("NOT_SUPPORTED: Column tags of awsdatacatalog.complex_text.csv_tags is array(varchar)")


def test_pyathena_converts_athenas_text(athena: AthenaStack, client: Any, hive_text: str) -> None:
    from pyathena import connect

    with athena.environment():
        cursor = connect(work_group=WORKGROUP, schema_name=DB, poll_interval=0.05).cursor()
        cursor.execute(f"SELECT nums, person, flags, tags, scores FROM {hive_text} WHERE id IN (1, 2) ORDER BY id")
        assert [d[:2] for d in cursor.description] == [("nums", "array"), ("person", "row"), ("flags", "map"),
                                                       ("tags", "array"), ("scores", "map")]
        first, second = cursor.fetchall()
        cursor.execute(f"SELECT cardinality(flags) FROM {hive_text} WHERE id = 2")
        assert cursor.fetchall() == [(0,)]
    # pyathena parses "[1, null, 3, null, 5]" as JSON, rows and maps of scalars as key=value text
    assert first[0] == [1, None, 3, None, 5]
    assert first[1] == {"name": "Ann", "address": {"city": "Oslo", "zip": "1234"}}
    assert first[2] == {"1": "true", "2": None, "3": "false"}
    assert first[3] == ["a", None]  # pyathena's native parse drops the empty string
    assert first[4] is None  # a map of arrays is left unconverted by pyathena (its documented limit)
    assert (second[0], second[1], second[3]) == ([], {"name": "", "address": None}, [])
