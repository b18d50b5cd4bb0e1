"""Trino docs: functions/json.md (the JSON functions' examples; json_extract / json_extract_scalar with
documents of our own, the page's own examples reading a column)."""

from __future__ import annotations

DOCUMENTED = [
    "json_exists", "json_query", "json_value", "json_array", "json_object", "CAST(... AS JSON)", "CAST(JSON ...)",
    "is_json_scalar", "json_array_contains", "json_array_get", "json_array_length", "json_extract",
    "json_extract_scalar", "json_format", "json_parse", "json_size",
]

_DOC = """'{"store": {"book": [{"author": "Nigel", "price": 8.95}, {"author": "Evelyn", "price": 12.99}]}}'"""

EXAMPLES = [
    ("json_exists", """json_exists('{"a": [1, 2]}', 'lax $.a[1]')""", "true", "boolean"),
    ("json_exists", """json_exists('{"a": [1, 2]}', 'lax $.b')""", "false", "boolean"),
    ("json_query", """json_query('{"key" : [  "value"  ]}', 'lax $.key')""", '["value"]', "varchar"),
    ("json_value", """json_value('{"a": {"b": 12}}', 'lax $.a.b')""", "12", "varchar"),
    ("json_array", "json_array(1, true, 'text')", '[1,true,"text"]', "varchar"),
    ("json_object", "json_object('key1' : 1, 'key2' : true)", '{"key1":1,"key2":true}', "varchar"),
    ("json_object", "json_object(KEY 'key1' VALUE 1, KEY 'key2' VALUE true)", '{"key1":1,"key2":true}', "varchar"),
    ("json_object", "json_object('x' : null, 'y' : 1 ABSENT ON NULL)", '{"y":1}', "varchar"),
    ("CAST(... AS JSON)", "CAST(1 AS JSON)", "1", "json"),
    ("CAST(... AS JSON)", "CAST('abc' AS JSON)", '"abc"', "json"),
    ("CAST(... AS JSON)", "CAST(true AS JSON)", "true", "json"),
    ("CAST(... AS JSON)", "CAST(ARRAY[1, NULL, 456] AS JSON)", "[1,null,456]", "json"),
    ("CAST(... AS JSON)", "CAST(MAP(ARRAY['k1', 'k2', 'k3'], ARRAY[1, 23, 456]) AS JSON)",
     '{"k1":1,"k2":23,"k3":456}', "json"),
    ("CAST(JSON ...)", "CAST(JSON '1' AS INTEGER)", "1", "integer"),
    ("CAST(JSON ...)", "CAST(JSON '\"abc\"' AS VARCHAR)", "abc", "varchar"),
    ("CAST(JSON ...)", "CAST(JSON 'null' AS VARCHAR)", None, "varchar"),
    ("CAST(JSON ...)", "CAST(JSON 'true' AS BOOLEAN)", "true", "boolean"),
    ("CAST(JSON ...)", "CAST(JSON '1.234' AS DOUBLE)", "1.234", "double"),
    ("CAST(JSON ...)", "CAST(JSON '[1,null,456]' AS ARRAY(INTEGER))", "[1, null, 456]", "array"),
    ("CAST(JSON ...)", """CAST(JSON '{"k1":1,"k2":23,"k3":456}' AS MAP(VARCHAR, INTEGER))""",
     "{k1=1, k2=23, k3=456}", "map"),
    ("is_json_scalar", "is_json_scalar('1')", "true", "boolean"),
    ("is_json_scalar", "is_json_scalar('[1, 2, 3]')", "false", "boolean"),
    ("json_array_contains", "json_array_contains('[1, 2, 3]', 2)", "true", "boolean"),
    ("json_array_get", """json_array_get('["a", [3, 9], "c"]', 0)""", "a", "json"),
    ("json_array_get", """json_array_get('["a", [3, 9], "c"]', 1)""", "[3,9]", "json"),
    ("json_array_get", """json_array_get('["c", [3, 9], "a"]', -1)""", "a", "json"),
    ("json_array_get", "json_array_get('[]', 0)", None, "json"),
    ("json_array_get", """json_array_get('["c", "b", "a"]', -10)""", None, "json"),
    ("json_array_length", "json_array_length('[1, 2, 3]')", "3", "bigint"),
    ("json_extract", f"json_extract({_DOC}, '$.store.book[0]')", '{"author":"Nigel","price":8.95}', "json"),
    ("json_extract", f"json_extract({_DOC}, '$.store.book[1].price')", "12.99", "json"),
    ("json_extract", f"json_extract({_DOC}, '$.store.book[0].author')", '"Nigel"', "json"),
    ("json_extract", f"json_extract({_DOC}, '$.nothing')", None, "json"),
    ("json_extract_scalar", "json_extract_scalar('[1, 2, 3]', '$[2]')", "3", "varchar"),
    ("json_extract_scalar", f"json_extract_scalar({_DOC}, '$.store.book[0].author')", "Nigel", "varchar"),
    ("json_extract_scalar", f"json_extract_scalar({_DOC}, '$.store.book[0]')", None, "varchar"),
    ("json_format", "json_format(JSON '[1, 2, 3]')", "[1,2,3]", "varchar"),
    ("json_format", """json_format(JSON '{"a": 1, "b": 2}')""", '{"a":1,"b":2}', "varchar"),
    ("json_format", "json_format(JSON '\"abc\"')", '"abc"', "varchar"),
    ("json_format", "json_format(JSON '42')", "42", "varchar"),
    ("json_format", "json_format(JSON 'null')", "null", "varchar"),
    ("json_parse", "json_parse('[1, 2, 3]')", "[1,2,3]", "json"),
    ("json_parse", "json_parse('\"abc\"')", '"abc"', "json"),
    ("json_parse", """json_parse('{"b": 1, "a": [true, null]}')""", '{"a":[true,null],"b":1}', "json"),
    ("json_size", """json_size('{"x": {"a": 1, "b": 2}}', '$.x')""", "2", "bigint"),
    ("json_size", """json_size('{"x": [1, 2, 3]}', '$.x')""", "3", "bigint"),
    ("json_size", """json_size('{"x": {"a": 1, "b": 2}}', '$.x.a')""", "0", "bigint"),
]

UNSUPPORTED: dict[str, tuple[str, str]] = {}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {
    "json_object('x' : null, 'y' : 1 ABSENT ON NULL)":
        ('{"x":null,"y":1}', 'varchar',
         'ABSENT ON NULL is ignored'),
    'json_array_get(\'["a", [3, 9], "c"]\', 0)':
        ('"a"', 'json',
         "a string element comes back as JSON text (quoted); Trino's unquoted"),
    'json_array_get(\'["c", [3, 9], "a"]\', -1)':
        ('"a"', 'json',
         "a string element comes back as JSON text (quoted); Trino's unquoted"),
    'json_parse(\'{"b": 1, "a": [true, null]}\')':
        ('{"b":1,"a":[true,null]}', 'json',
         "object keys keep their input order; Trino's JSON sorts them"),
}
