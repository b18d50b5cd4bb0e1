"""Result column types DuckDB has no name for: ``char(n)`` and ``interval year to month``.

DuckDB has no CHAR type (a char(n) value is computed as its space-padded varchar, trino_functions.py)
and one INTERVAL type (Trino has a year-to-month and a day-to-second one). Where a result column's
expression says which Trino type it has, this names it with a type string the rest of the engine reads
(types.py: ``CHAR(n)``, ``INTERVAL YEAR TO MONTH``), which replaces DuckDB's for that column.
"""

from __future__ import annotations

from sqlglot import exp

_YEAR_MONTH_UNITS = frozenset({"YEAR", "MONTH", "YEAR TO MONTH"})


def char_length(node: exp.Expression) -> int | None:
    """The n of a ``CAST(... AS char(n))`` (1 when not given, as Trino's ``char``)."""
    if not isinstance(node, (exp.Cast, exp.TryCast)) or node.to.this != exp.DataType.Type.CHAR:
        return None
    params = node.to.expressions
    if not params:
        return 1
    length = params[0].this if isinstance(params[0], exp.DataTypeParam) else params[0]
    return int(length.this) if isinstance(length, exp.Literal) and not length.is_string else None


def is_year_month(node: exp.Expression) -> bool:
    """Whether ``node`` is an interval of years and months: such literals, their sums, differences,
    negations and multiples."""
    if isinstance(node, exp.Interval):
        unit = node.args.get("unit")
        return unit is not None and unit.name.upper() in _YEAR_MONTH_UNITS
    if isinstance(node, (exp.Paren, exp.Neg)):
        return is_year_month(node.this)
    if isinstance(node, (exp.Add, exp.Sub)):
        return is_year_month(node.this) and is_year_month(node.expression)
    if isinstance(node, exp.Mul):
        return is_year_month(node.this) != is_year_month(node.expression) and any(
            isinstance(side, exp.Literal) and not side.is_string for side in (node.this, node.expression))
    return False


def declared(root: exp.Expression) -> list[str | None]:
    """For each result column of a query, the type string that replaces DuckDB's, or None."""
    if not isinstance(root, exp.Select):
        return []
    out: list[str | None] = []
    for projection in root.selects:
        node = projection.this if isinstance(projection, exp.Alias) else projection
        length = char_length(node)
        out.append(f"CHAR({length})" if length is not None else
                   "INTERVAL YEAR TO MONTH" if is_year_month(node) else None)
    return out if any(out) else []


def apply(duck_types: list[str], declared_types: list[str | None]) -> list[str]:
    if len(declared_types) != len(duck_types):
        return duck_types
    return [d or t for d, t in zip(declared_types, duck_types, strict=True)]
