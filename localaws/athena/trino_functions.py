"""Trino functions whose DuckDB namesakes (or sqlglot's translation) differ from Trino's documented
results, rewritten on the annotated Trino AST (transpile._fix calls ``rewrite`` for every node, bottom-up).

Each rewrite is a DuckDB expression template, parsed once at import, whose placeholders ``_1``, ``_2``
... take the (already rewritten) arguments; no SQL text is built per query. Functions Athena engine v3
does not have are refused as Athena refuses them: FUNCTION_NOT_FOUND "Function 'x' not registered"
(``check_known``: a set lookup for each function call sqlglot does not know, which is how DuckDB-only
names arrive).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from localaws.athena import java_regex, output_types, trino_lambdas
from localaws.athena.errors import AthenaQueryError, at
from localaws.athena.syntax import node_position
from localaws.athena.trino_names import KNOWN_FUNCTIONS
from localaws.athena.trino_templates import fill

T = exp.DataType.Type
_INTEGERS = (T.TINYINT, T.SMALLINT, T.INT, T.BIGINT)
_FLOATS = (T.DOUBLE, T.FLOAT)

# Trino function names answered by the template of the same name
_ANONYMOUS_TEMPLATES = frozenset({
    "e", "luhn_check", "to_milliseconds", "human_readable_seconds", "millisecond", "yow", "bit_count",
    "bitwise_left_shift", "bitwise_right_shift", "bitwise_right_shift_arithmetic", "url_extract_protocol",
    "url_extract_host", "url_extract_port", "url_extract_path", "url_extract_query", "url_extract_fragment",
    "url_extract_parameter", "url_encode", "url_decode", "is_json_scalar", "json_array_get", "json_size",
    "arrays_overlap", "ngrams", "trim_array", "contains_sequence", "zip", "from_base", "to_base", "multimap_agg",
    "split_to_multimap", "shuffle", "from_base64url", "to_base64url", "parse_data_size", "to_big_endian_32",
    "to_big_endian_64", "from_big_endian_32", "from_big_endian_64", "map_union", "multimap_from_entries",
    "approx_most_frequent", "parse_duration", "from_unixtime_nanos", "crc32", "soundex",
})
# sqlglot classes of Trino functions answered by a template (sqlglot knows them, DuckDB does not)
_TYPED_TEMPLATES: dict[type, str] = {cls: name for name, cls in (
    (name, getattr(exp, attr, None)) for name, attr in (("from_base", "FromBase"), ("shuffle", "Shuffle"),
                                                          ("to_base", "ToBase"),
                                                          ("soundex", "Soundex"))) if cls is not None}
_LATER = tuple(c for c in (getattr(exp, "EuclideanDistance", None), getattr(exp, "CosineDistance", None)) if c)
def _type(node: exp.Expression) -> exp.DataType.Type | None:
    node_type = getattr(node, "type", None)
    return None if node_type is None else node_type.this


def _binary(node: exp.Expression) -> bool:
    return _type(node) in (T.VARBINARY, T.BINARY, T.BLOB) or isinstance(
        node, (exp.Encode, exp.Unhex, exp.MD5Digest, exp.SHA2Digest, exp.FromBase64)) or (
        isinstance(node, exp.Anonymous) and str(node.this).lower() in ("to_utf8", "from_hex", "from_base64"))


def _strip_path_mode(node: exp.Expression | None) -> None:
    """Trino's JSON path modes ('lax $.a', 'strict $.a'): DuckDB's paths have none (lax is its behaviour)."""
    if isinstance(node, exp.Literal) and node.is_string:
        text = str(node.this).strip()
        for mode in ("lax ", "strict "):
            if text.lower().startswith(mode):
                node.set("this", text[len(mode):].strip())


def check_known(node: exp.Anonymous) -> None:
    """Refuse a function Athena does not have, as Athena does."""
    name = str(node.this).lower()
    if name not in KNOWN_FUNCTIONS:
        raise AthenaQueryError("FUNCTION_NOT_FOUND", f"{at(*node_position(node))}Function '{name}' not registered")


def _refuse(node: exp.Expression, what: str) -> None:
    raise AthenaQueryError("NOT_SUPPORTED", f"{at(*node_position(node))}{what} is not supported by the local engine")


def _anonymous(node: exp.Anonymous) -> exp.Expression | None:
    name = str(node.this).lower()
    args = node.expressions
    handler = _BY_NAME.get(name)
    if handler is not None:
        return handler(node, args)
    if name in _ANONYMOUS_TEMPLATES and (args or name == "e"):
        return fill(name, *args)
    return trino_lambdas.rewrite(name, args)


def _regexp_extract(node: exp.RegexpExtract) -> exp.Expression:
    group = node.args.get("group")
    if group is None:
        return fill("regexp_extract2", node.this, node.expression)
    return fill("regexp_extract3", node.this, node.expression, group)


def _regexp_replace(node: exp.RegexpReplace) -> exp.Expression | None:
    replacement = node.args.get("replacement")
    pattern = node.expression
    if isinstance(replacement, exp.Lambda):
        return _regexp_replace_by(node, pattern, replacement)
    if isinstance(pattern, exp.Literal) and pattern.is_string and "(?<" in str(pattern.this):
        pattern.set("this", re.sub(r"\(\?<([A-Za-z][A-Za-z0-9]*)>", r"(?P<\1>", str(pattern.this)))
    if isinstance(replacement, exp.Literal) and replacement.is_string:
        names = _group_names(str(pattern.this)) if isinstance(pattern, exp.Literal) else {}
        replacement.set("this", _java_replacement(str(replacement.this), names))
    return None


def _regexp_replace_by(node: exp.RegexpReplace, pattern: exp.Expression, function: exp.Lambda) -> exp.Expression:
    """regexp_replace with a lambda given the array of a match's capturing groups."""
    if not isinstance(pattern, exp.Literal) or not pattern.is_string:
        _refuse(node, "regexp_replace with a lambda and a pattern that is not a literal")
    text = str(pattern.this)
    anchored = exp.Literal.string(f"^(?:{text})$")
    match = exp.Anonymous(this="list_extract", expressions=[
        exp.Anonymous(this="regexp_extract_all", expressions=[node.this.copy(), pattern.copy()]),
        exp.column("__wr_k")])
    groups = exp.Array(expressions=[
        exp.Anonymous(this="regexp_extract", expressions=[match.copy(), anchored.copy(), exp.Literal.number(g)])
        for g in range(1, _group_count(text) + 1)])
    body = trino_lambdas.inline(function, [groups])
    if body is None:
        _refuse(node, "regexp_replace with this lambda")
    return fill("regexp_replace_by", node.this, pattern, body)


