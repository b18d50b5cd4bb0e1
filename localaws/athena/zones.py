"""Timestamps with time zone as Trino keeps them: an instant and a zone.

DuckDB's TIMESTAMPTZ holds the instant only (shown in the session zone, UTC); Trino's ``timestamp with
time zone`` holds its zone too, which decides its text (``2024-01-02 03:04:05.678 America/New_York``), its
fields (hour, day ...), its truncation, date arithmetic in days or months, and casts to timestamp, date,
time and varchar. A query almost always fixes the zone in its text: a literal with a zone, ``AT TIME ZONE``,
``at_timezone``/``with_timezone``, ``from_unixtime(x, zone)``, ``from_iso8601_timestamp`` of a literal. This
pass tracks each zoned expression's zone while the query is planned, through expressions and the columns
of subqueries, CTEs and views; computes the zone-dependent operations on the wall-clock time in that
zone; and reports the result columns' zones, in which the text of the result is written.

A zone that depends on the data (``from_iso8601_timestamp`` of a column, ``AT TIME ZONE`` a column) or
differs between the branches of one expression is the session zone, UTC: the instant is right, the zone
is lost (docs/athena.md, known differences).
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

UTC = "UTC"
ZONE = "zone"  # meta key: the zone of an expression's values (None: not zoned, or a zone the data decides)
DUCK = "duck"  # meta key: an expression already in DuckDB's terms, which the Trino fix-ups leave alone

_OFFSET = re.compile(r"^([+-])(\d{1,2})(?::?(\d{2}))?$")
_NAMED = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*$")
_TIMESTAMP_LITERAL = re.compile(
    r"^\s*(?P<time>\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?)\s*(?P<zone>\S+)?\s*$")
_ISO_ZONE = re.compile(r"(Z|[+-]\d{2}(?::?\d{2})?)$")
# Trino's names of UTC (TimeZoneKey's normalization)
_UTC_NAMES = frozenset({"z", "utc", "ut", "uct", "gmt", "gmt0", "greenwich", "universal", "zulu", "etc/utc",
                        "etc/uct", "etc/ut", "etc/gmt", "etc/gmt0", "etc/gmt+0", "etc/gmt-0", "etc/greenwich",
                        "etc/universal", "etc/zulu", "+00:00", "-00:00"})
_FIELDS = (exp.Hour, exp.Minute, exp.Second, exp.Day, exp.DayOfMonth, exp.DayOfWeek, exp.DayOfWeekIso,
           exp.DayOfYear, exp.Month, exp.Quarter, exp.Week, exp.WeekOfYear, exp.Year, exp.YearOfWeek, exp.Date,
           exp.LastDay, exp.TimeToStr)
_FIELD_NAMES = frozenset({"millisecond", "yow", "format_datetime"})
_NANOS = tuple(c for c in (getattr(exp, "FromISO8601TimestampNanos", None),) if c is not None)
_CALENDAR_UNITS = frozenset({"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"})


# ---------------------------------------------------------------------------------------------
# zones and their arithmetic
# ---------------------------------------------------------------------------------------------
def normalize(text: str) -> str | None:
    """Trino's name of a zone (``+05:30``, ``America/New_York``, UTC for its aliases), None if not a zone."""
    text = text.strip()
    if text.lower() in _UTC_NAMES:
        return UTC
    offset = _OFFSET.match(text)
    if offset is not None:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        if hours > 14 or minutes > 59:
            return None
        return UTC if hours == minutes == 0 else f"{sign}{hours:02d}:{minutes:02d}"
    return text if _NAMED.match(text) else None


def offset_minutes(zone: str) -> int | None:
    """The fixed offset of an offset zone (``-05:30`` -> -330), None for a named zone."""
    offset = _OFFSET.match(zone)
    if offset is None:
        return None
    minutes = int(offset.group(2)) * 60 + int(offset.group(3) or 0)
    return -minutes if offset.group(1) == "-" else minutes


def _duck(node: exp.Expression) -> exp.Expression:
    node.meta[DUCK] = True
    return node


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return _duck(exp.Anonymous(this=name, expressions=list(args)))


def _minutes(count: int) -> exp.Expression:
    return _duck(exp.Interval(this=_duck(exp.Literal.string(str(count))), unit=_duck(exp.Var(this="MINUTE"))))


