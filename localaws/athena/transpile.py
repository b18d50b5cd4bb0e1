"""Athena (Trino) SQL -> DuckDB SQL.

sqlglot does most of the dialect translation (read "athena", write "duckdb"). This module adds what
a faithful local Athena needs on top:

- table references resolved through the Glue catalog: base tables become ``__wr_scan_N`` relations
  (registered by context.Connections, with the partitions the query's WHERE clause allows), views are
  expanded from their Presto view definition (recursively, each in its own default schema);
- Athena's output column names (``_col0`` for unnamed expressions, lower-case names);
- Trino semantics sqlglot leaves to the engine, using types from sqlglot's annotator where known:
  date_add / date_trunc on a DATE stay DATE, CAST(double AS varchar) renders like Java,
  format_datetime / parse_datetime take Joda patterns, map_agg, approx_percentile (quantile_disc;
  DuckDB's approx_quantile is an order of magnitude slower), current_schema, timestamps with time zone
  kept in their zones (zones.py), and
  DECIMAL arithmetic typed and computed as Trino does (decimals.py).
  Integer division is DuckDB's ``integer_division`` setting (duck.py), so ``7/2`` is 3 for any
  integer operands, typed or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from localaws.athena import decimals, output_types, security, trino_functions, views, zones
from localaws.athena.catalog import DEFAULT_CATALOG, Catalog, TableInfo
from localaws.athena.errors import AthenaQueryError
from localaws.athena.pruning import Condition, conditions_for
from localaws.athena.scans import PSEUDO_COLUMNS
from localaws.athena.statements import parse_sql
from localaws.athena.syntax import table_name
from localaws.athena.types import HiveType

UNNAMED = "__wr_unnamed_"
MAX_VIEW_DEPTH = 16
_DATE_UNITS = frozenset({"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"})


@dataclass
class ScanRequest:
    name: str
    table: TableInfo
    conditions: list[Condition]
    pseudo: set[str] = field(default_factory=set)


@dataclass
class Resolved:
    """A query whose tables are resolved: the AST (now over __wr_scan_N relations) and its scans."""

    ast: exp.Expression
    scans: list[ScanRequest]
    views: list[str] = field(default_factory=list)
    output_zones: list[str | None] = field(default_factory=list)  # set by to_duckdb: zones.apply
    output_types: list[str | None] = field(default_factory=list)  # set by to_duckdb: output_types.declared
    stamps: list[str | None] = field(default_factory=list)  # Glue's stamp of each table and view read


class Resolver:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def resolve(self, ast: exp.Expression, default_database: str) -> Resolved:
        security.check_query(ast)
        result = Resolved(ast, [])
        self._expand(ast, default_database.lower(), result, 0, set())
        _strip_column_qualifiers(ast)
        uses_pseudo = {c.name for c in ast.find_all(exp.Column) if c.name in PSEUDO_COLUMNS}
        for scan in result.scans:
            scan.pseudo = set(uses_pseudo)
        return result

    def _expand(self, ast: exp.Expression, default_database: str, result: Resolved, depth: int,
                active_views: set[str]) -> None:
        if depth > MAX_VIEW_DEPTH:
            raise AthenaQueryError("SYNTAX_ERROR", "View definitions are nested too deeply (a recursive view?)")
        cte_names = {cte.alias_or_name.lower() for cte in ast.find_all(exp.CTE)}
        for table in list(ast.find_all(exp.Table)):
            if not isinstance(table.this, exp.Identifier):
                continue
            if not table.db and table.name.lower() in cte_names:
                continue
            name = table_name(table)
            database, relation = name.resolve(default_database)
            info = self.catalog.require_table(database, relation, name.position)
            result.stamps.append(info.stamp)
            alias_node = table.args.get("alias")
            alias = alias_node.name if alias_node is not None and alias_node.name else relation
            if info.is_view:
                if info.qualified in active_views:
                    raise AthenaQueryError("SYNTAX_ERROR", f"View '{info.qualified}' is recursive")
                definition = views.decode(info)
                view_ast = parse_sql(definition.original_sql)
                security.check_query(view_ast)
                self._expand(view_ast, definition.schema.lower(), result, depth + 1,
                             active_views | {info.qualified})
                result.views.append(info.qualified)
                new_alias = alias_node.copy() if alias_node is not None and alias_node.name else \
                    exp.TableAlias(this=exp.to_identifier(alias))
                if definition.columns and not new_alias.columns and _output_count(view_ast) == len(
                        definition.columns):
                    # a view's columns are the ones it was created with (names given at CREATE VIEW time)
                    new_alias.set("columns", [exp.to_identifier(c["name"], quoted=True) for c in definition.columns])
                table.replace(exp.Subquery(this=view_ast, alias=new_alias))
                continue
            scan_name = f"__wr_scan_{len(result.scans) + 1}"
            conditions: list[Condition] = []
            if info.partition_keys:
                conditions = conditions_for(table, {alias.lower(), relation},
                                            {k.name for k in info.partition_keys})
            result.scans.append(ScanRequest(scan_name, info, conditions))
            new_alias = alias_node.copy() if alias_node is not None and alias_node.name else \
                exp.TableAlias(this=exp.to_identifier(alias))
            if alias_node is not None and not alias_node.name and alias_node.columns:
                new_alias.set("columns", alias_node.columns)
            table.replace(exp.Table(this=exp.to_identifier(scan_name), alias=new_alias))


def _output_count(ast: exp.Expression) -> int | None:
    """How many columns a query returns, when that is known without binding (no stars)."""
    select = _first_select(ast)
    if not isinstance(select, exp.Select) or any(isinstance(e, exp.Star) or
                                                 (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
                                                 for e in select.expressions):
        return None
    return len(select.expressions)


def _strip_column_qualifiers(ast: exp.Expression) -> None:
    """``db.table.column`` -> ``table.column``: relations are known by alias only once resolved."""
    for column in ast.find_all(exp.Column):
        if column.args.get("db") is not None or column.args.get("catalog") is not None:
            column.set("db", None)
            column.set("catalog", None)


# ---------------------------------------------------------------------------------------------
# output names
# ---------------------------------------------------------------------------------------------
def _first_select(ast: exp.Expression) -> exp.Expression:
    node = ast
    while True:
        if isinstance(node, (exp.SetOperation, exp.Subquery)):
            node = node.this
        else:
            return node


def name_outputs(ast: exp.Expression) -> None:
    """Give unnamed output expressions a marker alias (renamed ``_col<position>`` after execution)."""
    select = _first_select(ast)
    if not isinstance(select, exp.Select):
        return
    projections = []
    for index, projection in enumerate(select.expressions):
        if isinstance(projection, (exp.Alias, exp.Column, exp.Star, exp.Dot)):
            projections.append(projection)
        else:
            projections.append(exp.alias_(projection, f"{UNNAMED}{index}", quoted=True))
    select.set("expressions", projections)


def output_name(raw: str, position: int) -> str:
    return f"_col{position}" if raw.startswith(UNNAMED) else raw.lower()


# ---------------------------------------------------------------------------------------------
# Joda patterns (format_datetime / parse_datetime)
# ---------------------------------------------------------------------------------------------
_JODA = {
    "yyyy": "%Y", "yy": "%y", "y": "%Y", "YYYY": "%Y", "xxxx": "%G",
    "MMMM": "%B", "MMM": "%b", "MM": "%m", "M": "%-m",
    "dd": "%d", "d": "%-d", "DDD": "%j", "D": "%-j",
    "HH": "%H", "H": "%-H", "kk": "%H", "k": "%-H", "hh": "%I", "h": "%-I", "KK": "%I", "K": "%-I",
    "mm": "%M", "m": "%-M", "ss": "%S", "s": "%-S",
    "SSSSSSSSS": "%n", "SSSSSS": "%f", "SSS": "%g", "SS": "%g", "S": "%g",
    "a": "%p", "EEEE": "%A", "EEE": "%a", "EE": "%a", "E": "%a",
    "ZZZ": "%Z", "ZZ": "%z", "Z": "%z", "zzzz": "%Z", "z": "%Z", "ww": "%V", "w": "%V", "e": "%u",
}


def joda_to_strftime(pattern: str, parsing: bool = False) -> str:
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:
                out.append("'")
                i += 2
                continue
            literal = pattern[i + 1:end if end > 0 else len(pattern)]
            out.append(literal.replace("%", "%%"))
            i = end + 1 if end > 0 else len(pattern)
            continue
        if char.isalpha():
            run = 1
            while i + run < len(pattern) and pattern[i + run] == char:
                run += 1
            token = pattern[i:i + run]
            while token and token not in _JODA:
                token = token[:-1]
            if not token:
                raise AthenaQueryError("INVALID_FUNCTION_ARGUMENT", f"Illegal pattern component: {pattern[i:i + run]}")
            spec = _JODA[token]
            out.append(spec.replace("-", "") if parsing else spec)
            i += len(token)
            continue
        out.append("%%" if char == "%" else char)
        i += 1
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Trino semantics on the (annotated) AST
# ---------------------------------------------------------------------------------------------
def _type_is(node: exp.Expression, *types: exp.DataType.Type) -> bool:
    node_type = getattr(node, "type", None)
    return node_type is not None and node_type.this in types


def _literal_format(node: exp.Expression | None, function: str) -> str:
    if isinstance(node, exp.Literal) and node.is_string:
        return str(node.this)
    raise AthenaQueryError("NOT_SUPPORTED", f"{function} with a non-literal pattern is not supported by the local "
                                            "engine")


_INTEGER_TYPES = (exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT,
                  exp.DataType.Type.TINYINT)


def _decimal(node: exp.Expression) -> tuple[int, bool] | None:
    """(scale, is_decimal) of an exact numeric operand; None for anything else (e.g. a double)."""
    if isinstance(node, (exp.Paren, exp.Neg)):
        return _decimal(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        text = str(node.this).lower()
        if "e" in text:
            return None
        return (len(text.split(".", 1)[1]), True) if "." in text else (0, False)
    node_type = getattr(node, "type", None)
    if node_type is None:
        return None
    if node_type.this == exp.DataType.Type.DECIMAL:
        params = node_type.expressions
        scale = int(params[1].this.this) if len(params) > 1 else 0
        return scale, True
    if node_type.this in _INTEGER_TYPES:
        return 0, False
    return None


def _fix(node: exp.Expression, default_database: str) -> exp.Expression:
    trino = trino_functions.rewrite(node)
    if trino is not None:
        return trino
    if isinstance(node, exp.Literal) and not node.is_string:
        return decimals.literal(node) or node
    if isinstance(node, (exp.Cast, exp.TryCast)) and isinstance(node.to, exp.DataType):
        bare = decimals.bare_decimal(node)
        if bare is not None:
            return bare
    if isinstance(node, exp.Mul):
        return decimals.multiply(node) or node
    if isinstance(node, exp.Avg):
        return decimals.average(node) or node
    if isinstance(node, exp.Div):
        # plain "/": DuckDB's integer_division setting gives Trino's integer semantics by type at run time
        node.set("typed", None)
        exact = decimals.divide(node)
        if exact is not None:
            return exact
        left, right = _decimal(node.left), _decimal(node.right)
        if left is not None and right is not None and (left[1] or right[1]):
            target = exp.DataType.build(f"DECIMAL(38, {max(left[0], right[0])})")
            return exp.Cast(this=node, to=target)
    if isinstance(node, exp.DataType) and node.this in (exp.DataType.Type.TIMESTAMP,
                                                        exp.DataType.Type.TIMESTAMPTZ) and node.expressions:
        return exp.DataType(this=node.this)
    if isinstance(node, exp.DateAdd) and _type_is(node.this, exp.DataType.Type.DATE):
        unit = node.args.get("unit")
        if unit is not None and unit.name.upper() in _DATE_UNITS:
            return exp.cast(node, exp.DataType.Type.DATE)
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)) and _type_is(node.this, exp.DataType.Type.DATE):
        return exp.cast(node, exp.DataType.Type.DATE)
    if isinstance(node, (exp.Cast, exp.TryCast)) and node.to.this in (
            exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT, exp.DataType.Type.CHAR) and _type_is(
            node.this, exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT):
        return exp.Anonymous(this="__wr_java_double", expressions=[node.this])
    if isinstance(node, exp.ArraySlice) and node.args.get("end") is not None:
        # Trino's slice(array, start, length); DuckDB's list_slice takes an (inclusive) end
        start, length = node.args["start"], node.args["end"]
        end = exp.Sub(this=exp.Add(this=start.copy(), expression=length), expression=exp.Literal.number(1))
        return exp.Anonymous(this="list_slice", expressions=[node.this, start, end])
    if isinstance(node, exp.Format):
        return exp.Anonymous(this="printf", expressions=[node.this, *node.expressions])
    if isinstance(node, exp.ArraySize) and _type_is(node.this, exp.DataType.Type.MAP):
        return exp.Anonymous(this="cardinality", expressions=[node.this])
    if isinstance(node, exp.ArrayDistinct):
        # Trino keeps the first occurrences in order; DuckDB's list_distinct does not
        items = node.this
        keep = exp.Lambda(this=exp.EQ(this=exp.Anonymous(this="list_position", expressions=[
            items.copy(), exp.to_identifier("__wr_e")]), expression=exp.to_identifier("__wr_i")),
            expressions=[exp.to_identifier("__wr_e"), exp.to_identifier("__wr_i")])
        return exp.Anonymous(this="list_filter", expressions=[items, keep])
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name in ("any_match", "all_match", "none_match") and len(node.expressions) == 2:
            mapped = exp.Anonymous(this="list_transform", expressions=node.expressions)
            aggregate = "bool_or" if name in ("any_match", "none_match") else "bool_and"
            result: exp.Expression = exp.Anonymous(this="list_aggregate",
                                                   expressions=[mapped, exp.Literal.string(aggregate)])
            return exp.Not(this=result) if name == "none_match" else result
        if name == "format_datetime" and len(node.expressions) == 2:
            pattern = joda_to_strftime(_literal_format(node.expressions[1], name))
            return exp.Anonymous(this="strftime", expressions=[node.expressions[0], exp.Literal.string(pattern)])
        if name == "map_agg" and len(node.expressions) == 2:
            entry = exp.Struct(expressions=[
                exp.PropertyEQ(this=exp.to_identifier("k"), expression=node.expressions[0]),
                exp.PropertyEQ(this=exp.to_identifier("v"), expression=node.expressions[1])])
            listed = exp.Anonymous(this="list", expressions=[entry])
            return exp.Anonymous(this="map_from_entries", expressions=[listed])
    if isinstance(node, exp.ParseDatetime):
        pattern = joda_to_strftime(_literal_format(node.args.get("format"), "parse_datetime"), parsing=True)
        parsed = exp.Anonymous(this="strptime", expressions=[node.this, exp.Literal.string(pattern)])
        return exp.Cast(this=parsed, to=exp.DataType.build("TIMESTAMPTZ"))  # in the session zone, UTC
    if isinstance(node, exp.ApproxQuantile):
        if node.args.get("weight") is not None or node.args.get("accuracy") is not None:
            raise AthenaQueryError("NOT_SUPPORTED", "approx_percentile with weights or accuracy is not supported by "
                                                    "the local engine")
        return exp.Anonymous(this="quantile_disc", expressions=[node.this, node.args["quantile"]])
    if isinstance(node, exp.AtTimeZone):
        # a zone the data decides (zones.py handles the others): that zone's wall clock, which is what Trino's
        # CAST(x AT TIME ZONE z AS timestamp) gives; a plain timestamp is first an instant in the session zone
        instant = node.this if _type_is(node.this, exp.DataType.Type.TIMESTAMPTZ) else \
            exp.cast(node.this, exp.DataType.Type.TIMESTAMPTZ)
        return exp.Anonymous(this="timezone", expressions=[node.args["zone"], instant])
    if isinstance(node, exp.CurrentSchema):
        return exp.Literal.string(default_database)
    if isinstance(node, exp.CurrentCatalog):
        return exp.Literal.string(DEFAULT_CATALOG)
    if isinstance(node, exp.CurrentUser):
        return exp.Literal.string("wildrydes-local")
    return node


def _fix_tree(ast: exp.Expression, default_database: str, skip: set[int]) -> exp.Expression:
    """Apply ``_fix`` bottom-up, so fixes inside fixed expressions apply too (not to the nodes in ``skip``)."""
    root = ast
    for node in reversed(list(ast.walk(bfs=False))):
        if skip and id(node) in skip:
            continue
        parent, key, index = node.parent, node.arg_key, node.index  # before _fix re-parents the node
        new = _fix(node, default_database)
        if new is not node:
            if parent is None:
                root = new
            else:
                parent.set(key, new, index)
    return root


def _schema(scans: list[ScanRequest]) -> dict[str, dict[str, str]]:
    schema: dict[str, dict[str, str]] = {}
    for scan in scans:
        schema[scan.name] = {c.name: HiveType.parse(c.type).trino() for c in scan.table.all_columns}
    return schema


def to_duckdb(resolved: Resolved, default_database: str, name_unnamed: bool = True) -> str:
    """DuckDB SQL for a resolved query (or DML statement), Trino semantics fixed up."""
    ast = resolved.ast
    if name_unnamed:
        name_outputs(ast)
    typed = ast
    if not any(scan.pseudo for scan in resolved.scans):
        try:
            schema = _schema(resolved.scans)
            typed = qualify(ast.copy(), schema=schema, dialect="athena", validate_qualify_columns=True,
                            quote_identifiers=True, expand_stars=True)
            annotate_types(typed, schema=schema, dialect="athena")
            decimals.mark_base_columns(typed)
        except Exception:  # sqlglot cannot qualify every query; DuckDB still binds it
            typed = ast
    resolved.output_types = output_types.declared(typed)
    typed, resolved.output_zones, in_duckdb_terms = zones.apply(typed)
    fixed = _fix_tree(typed, default_database, in_duckdb_terms)
    if any(scan.pseudo for scan in resolved.scans):
        hidden = [exp.to_identifier(p, quoted=True) for p in PSEUDO_COLUMNS]
        for star in fixed.find_all(exp.Star):
            if star.parent is not None and isinstance(star.parent, (exp.Select, exp.Column)):
                star.set("except", [h.copy() for h in hidden])
    return fixed.sql(dialect="duckdb")


def transpile_expression(sql: str) -> str:
    """A standalone Athena expression as DuckDB SQL (used for partition values, defaults)."""
    return sqlglot.parse_one(sql, read="athena").sql(dialect="duckdb")
