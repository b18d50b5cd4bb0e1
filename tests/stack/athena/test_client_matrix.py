"""The client matrix: pyathena's cursors (Cursor, DictCursor, PandasCursor and ArrowCursor, each of the last two
with and without ``unload``) and its SQLAlchemy dialect run the same queries against the local Athena and get
the values and types Athena's text rendering (GetQueryResults, the result CSV) and UNLOAD's Parquet give
through pyathena's own converters.

What Athena renders is pinned from AWS's documentation and pyathena's tests: arrays ``[1, 2]``, maps
``{a=1}``, rows ``{x=1, y=a}``, varbinary as spaced hex, timestamps with milliseconds, a NULL as no value
(an empty unquoted CSV field) and an empty string as ``""``; what each cursor makes of that is pyathena's
(converter.py, pandas/converter.py, arrow/converter.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from tests.support.athena_stack import (
    DATABASE,
    RESULTS_BUCKET,
    WORKGROUP,
    AthenaStack,
    athena_stack,
    succeeded,
)

STAGING = f"s3://{RESULTS_BUCKET}/matrix-staging/"
PRIMITIVES = "SELECT * FROM matrix_primitives ORDER BY k"
DESCRIPTION = [("k", "integer", 10, 0), ("b", "boolean", 0, 0), ("ti", "tinyint", 3, 0), ("si", "smallint", 5, 0),
               ("i", "integer", 10, 0), ("bi", "bigint", 19, 0), ("r", "float", 7, 0), ("d", "double", 17, 0),
               ("dec", "decimal", 10, 2), ("dec38", "decimal", 38, 11), ("v", "varchar", 2147483647, 0),
               ("vb", "varbinary", 1073741824, 0), ("dt", "date", 0, 0), ("ts", "timestamp", 3, 0),
               ("e", "varchar", 2147483647, 0)]
NAMES = [d[0] for d in DESCRIPTION]
BIG = Decimal("123456789012345678901234567.00000000001")
ROW = {"k": 1, "b": True, "ti": -1, "si": -2, "i": -3, "bi": 9007199254740993, "r": 1.5, "d": 0.1,
       "dec": Decimal("-12.34"), "dec38": BIG, "v": 'héllo, "wörld"', "vb": b"\x00\xff\x10",
       "dt": date(2024, 1, 2), "ts": datetime(2024, 1, 2, 3, 4, 5, 678000), "e": ""}
NULL_ROW = {name: None for name in NAMES} | {"k": 2}


@pytest.fixture(scope="module")
def athena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaStack]:
    yield from athena_stack(tmp_path_factory.mktemp("athena-matrix"))


@pytest.fixture(scope="module")
def client(athena: AthenaStack) -> Any:
    return athena.client("athena")


@pytest.fixture(scope="module")
def local_s3(athena: AthenaStack) -> Iterator[None]:
    """pyathena's Arrow and UNLOAD readers open S3 with pyarrow's S3FileSystem, which (unlike boto3) reads no
    AWS_ENDPOINT_URL: point it at the local endpoint, as a user of the local stack has to."""
    import pyarrow.fs

    original = pyarrow.fs.S3FileSystem
    endpoint = athena.stack.endpoint_url.split("://", 1)[1]

    def local(**kwargs: Any) -> Any:
        return original(**{"endpoint_override": endpoint, "scheme": "http", **kwargs})

    with pytest.MonkeyPatch.context() as patch, athena.environment():
        patch.setattr(pyarrow.fs, "S3FileSystem", local)
        yield


@pytest.fixture(scope="module")
def tables(client: Any) -> None:
    """matrix_primitives (CTAS, Parquet): a row of every primitive type and a row of NULLs; matrix_parts
    (partitioned by dt); matrix_view (a view over matrix_parts)."""
    succeeded(client, """CREATE TABLE matrix_primitives WITH (format = 'PARQUET') AS
        SELECT * FROM (VALUES
          (1, true, CAST(-1 AS tinyint), CAST(-2 AS smallint), -3, CAST(9007199254740993 AS bigint),
           CAST(1.5 AS real), 0.1e0, CAST('-12.34' AS decimal(10, 2)),
           CAST('123456789012345678901234567.00000000001' AS decimal(38, 11)), 'héllo, "wörld"', X'00ff10',
           DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05.678', ''),
          (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
        ) t(k, b, ti, si, i, bi, r, d, dec, dec38, v, vb, dt, ts, e)""")
    succeeded(client, """CREATE TABLE matrix_parts WITH (format = 'PARQUET', partitioned_by = ARRAY['dt']) AS
        SELECT * FROM (VALUES (1, 'a', '2024-01-01'), (2, NULL, '2024-01-02'), (3, 'c', '2024-01-02'))
        t(id, s, dt)""")
    succeeded(client, "CREATE VIEW matrix_view AS SELECT dt, count(*) AS n, max(s) AS s FROM matrix_parts GROUP BY dt")


def connect(**kwargs: Any) -> Any:
    from pyathena import connect as pyathena_connect

    return pyathena_connect(work_group=WORKGROUP, schema_name=DATABASE, poll_interval=0.05, s3_staging_dir=STAGING,
                            **kwargs)


def cursor_of(kind: str, **kwargs: Any) -> Any:
    from pyathena.arrow.cursor import ArrowCursor
    from pyathena.cursor import DictCursor
    from pyathena.pandas.cursor import PandasCursor

    classes = {"cursor": None, "dict": DictCursor, "pandas": PandasCursor, "arrow": ArrowCursor}
    unload = kind.endswith("_unload")
    cls = classes[kind.removesuffix("_unload")]
    extra = {"unload": True} if unload else {}
    return connect().cursor(cls, **extra, **kwargs) if cls else connect().cursor(**kwargs)


def sqlalchemy_engine() -> Any:
    from sqlalchemy import create_engine

    return create_engine(f"awsathena+rest://:@athena.us-east-1.amazonaws.com:443/{DATABASE}?work_group={WORKGROUP}"
                         f"&s3_staging_dir={STAGING}&poll_interval=0.05")


# ---------------------------------------------------------------------------------------------
# primitive types and their NULLs
# ---------------------------------------------------------------------------------------------
def test_cursor_and_dict_cursor_convert_every_primitive_type(local_s3: None, tables: None) -> None:
    cursor = cursor_of("cursor")
    cursor.execute(PRIMITIVES)
    assert [(d[0], d[1], d[4], d[5]) for d in cursor.description] == DESCRIPTION
    rows = cursor.fetchall()
    assert rows == [tuple(ROW.values()), tuple(NULL_ROW.values())]
    assert rows[0][9].as_tuple().exponent == -11  # decimal(38, 11) keeps its 38 digits and its scale
    dict_cursor = cursor_of("dict")
    dict_cursor.execute(PRIMITIVES)
    assert dict_cursor.fetchall() == [ROW, NULL_ROW]


def test_sqlalchemy_dialect_and_read_sql(local_s3: None, tables: None) -> None:
    from sqlalchemy import text

    engine = sqlalchemy_engine()
    with engine.connect() as connection:
        assert [tuple(r) for r in connection.execute(text(PRIMITIVES)).fetchall()] == \
            [tuple(ROW.values()), tuple(NULL_ROW.values())]
    frame = pd.read_sql(text("SELECT k, bi, dec, v, dt FROM matrix_primitives ORDER BY k"), engine)
    # pandas' own handling of DB-API rows: decimals coerced to float, a NULL integer makes the column float
    first, nulls = frame.to_dict("records")
    assert first == {"k": 1, "bi": 9007199254740993.0, "dec": -12.34, "v": 'héllo, "wörld"', "dt": date(2024, 1, 2)}
    assert nulls["k"] == 2 and nulls["dt"] is None and all(math.isnan(nulls[c]) for c in ("bi", "dec", "v"))


def test_pandas_cursor_reads_the_result_csv(local_s3: None, tables: None) -> None:
    frame = cursor_of("pandas").execute(PRIMITIVES).as_pandas()
    assert {k: str(v) for k, v in frame.dtypes.items()} == {
        "k": "Int64", "b": "object", "ti": "Int64", "si": "Int64", "i": "Int64", "bi": "Int64", "r": "float64",
        "d": "float64", "dec": "object", "dec38": "object", "v": "str", "vb": "object", "dt": "datetime64[us]",
        "ts": "datetime64[us]", "e": "str"}
    first, nulls = frame.to_dict("records")
    assert first == {**ROW, "dt": pd.Timestamp(2024, 1, 2), "ts": pd.Timestamp(ROW["ts"]),
                     "e": first["e"]}
    # Athena's CSV has "" for the empty string, but pandas' CSV reader (with pyathena's na_values=("",))
    # makes an empty quoted field NaN just like an unquoted one
    assert isinstance(first["e"], float) and math.isnan(first["e"])
    assert nulls["k"] == 2 and nulls["b"] is None and nulls["dec"] is None and nulls["dec38"] is None
    assert all(frame[c].isna().tolist() == [False, True] for c in ("ti", "si", "i", "bi"))  # nullable Int64
    assert all(math.isnan(nulls[c]) for c in ("r", "d", "v", "e"))
    assert nulls["vb"] == b"" and nulls["dt"] is pd.NaT and nulls["ts"] is pd.NaT


def test_pandas_cursor_with_unload_reads_parquet(local_s3: None, tables: None) -> None:
    frame = cursor_of("pandas_unload").execute(PRIMITIVES).as_pandas()
    assert {k: str(v) for k, v in frame.dtypes.items()} == {
        "k": "int32", "b": "object", "ti": "float64", "si": "float64", "i": "float64", "bi": "float64",
        "r": "float32", "d": "float64", "dec": "object", "dec38": "object", "v": "str", "vb": "object",
        "dt": "object", "ts": "datetime64[ms]", "e": "str"}
    first, nulls = frame.to_dict("records")
    assert first == {**ROW, "ti": -1.0, "si": -2.0, "i": -3.0, "bi": float(9007199254740993),
                     "ts": pd.Timestamp(ROW["ts"])}
    assert first["e"] == ""  # Parquet keeps the empty string apart from NULL
    assert nulls["b"] is None and nulls["dec"] is None and nulls["vb"] is None and nulls["dt"] is None
    assert all(math.isnan(nulls[c]) for c in ("ti", "si", "i", "bi", "r", "d", "v", "e"))
    assert nulls["ts"] is pd.NaT


def test_arrow_cursor_reads_the_result_csv(local_s3: None, tables: None) -> None:
    table = cursor_of("arrow").execute(PRIMITIVES).as_arrow()
    assert [str(t) for t in table.schema.types] == [
        "int32", "bool", "int8", "int16", "int32", "int64", "float", "double", "string", "string", "string",
        "string", "timestamp[ms]", "timestamp[ms]", "string"]
    first, nulls = table.to_pylist()
    assert first == {**ROW, "dec": "-12.34", "dec38": str(BIG), "vb": "00 ff 10", "dt": datetime(2024, 1, 2)}
    # pyathena reads strings with quoted_strings_can_be_null=False and pyarrow's default strings_can_be_null
    # False: a NULL varchar / decimal / varbinary (an empty unquoted field) comes back as ""
    assert nulls == {**NULL_ROW, "dec": "", "dec38": "", "v": "", "vb": "", "e": ""}


def test_arrow_cursor_with_unload_reads_parquet(local_s3: None, tables: None) -> None:
    table = cursor_of("arrow_unload").execute(PRIMITIVES).as_arrow()
    assert [str(t) for t in table.schema.types] == [
        "int32", "bool", "int8", "int16", "int32", "int64", "float", "double", "decimal128(10, 2)",
        "decimal128(38, 11)", "string", "binary", "date32[day]", "timestamp[ms]", "string"]
    assert table.to_pylist() == [ROW, NULL_ROW]


def test_get_query_results_renders_values_as_athena_does(client: Any, tables: None) -> None:
    execution, rows = succeeded(client, PRIMITIVES)
    assert rows == [NAMES,
                    ["1", "true", "-1", "-2", "-3", "9007199254740993", "1.5", "0.1", "-12.34", str(BIG),
                     'héllo, "wörld"', "00 ff 10", "2024-01-02", "2024-01-02 03:04:05.678", ""],
                    ["2", *[None] * 14]]
    _, doubles = succeeded(client, "SELECT 1e7, 123456.5e0, 1e-4, CAST(1e-4 AS real), -0e0, nan(), infinity()")
    assert doubles[1] == ["1.0E7", "123456.5", "1.0E-4", "1.0E-4", "-0.0", "NaN", "Infinity"]  # Java's text


@pytest.mark.parametrize("kind", ["cursor", "dict", *("pandas", "pandas_unload", "arrow", "arrow_unload")])
def test_an_empty_result_and_a_long_one(local_s3: None, tables: None, kind: str) -> None:
    cursor = cursor_of(kind)
    cursor.execute("SELECT k, v FROM matrix_primitives WHERE k < 0")
    # with unload pyathena takes the description from the Parquet files, and an UNLOAD of no rows writes none
    assert [d[:2] for d in cursor.description] == ([] if kind.endswith("_unload") else [("k", "integer"),
                                                                                          ("v", "varchar")])
    assert cursor.fetchall() == []
    cursor.execute("SELECT x, 'row ' || CAST(x AS varchar) AS s FROM UNNEST(sequence(1, 2500)) AS t(x) ORDER BY x")
    rows = cursor.fetchall()  # more than one GetQueryResults page (1000 rows) for the plain cursors
    assert len(rows) == 2500 and tuple(dict(rows[1999]).values() if kind == "dict" else rows[1999]) == \
        (2000, "row 2000")


# ---------------------------------------------------------------------------------------------
# complex types
# ---------------------------------------------------------------------------------------------
COMPLEX = ("SELECT ARRAY[1, 2] AS a, MAP(ARRAY['a', 'b'], ARRAY[1, 2]) AS m, "
           "CAST(ROW(1, 'x y') AS ROW(x integer, y varchar)) AS r, ARRAY[ARRAY['x', NULL], ARRAY[]] AS nested, "
           "ARRAY[CAST(ROW(1, 2.5e0) AS ROW(p integer, q double))] AS rows, CAST(NULL AS array(integer)) AS none")
COMPLEX_TEXT = ["[1, 2]", "{a=1, b=2}", "{x=1, y=x y}", "[[x, null], []]", "[{p=1, q=2.5}]", None]


def test_complex_types_as_athena_renders_them(client: Any, local_s3: None) -> None:
    execution, rows = succeeded(client, COMPLEX)
    assert rows[1] == COMPLEX_TEXT
    cursor = cursor_of("cursor")
    cursor.execute(COMPLEX)
    assert [d[1] for d in cursor.description] == ["array", "map", "row", "array", "array", "array"]
    # pyathena's converters: JSON-like arrays parsed, Athena's {k=v} maps and rows parsed with string values,
    # nested arrays left unparsed (None), as its converter.py documents
    assert cursor.fetchall() == [([1, 2], {"a": "1", "b": "2"}, {"x": "1", "y": "x y"}, None,
                                  [{"p": "1", "q": "2.5"}], None)]
    frame = cursor_of("pandas").execute(COMPLEX).as_pandas()
    assert frame.iloc[0].tolist()[:5] == COMPLEX_TEXT[:5] and math.isnan(frame.iloc[0]["none"])
    assert cursor_of("arrow").execute(COMPLEX).as_arrow().to_pylist() == [
        dict(zip(["a", "m", "r", "nested", "rows", "none"], [*COMPLEX_TEXT[:5], ""], strict=True))]


def test_nested_values_render_as_their_scalars_do(client: Any) -> None:
    _, rows = succeeded(client, "SELECT ARRAY[1e7, 0.5e0], ARRAY[TIMESTAMP '2024-01-02 03:04:05'], "
                                "ARRAY[DATE '2024-01-02'], MAP(ARRAY['k'], ARRAY[CAST(NULL AS integer)]), "
                                "ARRAY[true, NULL], CAST(ROW(NULL, 'a') AS ROW(x integer, y varchar)), "
                                "ARRAY[DECIMAL '1.50'], ARRAY[CAST(1.5 AS real)]")
    assert rows[1] == ["[1.0E7, 0.5]", "[2024-01-02 03:04:05.000]", "[2024-01-02]", "{k=null}", "[true, null]",
                       "{x=null, y=a}", "[1.50]", "[1.5]"]


def test_an_anonymous_row(client: Any) -> None:
    # Athena names an anonymous row's fields field0, field1 ... (AWS's "Create a ROW" page: ROW('Bob', 38) is
    # {field0=Bob, field1=38}); a CAST still names them by position
    assert succeeded(client, "SELECT ROW('Bob', 38) AS users, ARRAY[ROW(1, 2)], "
                             "CAST(ROW(1, 2) AS ROW(x integer, y integer))")[1][1] == [
        "{field0=Bob, field1=38}", "[{field0=1, field1=2}]", "{x=1, y=2}"]


def test_complex_types_through_unload_are_parquet_nested_types(local_s3: None) -> None:
    table = cursor_of("arrow_unload").execute(COMPLEX).as_arrow()
    types = table.schema.types
    assert pa.types.is_list(types[0]) and str(types[0].value_type) == "int32"
    assert pa.types.is_map(types[1]) and (str(types[1].key_type), str(types[1].item_type)) == ("string", "int32")
    assert pa.types.is_struct(types[2]) and [f.name for f in types[2]] == ["x", "y"]
    assert table.to_pylist() == [{"a": [1, 2], "m": [("a", 1), ("b", 2)], "r": {"x": 1, "y": "x y"},
                                  "nested": [["x", None], []], "rows": [{"p": 1, "q": 2.5}], "none": None}]
    frame = cursor_of("pandas_unload").execute(COMPLEX).as_pandas()
    assert frame.iloc[0]["r"] == {"x": 1, "y": "x y"} and list(frame.iloc[0]["a"]) == [1, 2]


def test_timestamp_with_time_zone_and_time(client: Any, local_s3: None) -> None:
    sql = ("SELECT TIMESTAMP '2024-01-02 03:04:05.678 UTC' AS tz, TIME '01:02:03.456' AS t, "
           "TIMESTAMP '2024-01-02 03:04:05.678 America/New_York' AS ny, CAST('ab' AS char(4)) AS c")
    execution, rows = succeeded(client, sql)
    assert rows[1] == ["2024-01-02 03:04:05.678 UTC", "01:02:03.456", "2024-01-02 03:04:05.678 America/New_York",
                       "ab  "]
    cursor = cursor_of("cursor")
    cursor.execute(sql)
    assert [d[1] for d in cursor.description] == ["timestamp with time zone", "time", "timestamp with time zone",
                                                  "char"]
    assert cursor.description[3][4] == 4  # char(4)'s precision
    tz, t, ny, c = cursor.fetchone()
    assert c == "ab  "
    assert (tz.isoformat(), t.isoformat()) == ("2024-01-02T03:04:05.678000+00:00", "01:02:03.456000")
    assert ny.isoformat() == "2024-01-02T03:04:05.678000-05:00" and "America/New_York" in str(ny.tzinfo)
    frame = cursor_of("pandas").execute(sql).as_pandas()
    assert str(frame.dtypes["tz"]) == "datetime64[us, UTC]"
    assert frame["tz"][0] == pd.Timestamp("2024-01-02 03:04:05.678", tz="UTC")
    # UNLOAD writes through Hive's writers, which have no type for a zoned timestamp (nor for CTAS)
    from pyathena.error import OperationalError

    with pytest.raises(OperationalError, match=r"^NOT_SUPPORTED: Unsupported Hive type: timestamp\(3\) with time zone"):
        cursor_of("pandas_unload").execute("SELECT TIMESTAMP '2024-01-02 03:04:05.678 UTC' AS tz")


# ---------------------------------------------------------------------------------------------
# parameters, CTAS, views, partitions
# ---------------------------------------------------------------------------------------------
PANDAS_LIKE = ("pandas", "pandas_unload", "arrow", "arrow_unload")


def rows_of(kind: str, sql: str, parameters: Any = None, **kwargs: Any) -> list[tuple[Any, ...]]:
    """The rows a cursor of ``kind`` fetches (DB-API fetchall, which every pyathena cursor offers)."""
    cursor = cursor_of(kind)
    cursor.execute(sql, parameters, **kwargs)
    return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in cursor.fetchall()]


@pytest.mark.parametrize("kind", ["cursor", "dict", *PANDAS_LIKE])
def test_pyformat_and_qmark_parameters(local_s3: None, tables: None, kind: str) -> None:
    pyformat = rows_of(kind, "SELECT k, v FROM matrix_primitives WHERE bi = %(bi)s AND v = %(v)s AND dt = %(dt)s",
                       {"bi": 9007199254740993, "v": 'héllo, "wörld"', "dt": date(2024, 1, 2)})
    assert pyformat == [(1, 'héllo, "wörld"')]
    qmark = rows_of(kind, "SELECT k, ? AS s FROM matrix_primitives WHERE dec = ? ORDER BY k",
                    ["'50% it''s'", "DECIMAL '-12.34'"], paramstyle="qmark")
    assert qmark == [(1, "50% it's")]


def test_sqlalchemy_bound_parameters(local_s3: None, tables: None) -> None:
    from sqlalchemy import text

    with sqlalchemy_engine().connect() as connection:
        rows = connection.execute(text("SELECT k FROM matrix_primitives WHERE v = :v OR k = :k ORDER BY k"),
                                  {"v": 'héllo, "wörld"', "k": 2}).fetchall()
    assert [tuple(r) for r in rows] == [(1,), (2,)]


def test_insert_reports_its_row_count(local_s3: None, tables: None) -> None:
    cursor = cursor_of("cursor")
    cursor.execute("CREATE TABLE matrix_insert AS SELECT 0 AS x, 'z' AS s WITH NO DATA")
    cursor.execute("INSERT INTO matrix_insert VALUES (1, 'a'), (2, NULL)")
    assert cursor.rowcount == 2 and [(d[0], d[1]) for d in cursor.description] == [("rows", "bigint")]
    assert rows_of("cursor", "SELECT * FROM matrix_insert ORDER BY x") == [(1, "a"), (2, None)]


@pytest.mark.parametrize("kind", ["cursor", "pandas", "arrow"])
def test_ctas_reports_rows_and_the_table_reads_back(local_s3: None, tables: None, kind: str) -> None:
    cursor = cursor_of(kind)
    cursor.execute(f"CREATE TABLE matrix_ctas_{kind} AS SELECT k, dec38, v FROM matrix_primitives")
    assert [(d[0], d[1]) for d in cursor.description] == [("rows", "bigint")]
    assert cursor.rowcount == 2 and cursor.fetchall() == []
    first, nulls = rows_of(kind, f"SELECT k, dec38, v FROM matrix_ctas_{kind} ORDER BY k")
    assert first == (1, BIG, ROW["v"]) and nulls[:2] == (2, None)
    # a NULL varchar: None from GetQueryResults, NaN from pandas' CSV reader, "" from pyarrow's (see above)
    assert nulls[2] is None if kind == "cursor" else nulls[2] == "" if kind == "arrow" else math.isnan(nulls[2])


@pytest.mark.parametrize("kind", ["cursor", "dict", *PANDAS_LIKE])
def test_views_and_partitions(local_s3: None, tables: None, kind: str) -> None:
    assert rows_of(kind, "SELECT dt, n, s FROM matrix_view ORDER BY dt") == [("2024-01-01", 1, "a"),
                                                                           ("2024-01-02", 2, "c")]
    assert rows_of(kind, "SELECT id FROM matrix_parts WHERE dt = '2024-01-02' ORDER BY id") == [(2,), (3,)]


def test_show_partitions_and_show_columns(local_s3: None, tables: None) -> None:
    assert rows_of("cursor", "SHOW PARTITIONS matrix_parts") == [("dt=2024-01-01",), ("dt=2024-01-02",)]
    # Hive's SHOW COLUMNS, as Athena returns it (pyathena's own tests pin it: "number_of_rows      "): one
    # column "field" typed string, each name padded to 20 characters
    for kind in ("cursor", "pandas", "arrow"):
        cursor = cursor_of(kind)
        cursor.execute("SHOW COLUMNS IN matrix_parts")
        assert cursor.description == [("field", "string", None, None, 0, 0, "UNKNOWN")]
        assert cursor.fetchall() == [("id                  ",), ("s                   ",), ("dt                  ",)]


# ---------------------------------------------------------------------------------------------
# NULL and the empty string in the result CSV
# ---------------------------------------------------------------------------------------------
def test_null_is_an_empty_field_and_the_empty_string_is_quoted(athena: AthenaStack, client: Any) -> None:
    sql = ("SELECT '' AS e, CAST(NULL AS varchar) AS n, CAST(NULL AS integer) AS i, CAST(NULL AS boolean) AS b, "
           "CAST(NULL AS double) AS d, 'x' AS x")
    execution, rows = succeeded(client, sql)
    assert rows[1] == ["", None, None, None, None, "x"]  # GetQueryResults: {"VarCharValue": ""} vs {}
    bucket, key = execution["ResultConfiguration"]["OutputLocation"][len("s3://"):].split("/", 1)
    body = athena.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == b'"e","n","i","b","d","x"\n"",,,,,"x"\n'


# ---------------------------------------------------------------------------------------------
# result reuse and the queue time
# ---------------------------------------------------------------------------------------------
def reuse(minutes: int | None = None) -> dict[str, Any]:
    by_age: dict[str, Any] = {"Enabled": True} | ({"MaxAgeInMinutes": minutes} if minutes is not None else {})
    return {"ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": by_age}}


def reused(execution: dict[str, Any]) -> bool:
    return bool(execution["Statistics"]["ResultReuseInformation"]["ReusedPreviousResult"])


def test_pyathena_result_reuse_answers_from_the_earlier_result(client: Any, local_s3: None, tables: None) -> None:
    sql = "SELECT k, v FROM matrix_primitives WHERE k = 1 -- reuse through pyathena"
    first = cursor_of("cursor", result_reuse_enable=True)
    first.execute(sql)
    second = cursor_of("cursor", result_reuse_enable=True)
    second.execute(sql)
    assert first.fetchall() == second.fetchall() == [(1, ROW["v"])]
    assert second.query_id != first.query_id and second.output_location == first.output_location
    earlier, later = (client.get_query_execution(QueryExecutionId=q)["QueryExecution"]
                      for q in (first.query_id, second.query_id))
    assert (reused(earlier), reused(later)) == (False, True)
    assert later["ResultReuseConfiguration"] == {"ResultReuseByAgeConfiguration": {"Enabled": True,
                                                                                   "MaxAgeInMinutes": 60}}
    assert later["Statistics"]["DataScannedInBytes"] == 0 and earlier["Statistics"]["DataScannedInBytes"] > 0
    frame = cursor_of("pandas").execute(sql, result_reuse_enable=True, result_reuse_minutes=5).as_pandas()
    assert frame.to_dict("list") == {"k": [1], "v": [ROW["v"]]}


def test_what_result_reuse_does_not_reuse(athena: AthenaStack, client: Any, tables: None) -> None:
    sql = "SELECT count(*) FROM matrix_parts WHERE dt = ?"
    base, rows = succeeded(client, sql, ExecutionParameters=["'2024-01-02'"], **reuse())
    assert rows[1:] == [["2"]] and not reused(base)
    assert reused(succeeded(client, sql, ExecutionParameters=["'2024-01-02'"], **reuse())[0])
    other, rows = succeeded(client, sql, ExecutionParameters=["'2024-01-01'"], **reuse())
    assert rows[1:] == [["1"]] and not reused(other)  # other parameters
    assert not reused(succeeded(client, sql, ExecutionParameters=["'2024-01-02'"], **reuse(0))[0])  # max age 0
    assert not reused(succeeded(client, sql, ExecutionParameters=["'2024-01-02'"])[0])  # not asked for
    assert base["ResultReuseConfiguration"]["ResultReuseByAgeConfiguration"]["Enabled"] is True
    # not DDL / CTAS / INSERT: each runs again
    succeeded(client, "CREATE TABLE matrix_reuse AS SELECT 1 AS x")
    inserts = [succeeded(client, "INSERT INTO matrix_reuse VALUES (2)", **reuse())[0] for _ in range(2)]
    assert [reused(e) for e in inserts] == [False, False]
    # the source changing does not stop reuse within the age (AWS does not check the source data)
    count = "SELECT count(*) FROM matrix_reuse"
    assert succeeded(client, count, **reuse())[1][1:] == [["3"]]
    succeeded(client, "INSERT INTO matrix_reuse VALUES (3)")
    stale, rows = succeeded(client, count, **reuse())
    assert rows[1:] == [["3"]] and reused(stale)
    latest, rows = succeeded(client, count)
    assert rows[1:] == [["4"]]
    # the newest result is the one reused (a run without reuse leaves one too), and not once deleted from S3
    assert reused(succeeded(client, count, **reuse())[0])
    bucket, key = latest["ResultConfiguration"]["OutputLocation"][len("s3://"):].split("/", 1)
    athena.client("s3").delete_object(Bucket=bucket, Key=key)
    fresh, rows = succeeded(client, count, **reuse())
    assert rows[1:] == [["4"]] and not reused(fresh)


def test_a_reuse_configuration_out_of_range_is_refused(client: Any) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="MaxAgeInMinutes must be between 0 and 10080"):
        client.start_query_execution(QueryString="SELECT 1", WorkGroup=WORKGROUP, **reuse(10081))


def test_queue_time_is_measured_and_never_zero(client: Any) -> None:
    for sql in ("SELECT 1", "SELECT 2", "SHOW TABLES"):
        statistics = succeeded(client, sql)[0]["Statistics"]
        assert 0 < statistics["QueryQueueTimeInMillis"] <= statistics["TotalExecutionTimeInMillis"]


def test_sqlalchemy_reflection(local_s3: None, tables: None, client: Any) -> None:
    from sqlalchemy import inspect

    inspector = inspect(sqlalchemy_engine())
    assert {"matrix_primitives", "matrix_parts"} <= set(inspector.get_table_names())
    assert "matrix_view" in inspector.get_view_names() and "matrix_view" not in inspector.get_table_names()
    columns = client.get_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=DATABASE,
                                        TableName="matrix_primitives")["TableMetadata"]["Columns"]
    # CTAS catalogues Hive types (real is float, varchar is string, varbinary is binary)
    assert [(c["Name"], c["Type"]) for c in columns] == [
        ("k", "int"), ("b", "boolean"), ("ti", "tinyint"), ("si", "smallint"), ("i", "int"), ("bi", "bigint"),
        ("r", "float"), ("d", "double"), ("dec", "decimal(10,2)"), ("dec38", "decimal(38,11)"), ("v", "string"),
        ("vb", "binary"), ("dt", "date"), ("ts", "timestamp"), ("e", "string")]
    reflected = {c["name"]: str(c["type"]) for c in inspector.get_columns("matrix_primitives")}
    assert reflected == {"k": "INTEGER", "b": "BOOLEAN", "ti": "TINYINT", "si": "SMALLINT", "i": "INTEGER",
                         "bi": "BIGINT", "r": "FLOAT", "d": "DOUBLE", "dec": "DECIMAL(10, 2)",
                         "dec38": "DECIMAL(38, 11)", "v": "VARCHAR", "vb": "BINARY", "dt": "DATE",
                         "ts": "TIMESTAMP", "e": "VARCHAR"}
    assert "FROM matrix_parts" in inspector.get_view_definition("matrix_view")


def _protobuf(data: bytes) -> list[tuple[int, Any]]:
    """(field number, bytes or int) of one protobuf message (varints and length-delimited fields only)."""
    fields: list[tuple[int, Any]] = []
    position = 0

    def varint() -> int:
        nonlocal position
        value = shift = 0
        while True:
            byte = data[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while position < len(data):
        key = varint()
        if key & 7 == 2:
            length = varint()
            fields.append((key >> 3, data[position:position + length]))
            position += length
        else:
            fields.append((key >> 3, varint()))
    return fields


def test_the_metadata_file_is_athenas_protobuf(athena: AthenaStack, client: Any, tables: None) -> None:
    """The layout of a real Athena ``.csv.metadata`` (a hexdump of one is public): field 1 the engine's query
    id (20190423_125128_00001_ehtur), then one field 4 per column holding catalog (1) "hive", name (4),
    label (5), type (6), precision (7) and scale (8) when not 0, nullable (9) 3 = UNKNOWN."""
    import re

    execution, _ = succeeded(client, PRIMITIVES)
    location = execution["ResultConfiguration"]["OutputLocation"] + ".metadata"
    bucket, key = location[len("s3://"):].split("/", 1)
    fields = _protobuf(athena.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert fields[0][0] == 1 and re.fullmatch(rb"\d{8}_\d{6}_\d{5}_[a-z]{5}", fields[0][1])
    columns = [dict(_protobuf(value)) for number, value in fields[1:] if number == 4]
    assert len(fields) == 1 + len(columns) == 1 + len(DESCRIPTION)
    assert [(c[1], c[4].decode(), c[5].decode(), c[6].decode(), c.get(7, 0), c.get(8, 0), c[9])
            for c in columns] == [(b"hive", n, n, t, p, s, 3) for n, t, p, s in DESCRIPTION]


def test_overriding_the_result_configuration_disables_reuse(client: Any) -> None:
    """The primary workgroup does not enforce its (empty) configuration: each query names its output
    location, which overrides it, and AWS disables reuse then."""
    extra = {"workgroup": "primary", "ResultConfiguration": {"OutputLocation": STAGING}}
    first = succeeded(client, "SELECT 42 AS answer", **extra, **reuse())[0]
    second, rows = succeeded(client, "SELECT 42 AS answer", **extra, **reuse())
    assert rows[1:] == [["42"]] and not reused(first) and not reused(second)
    assert second["ResultConfiguration"]["OutputLocation"].startswith(STAGING)
    assert second["ResultReuseConfiguration"]["ResultReuseByAgeConfiguration"]["Enabled"] is True
