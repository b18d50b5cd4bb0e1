"""Trino's lambda functions over arrays and maps that DuckDB lacks, as DuckDB list expressions: the
lambda's body is inlined with its parameters replaced (zip_with, map_filter, transform_keys,
transform_values, map_zip_with). Used by trino_functions.rewrite."""

from __future__ import annotations

import sqlglot
from sqlglot import exp

_ENTRY = "__wr_e"


def inline(function: exp.Expression, values: list[exp.Expression]) -> exp.Expression | None:
    """The body of ``function`` (a lambda) with its parameters replaced by ``values``."""
    if not isinstance(function, exp.Lambda) or len(function.expressions) != len(values):
        return None
    names = {param.name.lower(): value for param, value in zip(function.expressions, values, strict=True)}

    def place(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in names:
            return names[node.name.lower()].copy()
        if isinstance(node, exp.Identifier) and node.name.lower() in names and not isinstance(
                node.parent, (exp.Column, exp.Lambda, exp.Dot, exp.Table, exp.TableAlias)):
            return names[node.name.lower()].copy()
        return node
    return function.this.copy().transform(place, copy=False)


def _entry(field: str) -> exp.Expression:
    return exp.Anonymous(this="struct_extract", expressions=[exp.column(_ENTRY), exp.Literal.string(field)])


def _lambda(body: exp.Expression, *params: str) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(p) for p in params])


def _struct(key: exp.Expression, value: exp.Expression) -> exp.Expression:
    return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("key"), expression=key),
                                   exp.PropertyEQ(this=exp.to_identifier("value"), expression=value)])


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


_KEYS = sqlglot.parse_one("list_filter(list_concat(map_keys(_1), map_keys(_2)), (__wr_x, __wr_i) -> "
                          "list_position(list_concat(map_keys(_1), map_keys(_2)), __wr_x) = __wr_i)", read="duckdb")


def _zip_with(args: list[exp.Expression]) -> exp.Expression | None:
    pair = exp.column(_ENTRY)
    first = _call("struct_extract_at", pair.copy(), exp.Literal.number(1))
    second = _call("struct_extract_at", pair.copy(), exp.Literal.number(2))
    body = inline(args[2], [first, second])
    if body is None:
        return None
    return _call("list_transform", _call("list_zip", args[0], args[1]), _lambda(body, _ENTRY))


def _map_entries(args: list[exp.Expression], name: str) -> exp.Expression | None:
    body = inline(args[1], [_entry("key"), _entry("value")])
    if body is None:
        return None
    entries = _call("map_entries", args[0])
    if name == "map_filter":
        listed = _call("list_filter", entries, _lambda(body, _ENTRY))
    elif name == "transform_values":
        listed = _call("list_transform", entries, _lambda(_struct(_entry("key"), body), _ENTRY))
    else:
        listed = _call("list_transform", entries, _lambda(_struct(body, _entry("value")), _ENTRY))
    return _call("map_from_entries", listed)


def _map_zip_with(args: list[exp.Expression]) -> exp.Expression | None:
    key = exp.column(_ENTRY)
    values = [_call("map_extract_value", m.copy(), key.copy()) for m in args[:2]]
    body = inline(args[2], [key.copy(), *values])
    if body is None:
        return None
    keys = _KEYS.copy().transform(lambda n: args[int(n.name[1:]) - 1].copy() if isinstance(n, exp.Column)
                                  and n.name in ("_1", "_2") else n, copy=False)
    return _call("map_from_entries", _call("list_transform", keys, _lambda(_struct(key.copy(), body), _ENTRY)))


def rewrite(name: str, args: list[exp.Expression]) -> exp.Expression | None:
    if name == "zip_with" and len(args) == 3:
        return _zip_with(args)
    if name in ("map_filter", "transform_keys", "transform_values") and len(args) == 2:
        return _map_entries(args, name)
    if name == "map_zip_with" and len(args) == 3:
        return _map_zip_with(args)
    return None