def wall(zone: str, instant: exp.Expression) -> exp.Expression:
    """The TIMESTAMP an instant shows on a clock in ``zone``."""
    minutes = offset_minutes(zone)
    if minutes is None:
        return _call("timezone", _duck(exp.Literal.string(zone)), instant)
    return _duck(exp.Add(this=_call("timezone", _duck(exp.Literal.string(UTC)), instant),
                         expression=_minutes(minutes)))


def instant(zone: str, local: exp.Expression) -> exp.Expression:
    """The TIMESTAMPTZ at which a clock in ``zone`` shows the TIMESTAMP ``local``."""
    minutes = offset_minutes(zone)
    if minutes is None:
        return _call("timezone", _duck(exp.Literal.string(zone)), local)
    return _call("timezone", _duck(exp.Literal.string(UTC)), _duck(exp.Sub(this=local, expression=_minutes(minutes))))


def _offset(zone: str, value: exp.Expression) -> exp.Expression:
    """The zone's offset from UTC at the instant ``value``, in minutes."""
    minutes = offset_minutes(zone)
    if minutes is not None:
        return _duck(exp.Literal.number(minutes))
    return _call("date_diff", _duck(exp.Literal.string("minute")),
                 _call("timezone", _duck(exp.Literal.string(UTC)), value.copy()), wall(zone, value))


def text_sql(zone: str, ref: str) -> str:
    """DuckDB SQL of a zoned value's text, as Trino writes it: wall-clock time, milliseconds, the zone."""
    minutes = offset_minutes(zone)
    local = f"timezone('{zone}', {ref})" if minutes is None else f"timezone('UTC', {ref}) + INTERVAL '{minutes}' MINUTE"
    return f"__wr_timestamp_text({local}) || ' {zone}'"


def _text(zone: str, value: exp.Expression) -> exp.Expression:
    return _duck(exp.DPipe(this=_call("__wr_timestamp_text", wall(zone, value)),
                           expression=_duck(exp.Literal.string(f" {zone}"))))


# ---------------------------------------------------------------------------------------------
# where zones come from, and where they go
# ---------------------------------------------------------------------------------------------
def _literal_text(node: exp.Expression | None) -> str | None:
    return str(node.this) if isinstance(node, exp.Literal) and node.is_string else None


def _literal_zone(text: str) -> tuple[str, str] | None:
    """(time, zone as written) of a timestamp literal with a zone."""
    match = _TIMESTAMP_LITERAL.match(text)
    if match is None or match.group("zone") is None or normalize(match.group("zone")) is None:
        return None
    return match.group("time"), match.group("zone")


def _iso_zone(text: str) -> str | None:
    """The zone of an ISO 8601 timestamp's text (its offset, or Z); None when it has none (the session's)."""
    _, separator, time = text.partition("T")
    match = _ISO_ZONE.search(time) if separator else None
    return normalize(match.group(1)) if match else None


def _is_timestamptz(node: exp.DataType | None) -> bool:
    return isinstance(node, exp.DataType) and node.this == exp.DataType.Type.TIMESTAMPTZ


def _is_interval(node: exp.Expression) -> bool:
    node_type = getattr(node, "type", None)
    return isinstance(node, exp.Interval) or (node_type is not None and node_type.this in (
        exp.DataType.Type.INTERVAL,))


