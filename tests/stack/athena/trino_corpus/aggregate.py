"""Trino docs: functions/aggregate.md, each function over a small VALUES list (examples of our own, from
the page's definitions: the statistics of x = 1, 2, 3, 4 and y = 2x are exact)."""

from __future__ import annotations

DOCUMENTED = [
    "any_value", "arbitrary", "array_agg", "avg", "bool_and", "bool_or", "checksum", "count", "count_if", "every",
    "geometric_mean", "listagg", "max", "max_by", "min", "min_by", "sum", "bitwise_and_agg", "bitwise_or_agg",
    "bitwise_xor_agg", "histogram", "map_agg", "map_union", "multimap_agg", "approx_distinct",
    "approx_most_frequent", "approx_percentile", "approx_set", "merge", "numeric_histogram", "qdigest_agg",
    "tdigest_agg", "reduce_agg", "corr", "covar_pop", "covar_samp", "kurtosis", "regr_intercept", "regr_slope",
    "skewness", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp",
]

_X = "FROM (VALUES 1, 2, 3, 4) t(x)"
_XN = "FROM (VALUES 1, NULL, 3) t(x)"
_XY = "FROM (VALUES (1, 2), (2, 4), (3, 6), (4, 8)) t(x, y)"
_KV = "FROM (VALUES ('a', 1), ('b', 2), ('a', 3)) t(k, v)"


def _q(aggregate: str, source: str = _X) -> str:
    return f"(SELECT {aggregate} {source})"