def _group_count(pattern: str) -> int:
    count, i = 0, 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "(" and (not pattern.startswith("(?", i) or re.match(r"\(\?P?<[A-Za-z]", pattern[i:])):
            count += 1
        i += 1
    return count


def _group_names(pattern: str) -> dict[str, int]:
    names, index, i = {}, 0, 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "(":
            match = re.match(r"\(\?P?<([A-Za-z][A-Za-z0-9]*)>", pattern[i:])
            if match or not pattern.startswith("(?", i):
                index += 1
                if match:
                    names[match.group(1)] = index
        i += 1
    return names


def _java_replacement(text: str, names: dict[str, int]) -> str:
    """Java's replacement syntax ($1, ${name}, \\$) as RE2's (\\1)."""
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append("\\\\" if text[i + 1] == "\\" else text[i + 1])
            i += 2
        elif char == "$" and text.startswith("${", i) and "}" in text[i:]:
            end = text.index("}", i)
            out.append("\\" + str(names.get(text[i + 2:end], 0)))
            i = end + 1
        elif char == "$" and i + 1 < len(text) and text[i + 1].isdigit():
            out.append("\\" + text[i + 1])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _cast(node: exp.Cast) -> exp.Expression | None:
    target, source = node.to.this, _type(node.this)
    length = output_types.char_length(node)
    if length is not None:  # char(n): the text cut or padded with spaces to n (DuckDB has no CHAR)
        text = exp.Cast(this=node.this, to=exp.DataType.build("VARCHAR"))
        return exp.Anonymous(this="rpad", expressions=[exp.Anonymous(this="left", expressions=[
            text, exp.Literal.number(length)]), exp.Literal.number(length), exp.Literal.string(" ")])
    if target in _INTEGERS and source in _FLOATS:
        # Trino rounds a double half away from zero; DuckDB's CAST rounds half to even
        return exp.Cast(this=exp.Round(this=node.this), to=node.to) if isinstance(node, exp.Cast) else \
            exp.TryCast(this=exp.Round(this=node.this), to=node.to)
    if target == T.JSON and isinstance(node.this, exp.Literal) and node.this.is_string and type(node) is exp.Cast:
        return fill("to_json", node.this)  # CAST(varchar AS JSON) is a JSON string, not parsed JSON text
    if target in (T.VARCHAR, T.TEXT) and (source == T.JSON or isinstance(node.this, exp.ParseJSON)):
        return fill("json_text", node.this)
    return None


