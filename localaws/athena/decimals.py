"""Trino's decimal arithmetic where DuckDB's differs (used by transpile.py on the annotated AST).

- ``a * b``: Trino types it DECIMAL(min(38, p1 + p2), s1 + s2); DuckDB narrows a product of two
  DECIMALs of precision <= 18 to DECIMAL(18, s1 + s2) and fails with an overflow where Trino has a value.
- ``a / b``: Trino types it DECIMAL(min(38, p1 + s2 + max(0, s2 - s1)), max(s1, s2)) and computes it
  exactly, rounding half up; DuckDB divides decimals as doubles (wrong digits past ~16).
- ``avg(x)`` of a DECIMAL(p, s): Trino keeps DECIMAL(p, s) (rounded half up); DuckDB returns a double.

Integer operands take part as Trino coerces them: tinyint DECIMAL(3, 0), smallint (5, 0), integer
(10, 0), bigint (19, 0). Exact quotients are computed on unscaled HUGEINTs by ``__wr_div_half_up``
(duck.py). Operand types are trusted only where they are Trino's: literals, CASTs (the rewrites' results
included) and columns read straight from a table; anything else is left to DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

MAX_PRECISION = 38
INTEGER_PRECISION = {exp.DataType.Type.TINYINT: 3, exp.DataType.Type.SMALLINT: 5, exp.DataType.Type.INT: 10,
                     exp.DataType.Type.BIGINT: 19}
HUGEINT = "INT128"
BASE_COLUMN = "wr_base_column"


@dataclass(frozen=True)
class Exact:
    """An exact numeric operand as Trino types it: DECIMAL(precision, scale), or an integer type."""

    precision: int
    scale: int
    decimal: bool


def decimal_literal(text: str) -> Exact | None:
    """Trino's type of a decimal literal's digits (``1.25`` or ``DECIMAL '1.25'``: DECIMAL(3, 2); leading
    zeros do not count), or None if they are not plain decimal digits."""
    digits = text.strip().lstrip("+-")
    whole, _, fraction = digits.partition(".")
    if not (whole + fraction).isdigit():
        return None
    return Exact(max(1, len(whole.lstrip("0")) + len(fraction)), len(fraction), True)


def typed_literals(ast: exp.Expression, text: str) -> None:
    """``DECIMAL '0.00000000001'`` (how pyathena sends a Decimal) typed from its digits, as Trino does: sqlglot
    reads it as a CAST to a bare DECIMAL, which DuckDB takes as DECIMAL(18, 3) and Trino as DECIMAL(38, 0)."""
    for cast in list(ast.find_all(exp.Cast)):
        literal = cast.this
        if not (isinstance(literal, exp.Literal) and literal.is_string and cast.to.this == exp.DataType.Type.DECIMAL
                and not cast.to.expressions and "start" in literal.meta):
            continue
        if not text[:literal.meta["start"]].rstrip().upper().endswith("DECIMAL"):
            continue  # CAST('1.5' AS DECIMAL)
        exact = decimal_literal(str(literal.this))
        if exact is not None:
            cast.set("to", _decimal_type(exact.precision, exact.scale))


def _of_type(data_type: exp.DataType | None) -> Exact | None:
    if data_type is None:
        return None
    if data_type.this == exp.DataType.Type.DECIMAL:
        params = data_type.expressions
        if len(params) != 2:
            return None
        try:
            return Exact(int(params[0].this.this), int(params[1].this.this), True)
        except (AttributeError, TypeError, ValueError):
            return None
    if data_type.this in INTEGER_PRECISION:
        return Exact(INTEGER_PRECISION[data_type.this], 0, False)
    return None


def exact_type(node: exp.Expression) -> Exact | None:
    """Trino's type of an exact numeric expression, or None (a double, unknown, not numeric)."""
    if isinstance(node, (exp.Paren, exp.Neg)):
        return exact_type(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        text = str(node.this)
        if "." in text:
            return decimal_literal(text)
        if not text.lstrip("-").isdigit():
            return None
        return Exact(10, 0, False) if abs(int(text)) <= 2**31 - 1 else Exact(19, 0, False)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return _of_type(node.to)
    if isinstance(node, (exp.Max, exp.Min)) and not node.expressions:
        return exact_type(node.this)  # max / min keep their argument's type
    if isinstance(node, exp.Sum):
        argument = exact_type(node.this)  # Trino: sum(decimal(p, s)) is decimal(38, s), of integers a bigint
        return None if argument is None else Exact(MAX_PRECISION if argument.decimal else 19, argument.scale,
                                                   argument.decimal)
    if isinstance(node, exp.Column) and node.meta.get(BASE_COLUMN):
        return _of_type(node.type)
    return None  # sqlglot's type of other expressions is not Trino's (e.g. DECIMAL(10, 2) for a + b)


def mark_base_columns(ast: exp.Expression) -> None:
    """Mark the columns read straight from a table, whose (annotated) type is the catalog's."""
    try:
        scopes = traverse_scope(ast)
    except Exception:  # sqlglot cannot scope every statement: no column is trusted then
        return
    for scope in scopes:
        for column in scope.columns:
            if isinstance(scope.sources.get(column.table), exp.Table):
                column.meta[BASE_COLUMN] = True


def _decimal_type(precision: int, scale: int) -> exp.DataType:
    return exp.DataType.build(f"DECIMAL({precision}, {scale})")


def _power_of_ten(exponent: int) -> exp.Expression:
    return exp.Cast(this=exp.Literal.string("1" + "0" * exponent), to=exp.DataType.build(HUGEINT))


def _unscaled(node: exp.Expression, exponent: int) -> exp.Expression:
    """The HUGEINT ``node * 10^exponent`` (with ``exponent`` the scale of ``node`` or more: no digits lost)."""
    product = exp.Mul(this=exp.Paren(this=node.copy()), expression=_power_of_ten(exponent))
    return exp.Cast(this=product, to=exp.DataType.build(HUGEINT))


def _scaled(unscaled: exp.Expression, precision: int, scale: int) -> exp.Expression:
    """DECIMAL(precision, scale) from its unscaled HUGEINT value."""
    value: exp.Expression = exp.Cast(this=unscaled, to=_decimal_type(MAX_PRECISION, 0))
    if scale:
        unit = exp.Cast(this=exp.Literal.string("0." + "0" * (scale - 1) + "1"), to=_decimal_type(MAX_PRECISION, scale))
        value = exp.Mul(this=value, expression=unit)
    return exp.Cast(this=value, to=_decimal_type(precision, scale))


def _quotient(numerator: exp.Expression, denominator: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="__wr_div_half_up", expressions=[numerator, denominator])


def multiply(node: exp.Mul) -> exp.Expression | None:
    left, right = exact_type(node.left), exact_type(node.right)
    if left is None or right is None or not (left.decimal or right.decimal):
        return None
    precision, scale = min(MAX_PRECISION, left.precision + right.precision), left.scale + right.scale
    if scale > MAX_PRECISION:
        return None
    # the left operand widened to 38 digits: DuckDB multiplies in 128 bits, then the result takes Trino's type
    wide = exp.Cast(this=node.left.copy(), to=_decimal_type(MAX_PRECISION, left.scale))
    return exp.Cast(this=exp.Mul(this=wide, expression=node.right.copy()), to=_decimal_type(precision, scale))


def divide(node: exp.Div) -> exp.Expression | None:
    left, right = exact_type(node.left), exact_type(node.right)
    if left is None or right is None or not (left.decimal or right.decimal):
        return None
    scale = max(left.scale, right.scale)
    precision = min(MAX_PRECISION, left.precision + right.scale + max(0, right.scale - left.scale))
    # a / b in units of 10^-scale is (a * 10^(scale + s2)) / (b * 10^s2), both integers
    numerator, denominator = _unscaled(node.left, scale + right.scale), _unscaled(node.right, right.scale)
    return _scaled(_quotient(numerator, denominator), precision, scale)


def average(node: exp.Avg) -> exp.Expression | None:
    if isinstance(node.parent, (exp.Window, exp.Filter, exp.IgnoreNulls, exp.RespectNulls)):
        return None  # a window or FILTER aggregate: left to DuckDB
    operand = exact_type(node.this)
    if operand is None or not operand.decimal:  # (avg(DISTINCT x) has no type: left to DuckDB too)
        return None
    total = exp.Sum(this=node.this.copy())
    count = exp.Count(this=node.this.copy())
    return _scaled(_quotient(_unscaled(total, operand.scale), count), operand.precision, operand.scale)


def bare_decimal(node: exp.Cast | exp.TryCast) -> exp.Expression | None:
    """CAST(x AS DECIMAL): Trino's DECIMAL is DECIMAL(38, 0) (DuckDB's, DECIMAL(18, 3))."""
    if node.to.this != exp.DataType.Type.DECIMAL or node.to.expressions:
        return None
    return node.__class__(this=node.this.copy(), to=_decimal_type(MAX_PRECISION, 0))


def literal(node: exp.Literal) -> exp.Expression | None:
    """A decimal literal below 1 as Trino types it (``0.1`` is DECIMAL(1, 1); DuckDB counts the leading zero),
    where its type shows: in arithmetic and as a result column."""
    parent = node.parent
    if isinstance(parent, exp.Neg):
        parent = parent.parent
    if not isinstance(parent, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Select, exp.Alias)):
        return None
    operand = exact_type(node)
    if operand is None or not operand.decimal or not str(node.this).lstrip("-").startswith(("0.", ".")):
        return None
    return exp.Cast(this=node.copy(), to=_decimal_type(operand.precision, operand.scale))