EXAMPLES = [
    ("any_value", _q("any_value(x)", "FROM (VALUES 7) t(x)"), "7", "integer"),
    ("arbitrary", _q("arbitrary(x)", "FROM (VALUES 7) t(x)"), "7", "integer"),
    ("array_agg", _q("array_agg(x ORDER BY x DESC)"), "[4, 3, 2, 1]", "array"),
    ("array_agg", _q("array_agg(x ORDER BY x)", _XN), "[1, 3, null]", "array"),
    ("avg", _q("avg(x)"), "2.5", "double"),
    ("avg", _q("avg(x)", _XN), "2.0", "double"),
    ("bool_and", _q("bool_and(x > 0)"), "true", "boolean"),
    ("bool_or", _q("bool_or(x > 3)"), "true", "boolean"),
    ("count", _q("count(*)", _XN), "3", "bigint"),
    ("count", _q("count(x)", _XN), "2", "bigint"),
    ("count_if", _q("count_if(x > 1)"), "3", "bigint"),
    ("every", _q("every(x > 1)"), "false", "boolean"),
    ("geometric_mean", _q("geometric_mean(x)", "FROM (VALUES 1, 4) t(x)"), "2.0", "double"),
    ("listagg", _q("listagg(k, ',') WITHIN GROUP (ORDER BY k)", _KV), "a,a,b", "varchar"),
    ("max", _q("max(x)"), "4", "integer"),
    ("max", _q("max(x, 2)"), "[4, 3]", "array"),
    ("max_by", _q("max_by(k, v)", _KV), "a", "varchar"),
    ("min", _q("min(x)", _XN), "1", "integer"),
    ("min", _q("min(x, 2)"), "[1, 2]", "array"),
    ("min_by", _q("min_by(k, v)", _KV), "a", "varchar"),
    ("sum", _q("sum(x)"), "10", "bigint"),
    ("sum", _q("sum(x)", "FROM (VALUES 1.5, 2.25) t(x)"), "3.75", "decimal"),
    ("bitwise_and_agg", _q("bitwise_and_agg(x)", "FROM (VALUES 7, 13) t(x)"), "5", "bigint"),
    ("bitwise_or_agg", _q("bitwise_or_agg(x)", "FROM (VALUES 1, 4) t(x)"), "5", "bigint"),
    ("bitwise_xor_agg", _q("bitwise_xor_agg(x)", "FROM (VALUES 7, 13) t(x)"), "10", "bigint"),
    ("histogram", _q("histogram(k)", _KV), "{a=2, b=1}", "map"),
    ("map_agg", _q("map_agg(k, v)", "FROM (VALUES ('a', 1), ('b', 2)) t(k, v)"), "{a=1, b=2}", "map"),
    ("multimap_agg", _q("multimap_agg(k, v)", _KV), "{a=[1, 3], b=[2]}", "map"),
    ("map_union", _q("map_union(m)", "FROM (VALUES MAP(ARRAY['a'], ARRAY[1]), MAP(ARRAY['b'], ARRAY[2])) t(m)"),
     "{a=1, b=2}", "map"),
    ("approx_distinct", _q("approx_distinct(x)", "FROM (VALUES 1, 2, 2, 3, NULL) t(x)"), "3", "bigint"),
    ("approx_most_frequent", _q("approx_most_frequent(2, k, 10)", "FROM (VALUES 'a', 'b', 'a', 'c', 'b', 'a') t(k)"),
     "{a=3, b=2}", "map"),
    ("reduce_agg", _q("reduce_agg(x, 0, (a, b) -> a + b, (a, b) -> a + b)"), "10", "integer"),
    ("reduce_agg", _q("reduce_agg(x, 1, (a, b) -> a * b, (a, b) -> a * b)", _XN), "3", "integer"),
    ("approx_percentile", _q("approx_percentile(x, 0.5)", "FROM (VALUES 1, 2, 3, 4, 5) t(x)"), "3", "integer"),
    ("approx_percentile", _q("approx_percentile(x, ARRAY[0.0, 1.0])", "FROM (VALUES 1, 2, 3, 4, 5) t(x)"), "[1, 5]",
     "array"),
    ("corr", _q("corr(y, x)", _XY), "1.0", "double"),
    ("covar_pop", _q("covar_pop(y, x)", _XY), "2.5", "double"),
    ("covar_samp", _q("covar_samp(x, x)", _XY), "1.6666666666666667", "double"),
    ("kurtosis", _q("kurtosis(x)"), "-1.2", "double"),
    ("regr_intercept", _q("regr_intercept(y, x)", _XY), "0.0", "double"),
    ("regr_slope", _q("regr_slope(y, x)", _XY), "2.0", "double"),
    ("skewness", _q("skewness(x)"), "0.0", "double"),
    ("stddev", _q("stddev(x)", "FROM (VALUES 2, 4, 4, 4, 5, 5, 7, 9) t(x)"), "2.138089935299395", "double"),
    ("stddev_pop", _q("stddev_pop(x)", "FROM (VALUES 2, 4, 4, 4, 5, 5, 7, 9) t(x)"), "2.0", "double"),
    ("stddev_samp", _q("stddev_samp(x)", "FROM (VALUES 1, 3) t(x)"), "1.4142135623730951", "double"),
    ("variance", _q("variance(x)"), "1.6666666666666667", "double"),
    ("var_pop", _q("var_pop(x)"), "1.25", "double"),
    ("var_samp", _q("var_samp(x)"), "1.6666666666666667", "double"),
]

UNSUPPORTED = {
    "checksum": (_q("checksum(x)"), "not in the local engine"),
    "approx_set": (_q("approx_set(x)"), "HyperLogLog sketches are not in the local engine"),
    "merge": (_q("merge(approx_set(x))"), "sketches are not in the local engine"),
    "numeric_histogram": (_q("numeric_histogram(2, x)"), "not in the local engine"),
    "qdigest_agg": (_q("qdigest_agg(x)"), "quantile digests are not in the local engine"),
    "tdigest_agg": (_q("tdigest_agg(x)"), "t-digests are not in the local engine"),
}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {
    '(SELECT corr(y, x) FROM (VALUES (1, 2), (2, 4), (3, 6), (4, 8)) t(x, y))':
        ('0.9999999999999998', 'double',
         "DuckDB's floating-point algorithm differs in the last digits"),
    '(SELECT kurtosis(x) FROM (VALUES 1, 2, 3, 4) t(x))':
        ('-1.2000000000000006', 'double',
         "DuckDB's floating-point algorithm differs in the last digits"),
}