def _source(node: exp.Expression) -> str | None:  # noqa: C901 - one case per zoned expression
    """The zone an expression gives its value, where the expression decides it."""
    if isinstance(node, (exp.Cast, exp.TryCast)) and _is_timestamptz(node.to):
        literal = _literal_text(node.this)
        if literal is not None:
            zoned = _literal_zone(literal)
            return normalize(zoned[1]) if zoned else None
        return zone_of(node.this)
    if isinstance(node, exp.AtTimeZone):
        zone = _literal_text(node.args.get("zone"))
        return normalize(zone) if zone is not None else None
    if isinstance(node, exp.UnixToTime):
        zone = _literal_text(node.args.get("zone"))
        if zone is not None:
            return normalize(zone)
        hours, minutes = node.args.get("hours"), node.args.get("minutes")
        if isinstance(hours, exp.Literal) and not hours.is_string:
            total = int(hours.this) * 60 + (int(minutes.this) if isinstance(minutes, exp.Literal) else 0)
            return normalize(f"{'-' if total < 0 else '+'}{abs(total) // 60:02d}:{abs(total) % 60:02d}")
        return None
    if isinstance(node, (exp.FromISO8601Timestamp, *_NANOS)):
        literal = _literal_text(node.this)
        return _iso_zone(literal) if literal is not None else None
    if isinstance(node, exp.Anonymous):
        name, args = str(node.this).lower(), node.expressions
        if name in ("at_timezone", "with_timezone") and len(args) == 2:
            zone = _literal_text(args[1])
            return normalize(zone) if zone is not None else None
        if name in ("arbitrary", "max_by", "min_by") and args:
            return zone_of(args[0])
        return None
    if isinstance(node, (exp.Paren, exp.Alias, exp.Min, exp.Max, exp.AnyValue, exp.Window, exp.Subquery,
                         exp.TimestampTrunc, exp.DateTrunc, exp.DateAdd, exp.DateSub)):
        return zone_of(node.this)
    if isinstance(node, (exp.Add, exp.Sub)):  # a zoned value plus or minus an interval
        if _is_interval(node.expression):
            return zone_of(node.this)
        return zone_of(node.expression) if isinstance(node, exp.Add) and _is_interval(node.this) else None
    if isinstance(node, exp.Select) and len(node.selects) == 1:
        return zone_of(node.selects[0])
    if isinstance(node, (exp.Coalesce, exp.Case, exp.If)):
        branches = [node.this, *node.expressions] if isinstance(node, exp.Coalesce) else \
            [*[i.args.get("true") for i in node.args.get("ifs") or []], node.args.get("default")] \
            if isinstance(node, exp.Case) else [node.args.get("true"), node.args.get("false")]
        zones = {zone_of(b) for b in branches if b is not None and not isinstance(b, exp.Null)}
        return zones.pop() if len(zones) == 1 else None
    return None


def zone_of(node: exp.Expression) -> str | None:
    """The zone of ``node``'s values: None if not zoned or if the data decides it (then UTC, the session's)."""
    if ZONE not in node.meta:
        node.meta[ZONE] = _source(node)
    return node.meta[ZONE]


def _shifted(node: exp.Expression) -> str | None:
    """The zone of a zoned ``node`` whose clock differs from the session's (UTC)."""
    zone = zone_of(node)
    return None if zone == UTC else zone


def _projection_zones(query: exp.Expression) -> dict[str, str | None]:
    if isinstance(query, exp.Select):
        return {s.alias_or_name: zone_of(s) for s in query.selects}
    if isinstance(query, exp.SetOperation):
        left, right = _projection_zones(query.this), _projection_zones(query.expression)
        return {name: zone if list(right.values())[i] == zone else None
                for i, (name, zone) in enumerate(left.items()) if i < len(right)}
    return {}


def _annotate_columns(root: exp.Expression) -> None:
    """Give the columns of derived tables, CTEs and views the zones of the expressions they select."""
    try:
        scopes = traverse_scope(root)
    except Exception:  # sqlglot cannot scope every statement; columns then stay UTC
        return
    for scope in scopes:
        sources = scope.selected_sources
        for column in scope.columns:
            if column.table:
                source = sources.get(column.table)
            else:
                source = next(iter(sources.values())) if len(sources) == 1 else None
            inner = source[1] if source is not None else None
            if isinstance(inner, Scope):
                column.meta[ZONE] = _projection_zones(inner.expression).get(column.name)


def _zoned_anywhere(root: exp.Expression) -> bool:
    for node in root.walk():
        if isinstance(node, (exp.AtTimeZone, exp.UnixToTime, exp.FromISO8601Timestamp, *_NANOS)):
            return True
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in (
                "at_timezone", "with_timezone"):
            return True
        if isinstance(node, exp.Cast) and _is_timestamptz(node.to) and _literal_text(node.this) is not None:
            return True
    return False


