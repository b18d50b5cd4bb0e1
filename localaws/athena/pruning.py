"""Which partitions a query needs: predicates on partition columns from its WHERE clause, turned into a
Glue GetPartitions expression (and checked again here), or evaluated against the values a table's
partition projection generates.

Pruning only ever removes partitions that cannot hold a matching row: only top-level conjuncts of a
WHERE clause of the SELECT that reads the table, and only comparisons of one of the table's
partition columns with literals, are used. Everything is still filtered again by DuckDB.
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlglot import exp

from localaws.athena.catalog import Column, Partition, TableInfo
from localaws.athena.errors import AthenaQueryError
from localaws.athena.objects import folder, hive_escape

MAX_PROJECTED_PARTITIONS = 1_000_000
_OPS = {exp.EQ: "=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "="}
_INTEGER_TYPES = ("int", "integer", "bigint", "smallint", "tinyint")


@dataclass(frozen=True)
class Condition:
    column: str
    op: str  # '=', 'in', '<', '<=', '>', '>='
    values: tuple[str | int | float, ...]


# ---------------------------------------------------------------------------------------------
# extraction from a query
# ---------------------------------------------------------------------------------------------
def _literal(node: exp.Expression) -> str | int | float | None:
    if isinstance(node, exp.Paren):
        return _literal(node.this)
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
        target = node.to.this
        if target in (exp.DataType.Type.DATE, exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT,
                      exp.DataType.Type.CHAR):
            return str(node.this.this)
        return None
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        value = _literal(node.this)
        return -value if isinstance(value, (int, float)) else None
    if isinstance(node, exp.Literal):
        if node.is_string:
            return str(node.this)
        text = str(node.this)
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return None
    return None


def _enclosing_select(table: exp.Expression) -> exp.Select | None:
    node: exp.Expression | None = table.parent
    while node is not None:
        if isinstance(node, exp.Select):
            return node
        if isinstance(node, (exp.Subquery, exp.Union, exp.CTE)):
            return None
        node = node.parent
    return None


def _conjuncts(condition: exp.Expression | None) -> Iterable[exp.Expression]:
    if condition is None:
        return []
    if isinstance(condition, exp.Paren):
        return _conjuncts(condition.this)
    if isinstance(condition, exp.And):
        return [*_conjuncts(condition.left), *_conjuncts(condition.right)]
    return [condition]


def conditions_for(table: exp.Table, names: set[str], partition_columns: set[str]) -> list[Condition]:
    """Conditions on ``partition_columns`` of the table ``table`` (referred to as any of ``names``)."""
    select = _enclosing_select(table)
    if select is None:
        return []
    where = select.args.get("where")
    if where is None:
        return []
    single_source = not select.args.get("joins")

    def column_of(node: exp.Expression) -> str | None:
        if not isinstance(node, exp.Column) or not isinstance(node.this, exp.Identifier):
            return None
        name = node.name.lower()
        if name not in partition_columns:
            return None
        qualifier = node.table.lower()
        if qualifier:
            return name if qualifier in names else None
        return name if single_source else None

    out: list[Condition] = []
    for conjunct in _conjuncts(where.this):
        op = _OPS.get(type(conjunct))
        if op:
            left, right = conjunct.left, conjunct.right
            column, value = column_of(left), _literal(right)
            if column is None:
                column, value, op = column_of(right), _literal(left), _FLIP[op]
            if column is not None and value is not None:
                out.append(Condition(column, op, (value,)))
        elif isinstance(conjunct, exp.In) and not conjunct.args.get("query"):
            column = column_of(conjunct.this)
            values = [_literal(v) for v in conjunct.expressions]
            if column is not None and values and all(v is not None for v in values):
                out.append(Condition(column, "in", tuple(v for v in values if v is not None)))
        elif isinstance(conjunct, exp.Between):
            column = column_of(conjunct.this)
            low, high = _literal(conjunct.args["low"]), _literal(conjunct.args["high"])
            if column is not None and low is not None and high is not None:
                out += [Condition(column, ">=", (low,)), Condition(column, "<=", (high,))]
    return out


# ---------------------------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------------------------
def _typed(value: str | int | float, column_type: str) -> str | int | float | None:
    if column_type.lower() in _INTEGER_TYPES:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if isinstance(value, (int, float)):
        return None  # a number compared with a string column: not prunable
    return str(value)


def matches(values: dict[str, str], conditions: list[Condition], types: dict[str, str]) -> bool:
    for condition in conditions:
        raw = values.get(condition.column)
        if raw is None:
            continue
        actual = _typed(raw, types[condition.column])
        expected = [_typed(v, types[condition.column]) for v in condition.values]
        if actual is None or any(e is None for e in expected):
            continue  # types this module does not compare: keep the partition
        if condition.op in ("=", "in"):
            if actual not in expected:
                return False
            continue
        bound = expected[0]
        try:
            ok = {"<": actual < bound, "<=": actual <= bound, ">": actual > bound,  # type: ignore[operator]
                  ">=": actual >= bound}[condition.op]  # type: ignore[operator]
        except TypeError:
            continue
        if not ok:
            return False
    return True


def _glue_literal(value: str | int | float, column_type: str) -> str | None:
    typed = _typed(value, column_type)
    if typed is None:
        return None
    if isinstance(typed, str):
        return "'" + typed.replace("'", "''") + "'"
    return str(typed)


def glue_expression(conditions: list[Condition], keys: list[Column]) -> str | None:
    """A GetPartitions Expression for the conditions Glue can evaluate (string and integer keys)."""
    types = {k.name: k.type.lower() for k in keys}
    parts: list[str] = []
    for condition in conditions:
        column_type = types.get(condition.column, "string")
        if column_type not in ("string", *_INTEGER_TYPES) and not column_type.startswith(("varchar", "char")):
            continue
        literals = [_glue_literal(v, column_type) for v in condition.values]
        if any(lit is None for lit in literals):
            continue
        if condition.op == "in":
            parts.append(f"{condition.column} IN ({', '.join(str(lit) for lit in literals)})")
        else:
            parts.append(f"{condition.column} {condition.op} {literals[0]}")
    return " AND ".join(parts) or None


def prune(partitions: Iterable[Partition], keys: list[Column], conditions: list[Condition]) -> list[Partition]:
    types = {k.name: k.type for k in keys}
    return [p for p in partitions
            if matches(dict(zip([k.name for k in keys], p.values, strict=False)), conditions, types)]


# ---------------------------------------------------------------------------------------------
# partition projection
# ---------------------------------------------------------------------------------------------
def projection_enabled(table: TableInfo) -> bool:
    return table.parameters.get("projection.enabled", "").lower() == "true" and bool(table.partition_keys)


_JAVA_TO_PY = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"),
               ("ss", "%S")]


def _java_date_format(pattern: str) -> str:
    out, i = "", 0
    while i < len(pattern):
        for java, py in _JAVA_TO_PY:
            if pattern.startswith(java, i):
                out += py
                i += len(java)
                break
        else:
            if pattern[i] == "'":
                end = pattern.find("'", i + 1)
                out += pattern[i + 1:end if end > 0 else None].replace("%", "%%")
                i = end + 1 if end > 0 else len(pattern)
                continue
            out += "%%" if pattern[i] == "%" else pattern[i]
            i += 1
    return out


def _add(moment: datetime, amount: int, unit: str) -> datetime:
    unit = unit.upper().rstrip("S")
    if unit == "YEAR":
        return _add(moment, amount * 12, "MONTHS")
    if unit == "MONTH":
        month = moment.month - 1 + amount
        year = moment.year + month // 12
        month = month % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day)
    seconds = {"WEEK": 604800, "DAY": 86400, "HOUR": 3600, "MINUTE": 60, "SECOND": 1}.get(unit)
    if seconds is None:
        raise AthenaQueryError("INVALID_TABLE_PROPERTY", f"Unknown projection interval unit '{unit}'")
    return moment + timedelta(seconds=seconds * amount)


def _date_bound(text: str, py_format: str, now: datetime) -> datetime:
    text = text.strip()
    match = re.fullmatch(r"NOW\s*(?:([+-])\s*(\d+)\s*([A-Za-z]+))?", text, re.I)
    if match:
        if not match.group(1):
            return now
        amount = int(match.group(2)) * (1 if match.group(1) == "+" else -1)
        return _add(now, amount, match.group(3))
    try:
        return datetime.strptime(text, py_format).replace(tzinfo=UTC)
    except ValueError:
        raise AthenaQueryError("INVALID_TABLE_PROPERTY",
                               f"Projection range value '{text}' does not match its format") from None


def _projected_values(table: TableInfo, column: Column, conditions: list[Condition]) -> list[str]:
    prefix = f"projection.{column.name}."
    props = {k[len(prefix):].lower(): v for k, v in table.parameters.items() if k.lower().startswith(prefix)}
    kind = props.get("type", "").lower()
    mine = [c for c in conditions if c.column == column.name]
    if kind == "enum":
        return [v.strip() for v in props.get("values", "").split(",") if v.strip()]
    if kind == "integer":
        low, high = (int(x) for x in props.get("range", "0,0").split(","))
        step = int(props.get("interval", "1"))
        digits = int(props.get("digits", "0"))
        return [str(v).zfill(digits) for v in range(low, high + 1, step)]
    if kind == "date":
        java = props.get("format", "yyyy-MM-dd")
        py_format = _java_date_format(java)
        now = datetime.now(UTC)
        low_text, high_text = props.get("range", "NOW,NOW").split(",", 1)
        low, high = _date_bound(low_text, py_format, now), _date_bound(high_text, py_format, now)
        step = int(props.get("interval", "1"))
        unit = props.get("interval.unit") or ("HOURS" if "HH" in java else "MINUTES" if "mm" in java
                                              else "DAYS")
        out: list[str] = []
        moment = low
        while moment <= high:
            out.append(moment.strftime(py_format))
            moment = _add(moment, step, unit)
            if len(out) > MAX_PROJECTED_PARTITIONS:
                break
        return out
    if kind == "injected":
        equal = [c for c in mine if c.op in ("=", "in")]
        if not equal:
            raise AthenaQueryError(
                "CONSTRAINT_VIOLATION",
                f"For the injected projected partition column {column.name}, the WHERE clause must contain only "
                "static equality conditions, and at least one such condition must be present.")
        values: set[str] | None = None
        for condition in equal:
            these = {str(v) for v in condition.values}
            values = these if values is None else values & these
        return sorted(values or [])
    raise AthenaQueryError("INVALID_TABLE_PROPERTY",
                           f"Column {column.name} has projection type '{kind}': enum, integer, date or injected "
                           "expected")


def projected_partitions(table: TableInfo, conditions: list[Condition]) -> list[Partition]:
    keys = table.partition_keys
    types = {k.name: k.type for k in keys}
    per_column: list[list[str]] = []
    for key in keys:
        values = _projected_values(table, key, conditions)
        mine = [c for c in conditions if c.column == key.name]
        values = [v for v in values if matches({key.name: v}, mine, types)]
        per_column.append(values)
    total = 1
    for values in per_column:
        total *= len(values)
    if total > MAX_PROJECTED_PARTITIONS:
        raise AthenaQueryError(
            "HIVE_EXCEEDED_PARTITION_LIMIT",
            f"Query over table '{table.qualified}' can potentially read more than {MAX_PROJECTED_PARTITIONS} "
            "partitions; add predicates on its partition columns")
    template = table.parameters.get("storage.location.template")
    out: list[Partition] = []
    for combo in itertools.product(*per_column):
        if template:
            location = template
            for key, value in zip(keys, combo, strict=True):
                location = location.replace("${" + key.name + "}", value)
        else:
            location = folder(table.location) + "/".join(
                f"{k.name}={hive_escape(v)}" for k, v in zip(keys, combo, strict=True))
        out.append(Partition(list(combo), folder(location)))
    return out
