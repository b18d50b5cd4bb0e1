"""Trino docs: functions/map.md (its examples; examples of our own where the page gives none). Maps are
written as Athena writes them: ``{k=v, ..}``."""

from __future__ import annotations

DOCUMENTED = ["map", "[]", "cardinality", "element_at", "map_from_entries", "multimap_from_entries", "map_entries",
              "map_concat", "map_filter", "map_keys", "map_values", "map_zip_with", "transform_keys",
              "transform_values"]

_KV = "MAP(ARRAY['key1', 'key2', 'key3'], ARRAY['v1', 'v2', 'v3'])"

EXAMPLES = [
    ("map", "MAP(ARRAY['key1', 'key2', 'key3'], ARRAY[2373, 3463, 45837])", "{key1=2373, key2=3463, key3=45837}",
     "map"),
    ("map", "MAP(ARRAY['key1', 'key2', 'key3'], ARRAY['v1', NULL, 'v3'])", "{key1=v1, key2=null, key3=v3}", "map"),
    ("map", "MAP(ARRAY['key1', 'key2', 'key3'], ARRAY[23, 34.63, 45.837])", "{key1=23.000, key2=34.630, key3=45.837}",
     "map"),
    ("map", "map()", "{}", "map"),
    ("map", "map(ARRAY[1, 3], ARRAY[2, 4])", "{1=2, 3=4}", "map"),
    ("[]", f"{_KV}['key2']", "v2", "varchar"),
    ("cardinality", f"cardinality({_KV})", "3", "bigint"),
    ("element_at", f"element_at({_KV}, 'key3')", "v3", "varchar"),
    ("element_at", f"element_at({_KV}, 'nope')", None, "varchar"),
    ("map_from_entries", "map_from_entries(ARRAY[(1, 'x'), (2, 'y')])", "{1=x, 2=y}", "map"),
    ("multimap_from_entries", "multimap_from_entries(ARRAY[(1, 'x'), (2, 'y'), (1, 'z')])", "{1=[x, z], 2=[y]}",
     "map"),
    ("map_entries", "map_entries(MAP(ARRAY[1, 2], ARRAY['x', 'y']))", "[{field0=1, field1=x}, {field0=2, field1=y}]",
     "array"),
    ("map_concat", "map_concat(MAP(ARRAY['a', 'b'], ARRAY[1, 2]), MAP(ARRAY['b', 'c'], ARRAY[3, 4]))",
     "{a=1, b=3, c=4}", "map"),
    ("map_filter", "map_filter(MAP(ARRAY[], ARRAY[]), (k, v) -> true)", "{}", "map"),
    ("map_filter", "map_filter(MAP(ARRAY[10, 20, 30], ARRAY['a', NULL, 'c']), (k, v) -> v IS NOT NULL)",
     "{10=a, 30=c}", "map"),
    ("map_filter", "map_filter(MAP(ARRAY['k1', 'k2', 'k3'], ARRAY[20, 3, 15]), (k, v) -> v > 10)", "{k1=20, k3=15}",
     "map"),
    ("map_keys", f"map_keys({_KV})", "[key1, key2, key3]", "array"),
    ("map_values", f"map_values({_KV})", "[v1, v2, v3]", "array"),
    ("map_zip_with", "map_zip_with(MAP(ARRAY[1, 2, 3], ARRAY['a', 'b', 'c']), MAP(ARRAY[1, 2, 3], "
                     "ARRAY['d', 'e', 'f']), (k, v1, v2) -> concat(v1, v2))", "{1=ad, 2=be, 3=cf}", "map"),
    ("map_zip_with", "map_zip_with(MAP(ARRAY['a', 'b', 'c'], ARRAY[1, 8, 27]), MAP(ARRAY['a', 'b', 'c'], "
                     "ARRAY[1, 2, 3]), (k, v1, v2) -> k || CAST(v1 / v2 AS VARCHAR))", "{a=a1, b=b4, c=c9}", "map"),
    ("transform_keys", "transform_keys(MAP(ARRAY[], ARRAY[]), (k, v) -> k + 1)", "{}", "map"),
    ("transform_keys", "transform_keys(MAP(ARRAY [1, 2, 3], ARRAY ['a', 'b', 'c']), (k, v) -> k + 1)",
     "{2=a, 3=b, 4=c}", "map"),
    ("transform_keys", "transform_keys(MAP(ARRAY ['a', 'b', 'c'], ARRAY [1, 2, 3]), (k, v) -> v * v)",
     "{1=1, 4=2, 9=3}", "map"),
    ("transform_keys", "transform_keys(MAP(ARRAY ['a', 'b'], ARRAY [1, 2]), (k, v) -> k || CAST(v as VARCHAR))",
     "{a1=1, b2=2}", "map"),
    ("transform_values", "transform_values(MAP(ARRAY[], ARRAY[]), (k, v) -> v + 1)", "{}", "map"),
    ("transform_values", "transform_values(MAP(ARRAY [1, 2, 3], ARRAY [10, 20, 30]), (k, v) -> v + k)",
     "{1=11, 2=22, 3=33}", "map"),
    ("transform_values", "transform_values(MAP(ARRAY [1, 2, 3], ARRAY ['a', 'b', 'c']), (k, v) -> k * k)",
     "{1=1, 2=4, 3=9}", "map"),
    ("transform_values", "transform_values(MAP(ARRAY ['a', 'b'], ARRAY [1, 2]), (k, v) -> k || CAST(v as VARCHAR))",
     "{a=a1, b=b2}", "map"),
]

UNSUPPORTED: dict[str, tuple[str, str]] = {}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {}