_SPEC = re.compile(r"%(\d+\$)?[-#+ 0,(<]*\d*(?:\.\d+)?([a-zA-Z%])")


def _format(node: exp.Format) -> exp.Expression | None:
    """Java's format(): a %s argument of any type is its text (DuckDB's printf wants a string there)."""
    pattern, args = node.this, list(node.expressions)
    if not isinstance(pattern, exp.Literal) or not pattern.is_string:
        return None
    position = 0
    for match in _SPEC.finditer(str(pattern.this)):
        if match.group(2) == "%":
            continue
        index = int(match.group(1)[:-1]) - 1 if match.group(1) else position
        position = index + 1 if not match.group(1) else position
        if match.group(2) in ("s", "S") and 0 <= index < len(args) and _type(args[index]) not in (T.VARCHAR, T.TEXT):
            args[index] = fill("varchar", args[index])
    return exp.Anonymous(this="printf", expressions=[pattern, *args])


def _array_sort(node: exp.ArraySort) -> exp.Expression:
    """array_sort with a comparator, for any consistent comparator: O(n^2) comparisons, as arrays sorted in a
    query are small."""
    items = node.this
    pick = [exp.Anonymous(this="list_extract", expressions=[items.copy(), exp.column(name)])
            for name in ("__wr_j", "__wr_i")]
    comparison = trino_lambdas.inline(node.expression, pick)
    if comparison is None:
        _refuse(node, "array_sort with this comparator")
    return fill("array_sort_by", items, exp.Paren(this=comparison))


def _type_nulls(node: exp.Expression) -> None:
    args = [c for key in ("this", "expression", "expressions")
            for c in (node.args.get(key) if isinstance(node.args.get(key), list) else [node.args.get(key)])
            if c is not None]
    if not any(_type(c) in (T.VARCHAR, T.TEXT) or isinstance(c, exp.Literal) and c.is_string for c in args):
        return
    if any(_type(c) == T.ARRAY or isinstance(c, exp.Array) for c in args):
        return
    for child in args:
        if isinstance(child, exp.Null):
            child.replace(exp.Cast(this=exp.Null(), to=exp.DataType.build("VARCHAR")))


def _from_utf8(node: exp.Decode) -> exp.Expression | None:
    """from_utf8(binary, replace) for the replacements DuckDB's decode has: '?' and '' (drop)."""
    replace = node.args["replace"]
    if isinstance(replace, exp.Literal) and replace.is_string and str(replace.this) in ("?", ""):
        mode = "replace" if str(replace.this) == "?" else "ignore"
        return exp.Anonymous(this="decode", expressions=[node.this, exp.Literal.string(mode)])
    return None


def _generate_series(node: exp.GenerateSeries) -> exp.Expression | None:
    start, end, step = node.args.get("start"), node.args.get("end"), node.args.get("step")
    dates = _type(start) == T.DATE or isinstance(start, exp.Cast) and start.to.this == T.DATE
    if dates:
        return fill("date_sequence3", start, end, step) if step is not None else fill("date_sequence2", start, end)
    if step is None:
        return fill("sequence2", start, end)
    return None


def _anonymous_row(node: exp.Struct) -> exp.Expression | None:
    """An anonymous ``ROW(...)`` names its fields field0, field1 ... as Athena shows them (DuckDB would say
    _0, _1); not inside a CAST, which gives the fields their names by position."""
    if any(isinstance(e, (exp.PropertyEQ, exp.Alias, exp.Slice)) for e in node.expressions):
        return None
    if node.find_ancestor(exp.Cast, exp.TryCast) is not None:
        return None
    return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(f"field{index}"), expression=e.copy())
                                   for index, e in enumerate(node.expressions)])