# ---------------------------------------------------------------------------------------------
# the pass
# ---------------------------------------------------------------------------------------------
def _consumer(node: exp.Expression) -> exp.Expression | None:  # noqa: C901 - one case per operation
    """``node`` computed on the wall-clock time of its zoned argument, or None if nothing depends on it."""
    if isinstance(node, (exp.Cast, exp.TryCast)):
        zone = _shifted(node.this)
        if zone is None or _is_timestamptz(node.to):
            return None
        if node.to.this in (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.CHAR):
            return _text(zone, node.this)
        node.set("this", wall(zone, node.this))
        return node
    if isinstance(node, exp.Extract):
        zone = _shifted(node.expression)
        if zone is not None:
            node.set("expression", wall(zone, node.expression))
        return node if zone is not None else None
    if isinstance(node, _FIELDS) or (isinstance(node, exp.Anonymous) and str(node.this).lower() in _FIELD_NAMES):
        key = "this" if not isinstance(node, exp.Anonymous) else None
        argument = node.this if key else (node.expressions[0] if node.expressions else None)
        zone = _shifted(argument) if argument is not None else None
        if zone is None:
            return None
        if key:
            node.set("this", wall(zone, argument))
        else:
            node.set("expressions", [wall(zone, argument), *node.expressions[1:]])
        return node
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc, exp.DateAdd)):
        zone = _shifted(node.this)
        unit = node.args.get("unit")
        if zone is None or (isinstance(node, exp.DateAdd) and (unit is None or unit.name.upper() not in
                                                               _CALENDAR_UNITS)):
            return None
        node.set("this", wall(zone, node.this))
        out = instant(zone, node)
        out.meta[ZONE] = zone
        return out
    if isinstance(node, exp.Anonymous) and node.expressions:
        name, value = str(node.this).lower(), node.expressions[0]
        zone = _shifted(value)
        if zone is None:
            return None
        if name == "to_iso8601":
            local = _call("strftime", wall(zone, value.copy()), _duck(exp.Literal.string("%Y-%m-%dT%H:%M:%S.%g")))
            return _duck(exp.DPipe(this=local, expression=_call("__wr_offset_text", _offset(zone, value))))
        if name in ("timezone_hour", "timezone_minute"):
            minutes = _offset(zone, value)
            hours = _duck(exp.Cast(this=_call("trunc", _duck(exp.Div(this=minutes, expression=_duck(
                exp.Literal.number(60))))), to=exp.DataType.build("BIGINT")))
            if name == "timezone_hour":
                return hours
            return _duck(exp.Sub(this=minutes.copy(), expression=_duck(exp.Mul(this=hours.copy(), expression=_duck(
                exp.Literal.number(60))))))
    return None


def _producer(node: exp.Expression) -> exp.Expression | None:
    """A zoned expression as its instant, in DuckDB's terms."""
    zone = zone_of(node)
    if isinstance(node, exp.AtTimeZone) and zone is not None:
        out = _duck(exp.Cast(this=node.this, to=exp.DataType.build("TIMESTAMPTZ")))
    elif isinstance(node, exp.Cast) and _is_timestamptz(node.to) and _literal_text(node.this) is not None:
        zoned = _literal_zone(str(node.this.this))
        if zoned is None or not _OFFSET.match(zoned[1]):
            return None
        # DuckDB reads "05:10:00+05:30", not "05:10:00 +05:30"
        node.set("this", exp.Literal.string(zoned[0] + zoned[1]))
        return node
    else:
        return None
    out.meta[ZONE] = zone
    return out


def apply(root: exp.Expression) -> tuple[exp.Expression, list[str | None], set[int]]:
    """``root`` with zone-dependent operations computed in their zones; the zone of each result column
    (None: UTC); the ids of the expressions already in DuckDB's terms, which the Trino fix-ups must skip."""
    if not _zoned_anywhere(root):
        return root, [], set()
    _annotate_columns(root)
    outputs = [None if zone == UTC else zone for zone in _projection_zones(root).values()]
    for node in reversed(list(root.walk(bfs=False))):
        if node.meta.get(DUCK):
            continue
        parent, key, index = node.parent, node.arg_key, node.index
        new = _producer(node) or _consumer(node)
        if new is not None and new is not node:
            if parent is None:
                root = new
            else:
                parent.set(key, new, index)
    return root, outputs, {id(node) for node in root.walk() if node.meta.get(DUCK)}