def _by_type(node: exp.Expression) -> exp.Expression | None:  # noqa: C901 - one dispatch table
    if isinstance(node, (exp.Cast, exp.TryCast)) and isinstance(node.to, exp.DataType):
        return _cast(node)
    if isinstance(node, exp.Cbrt):
        return fill("cbrt", node.this)
    if isinstance(node, exp.Struct):
        return _anonymous_row(node)
    if isinstance(node, exp.Sign) and _type(node.this) not in (None, T.TINYINT):
        return exp.Cast(this=node, to=node.this.type.copy())
    if isinstance(node, exp.WidthBucket):
        args = [node.this, node.args.get("min_value"), node.args.get("max_value"), node.args.get("num_buckets")]
        return fill("width_bucket", *args) if all(a is not None for a in args) else None
    if isinstance(node, exp.Split) and node.args.get("limit") is not None:
        return fill("split3", node.this, node.expression, node.args["limit"])
    if isinstance(node, exp.SplitPart):
        return fill("split_part", node.this, node.args["delimiter"], node.args["part_index"])
    if isinstance(node, exp.StrToMap):
        return fill("split_to_map", node.this, node.args["pair_delim"], node.args["key_value_delim"])
    if isinstance(node, exp.StrPosition) and node.args.get("occurrence") is not None:
        return fill("strpos3", node.this, node.args["substr"], node.args["occurrence"])
    if isinstance(node, exp.Normalize) and not node.args.get("form"):
        return exp.Anonymous(this="nfc_normalize", expressions=[node.this])
    if isinstance(node, exp.CurrentTimezone):
        return exp.Literal.string("UTC")
    if isinstance(node, exp.DateDiff):
        # Trino counts whole units elapsed (Joda's), DuckDB's date_diff the boundaries crossed
        unit = node.args.get("unit")
        return exp.Anonymous(this="date_sub", expressions=[exp.Literal.string(unit.name.lower() if unit else "day"),
                                                           node.expression, node.this])
    if isinstance(node, exp.Format):
        return _format(node)
    if isinstance(node, exp.Typeof):
        if isinstance(node.this, exp.Literal) and node.this.is_string:
            return exp.Literal.string(f"varchar({len(str(node.this.this))})")  # a literal's type has its length
        return fill("typeof", node.this)
    if isinstance(node, exp.FromISO8601Date):
        return fill("from_iso8601_date", node.this)
    if isinstance(node, exp.Decode) and node.args.get("replace") is not None:
        return _from_utf8(node)
    if isinstance(node, exp.Decode):
        decoded = exp.Anonymous(this="decode", expressions=[fill("from_utf8_protect", node.this),
                                                             exp.Literal.string("replace")])
        return fill("from_utf8_restore", decoded)
    if isinstance(node, (exp.Concat, exp.DPipe)):
        _type_nulls(node)  # a bare NULL argument is a varchar, so the result is one (and the checks go on)
    if isinstance(node, (exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor)):
        name = {exp.BitwiseAnd: "bitwise_and", exp.BitwiseOr: "bitwise_or", exp.BitwiseXor: "bitwise_xor"}[type(node)]
        return fill(name, node.this, node.expression)
    if isinstance(node, exp.BitwiseNot):
        return fill("bitwise_not", node.this)
    if isinstance(node, _LATER):
        # functions added to Trino after the release Athena engine v3 follows
        name = {exp.EuclideanDistance: "euclidean_distance"}.get(type(node), "cosine_distance")
        raise AthenaQueryError("FUNCTION_NOT_FOUND", f"{at(*node_position(node))}Function '{name}' not registered")
    if isinstance(node, exp.DPipe) and _type(node.this) == T.ARRAY and _type(node.expression) not in (None, T.ARRAY):
        return fill("list_append", node.this, node.expression)
    if isinstance(node, exp.DPipe) and _type(node.expression) == T.ARRAY and _type(node.this) not in (None, T.ARRAY):
        return fill("list_prepend", node.this, node.expression)
    if isinstance(node, (exp.Add, exp.Sub)) and _type(node.this) == T.DATE and isinstance(node.expression,
                                                                                       exp.Interval):
        unit = node.expression.args.get("unit")
        if unit is not None and unit.name.upper() in ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"):
            return fill("date", node)
    if isinstance(node, (exp.BitwiseAndAgg, exp.BitwiseOrAgg, exp.BitwiseXorAgg)):
        return fill("bigint", node)
    if isinstance(node, exp.Length) and _binary(node.this):
        return fill("octet_length", node.this)
    if isinstance(node, exp.Substring) and _binary(node.this):
        length = node.args.get("length")
        start = node.args.get("start") or exp.Literal.number(1)
        return fill("binary_substr3", node.this, start, length) if length is not None else \
            fill("binary_substr2", node.this, start)
    if isinstance(node, exp.Reverse) and _binary(node.this):
        return fill("binary_reverse", node.this)
    if isinstance(node, (exp.Pad,)) and _binary(node.this) and node.args.get("fill_pattern") is not None:
        name = "binary_lpad" if node.args.get("is_left") else "binary_rpad"
        return fill(name, node.this, node.expression, node.args["fill_pattern"])
    if type(node).__name__ in ("ToBase32", "FromBase32"):
        to = type(node).__name__ == "ToBase32"
        return fill("to_base32" if to else "from_base32", fill("base32_bits" if to else "from_base32_bits", node.this))
    if isinstance(node, exp.SHA):
        return fill("sha1", node.this)
    if isinstance(node, exp.SHA2Digest):
        length = node.args.get("length")
        if length is not None and str(length.this) not in ("256",):
            raise AthenaQueryError("FUNCTION_NOT_FOUND", f"{at(*node_position(node))}Function 'sha{length.this}' "
                                                         "not registered")
        return fill("sha256", node.this)
    if isinstance(node, exp.RegexpExtract):
        return _regexp_extract(node)
    if isinstance(node, exp.RegexpReplace):
        return _regexp_replace(node)
    if isinstance(node, exp.JSONValue):
        _strip_path_mode(node.args.get("path"))
        return None
    if isinstance(node, exp.JSONExtract):
        _strip_path_mode(node.expression)
        return fill("varchar", node) if node.args.get("json_query") else None
    if isinstance(node, exp.JSONExtractScalar):
        return fill("json_extract_scalar", node.this, node.expression)
    if isinstance(node, exp.JSONArrayContains):
        return fill("json_array_contains", node.this, node.expression)
    if isinstance(node, exp.JSONObject):
        return fill("varchar", node)
    if isinstance(node, exp.ArrayMax):
        return fill("array_max", node.this)
    if isinstance(node, exp.ArrayMin):
        return fill("array_min", node.this)
    if isinstance(node, exp.ArrayPosition):
        return fill("array_position", node.this, node.expression)
    if isinstance(node, exp.ArraySort) and node.expression is not None:
        return _array_sort(node)
    if isinstance(node, exp.ArrayContains):
        return fill("contains", node.this, node.expression)
    if isinstance(node, exp.ArrayExcept):
        return fill("array_except", node.this, node.expression)
    if isinstance(node, exp.Repeat):  # Trino's repeat makes an array (it has no string repeat)
        return fill("repeat", node.this, node.args["times"])
    if isinstance(node, exp.Reverse) and _type(node.this) == T.ARRAY:
        return fill("list_reverse", node.this)
    if isinstance(node, exp.GenerateSeries):
        return _generate_series(node)
    return None


def _array_set(name: str) -> Callable[[exp.Anonymous, list[exp.Expression]], exp.Expression]:
    def handle(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression:
        if name == "array_union":
            return fill("ordered_distinct", exp.Anonymous(this="list_concat", expressions=args))
        return fill(name, *args)
    return handle


def _regexp_position(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression:
    start = args[2] if len(args) > 2 else exp.Literal.number(1)
    occurrence = args[3] if len(args) > 3 else exp.Literal.number(1)
    return fill("regexp_position", args[0], args[1], start, occurrence)


def _matches(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression | None:
    if len(args) != 2:
        return None
    mapped = exp.Anonymous(this="list_transform", expressions=args)
    return fill(str(node.this).lower(), mapped)


def _json_exists(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression | None:
    if len(args) == 2:
        _strip_path_mode(args[1])
    return None


def _json_array(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression:
    return fill("varchar", exp.Anonymous(this="json_array", expressions=args))


def _shift(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression | None:
    if len(args) != 2:
        return None
    shifted = fill(str(node.this).lower(), *args)
    value_type = getattr(args[0], "type", None)
    if value_type is not None and value_type.this in (T.TINYINT, T.SMALLINT, T.INT):
        return exp.Cast(this=shifted, to=value_type.copy())  # [same as value]
    return shifted


def _cosine_similarity(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression | None:
    """cosine_similarity of two sparse vectors (maps); Trino's array form came after engine v3."""
    if len(args) == 2 and all(_type(a) != T.ARRAY and not isinstance(a, exp.Array) for a in args):
        return fill("cosine_similarity", *args)
    raise AthenaQueryError("FUNCTION_NOT_FOUND", f"{at(*node_position(node))}Unexpected parameters for function "
                                                 "cosine_similarity. Expected: cosine_similarity(map(varchar,double), "
                                                 "map(varchar,double))")


def _reduce_agg(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression | None:
    """reduce_agg(value, initial, input, combine): the input function folded over the group's non-null values."""
    if len(args) != 4:
        return None
    state, value = exp.column("__wr_s"), exp.column("__wr_v")
    body = trino_lambdas.inline(args[2], [state, value])
    if body is None:
        return None
    values = exp.Anonymous(this="list_filter", expressions=[
        exp.Anonymous(this="list", expressions=[args[0]]),
        exp.Lambda(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())),
                   expressions=[exp.to_identifier("__wr_v")])])
    return exp.Anonymous(this="list_reduce", expressions=[
        values, exp.Lambda(this=body, expressions=[exp.to_identifier("__wr_s"), exp.to_identifier("__wr_v")]), args[1]])


def _ieee754(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression | None:
    """from_/to_ieee754_32/64: the bits computed with integer arithmetic (DuckDB cannot reinterpret them)."""
    name = str(node.this).lower()
    if len(args) != 1:
        return None
    wide = name.endswith("64")
    if name.startswith("from_"):
        bits = fill("from_big_endian_64" if wide else "from_big_endian_32", args[0])
        return fill("ieee754_decode64" if wide else "ieee754_decode32", bits)
    value = exp.Cast(this=args[0], to=exp.DataType.build("DOUBLE"))
    mantissa, bias, exponent_bits = (52, 1023, 11) if wide else (23, 127, 8)
    number = exp.Literal.number
    encoded = fill("ieee754_encode", value, fill("ieee754_exponent", value), number(mantissa), number(bias),
                   number(1 - bias), number(exponent_bits))
    return fill("ieee754_bytes64" if wide else "ieee754_bytes32", encoded)


def _combinations(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression | None:
    """combinations(array, n) for a literal n (Trino allows at most 5): n nested index loops, in Trino's order."""
    if len(args) != 2 or not isinstance(args[1], exp.Literal) or args[1].is_string:
        return None
    n = int(str(args[1].this))
    if not 0 <= n <= 5:
        raise AthenaQueryError("INVALID_FUNCTION_ARGUMENT", f"{at(*node_position(node))}combination size must not "
                                                            "exceed 5")
    items = args[0]
    names = [f"__wr_c{k}" for k in range(n)]
    size = exp.Anonymous(this="len", expressions=[items.copy()])
    body: exp.Expression = exp.Array(expressions=[
        exp.Anonymous(this="list_extract", expressions=[items.copy(), exp.column(name)]) for name in names])
    for depth in reversed(range(n)):
        start = exp.Literal.number(1) if depth == 0 else exp.Add(this=exp.column(names[depth - 1]),
                                                                   expression=exp.Literal.number(1))
        indexes = exp.Anonymous(this="range", expressions=[start, exp.Add(this=size.copy(),
                                                                          expression=exp.Literal.number(1))])
        mapped = exp.Anonymous(this="list_transform", expressions=[
            indexes, exp.Lambda(this=body, expressions=[exp.to_identifier(names[depth])])])
        body = mapped if depth == n - 1 else exp.Anonymous(this="flatten", expressions=[mapped])
    return body if n else exp.Array(expressions=[exp.Array(expressions=[])])


def _format_number(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression | None:
    """format_number(x): Trino's unit symbols (K, M, B, T, Q) and three significant digits, rounded half up."""
    if len(args) != 1:
        return None
    value = exp.Cast(this=exp.Anonymous(this="trunc", expressions=[args[0]]), to=exp.DataType.build("BIGINT"))
    unit = fill("format_number_unit", value)
    return fill("format_number", value, unit, fill("format_number_value", value, unit))


def _at_timezone(node: exp.Anonymous, args: list[exp.Expression]) -> exp.Expression:
    return fill("timestamptz", args[0])


_BY_NAME: dict[str, Callable[[exp.Anonymous, list[exp.Expression]], exp.Expression | None]] = {
    "array_union": _array_set("array_union"),
    "regexp_position": _regexp_position,
    "all_match": _matches, "any_match": _matches, "none_match": _matches,
    "json_exists": _json_exists,
    "json_array": _json_array,
    "at_timezone": _at_timezone,
    "with_timezone": lambda node, args: fill("with_timezone", *args),
    "cosine_similarity": _cosine_similarity,
    "reduce_agg": _reduce_agg,
    "format_number": _format_number,
    "to_base32": lambda node, args: fill("to_base32", fill("base32_bits", *args)) if len(args) == 1 else None,
    "from_base32": lambda node, args: fill("from_base32", fill("from_base32_bits", *args)) if len(args) == 1 else None,
    "combinations": _combinations,
    "wilson_interval_lower": lambda node, args: fill("wilson_lower", *args) if len(args) == 3 else None,
    "wilson_interval_upper": lambda node, args: fill("wilson_upper", *args) if len(args) == 3 else None,
    "from_ieee754_32": _ieee754, "from_ieee754_64": _ieee754, "to_ieee754_32": _ieee754, "to_ieee754_64": _ieee754,
    "every": lambda node, args: exp.Anonymous(this="bool_and", expressions=args),
    "bitwise_left_shift": _shift, "bitwise_right_shift": _shift, "bitwise_right_shift_arithmetic": _shift,
    "map_entries": lambda node, args: fill("map_entries", *args) if len(args) == 1 else None,
}


# the node classes a rewrite may apply to; any other node (columns, identifiers, literals ...) costs one
# dictionary lookup
_HANDLED = (exp.Anonymous, exp.Cast, exp.Struct, exp.Cbrt, exp.Sign, exp.WidthBucket, exp.Split, exp.SplitPart,
            exp.StrToMap, exp.StrPosition, exp.Normalize, exp.CurrentTimezone, exp.DateDiff, exp.Format, exp.Typeof,
            exp.FromISO8601Date, exp.Decode, exp.Concat, exp.DPipe, exp.BitwiseAnd, exp.BitwiseOr, exp.BitwiseXor,
            exp.BitwiseNot, exp.Add, exp.Sub, exp.BitwiseAndAgg, exp.BitwiseOrAgg, exp.BitwiseXorAgg, exp.Length,
            exp.Substring, exp.Reverse, exp.Pad, exp.SHA, exp.SHA2Digest, exp.RegexpExtract, exp.RegexpReplace,
            exp.JSONValue, exp.JSONExtract, exp.JSONExtractScalar, exp.JSONArrayContains, exp.JSONObject,
            exp.ArrayMax, exp.ArrayMin, exp.ArrayPosition, exp.ArraySort, exp.ArrayContains, exp.ArrayExcept,
            exp.Repeat, exp.GenerateSeries, *_LATER, *_TYPED_TEMPLATES)
_RELEVANT: dict[type, bool] = {}


def _relevant(cls: type) -> bool:
    known = _RELEVANT.get(cls)
    if known is None:
        known = _RELEVANT[cls] = issubclass(cls, _HANDLED) or cls.__name__ in ("ToBase32", "FromBase32")
    return known


def rewrite(node: exp.Expression) -> exp.Expression | None:
    """The DuckDB expression giving Trino's result for ``node``, or None to leave it to the transpiler."""
    if isinstance(node, (*java_regex.NODES, exp.Anonymous)):
        java = java_regex.rewrite(node)
        if java is not None:
            return java
    if not _relevant(type(node)):
        return None
    if isinstance(node, exp.Anonymous):
        check_known(node)
        return _anonymous(node)
    if isinstance(node, exp.Func) and type(node) in _TYPED_TEMPLATES:
        args = [node.args[key] for key in node.arg_types if node.args.get(key) is not None]
        return fill(_TYPED_TEMPLATES[type(node)], *args)
    return _by_type(node)
