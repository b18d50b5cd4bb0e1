"""Columns of text tables as DuckDB expressions, read the way Athena (Trino's Hive formats) reads them.

LazySimpleSerDe (``ROW FORMAT DELIMITED``): a column's text is split by the separator of its nesting
level. Separator 0 is the field delimiter, 1 ``collection.delim`` (\\u0002), 2 ``mapkey.delim``
(\\u0003), then \\u0004 … \\u0008 (24 levels with ``hive.serialization.extend.nesting.levels``). A
type at depth d splits its items on separator d+1; a map splits entries on d+1 and each entry at the
first d+2; the elements of an array and the fields of a struct sit at depth d+1, map keys and values at
d+2. An item equal to ``serialization.null.format`` is NULL; an empty array/map field is empty; a struct
takes its fields in declaration order (missing ones NULL, extra ones ignored); a map drops NULL keys
and keeps the first of duplicate keys; an element that does not parse as its type is NULL.

JSON SerDes (OpenX, Hive): arrays, objects as maps (the last of duplicate keys wins) and as structs
(field names matched case-insensitively), nested to any depth. OpenX also reads a scalar where an
array is declared as a one-element array, "" as a NULL array, and a JSON array as a struct by position.

Everything is vectorised SQL (string_split, list_transform, map_from_entries, json_*): no Python per row.

Known differences: with ``escape.delim`` the reader unescapes a field before it is split, so an escaped
collection or map-key delimiter splits like an unescaped one; where the JSON SerDes fail a query (a number
that does not parse in the Hive SerDe, an object where a scalar is declared) the value is NULL here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from localaws.athena.errors import AthenaQueryError
from localaws.athena.types import HiveType

# Trino's TextEncodingOptions: the default separators, by nesting level
_SEPARATORS = (1, 2, 3, 4, 5, 6, 7, 8, 11, *range(14, 27), 28, 29)
LEGACY_LEVELS = 8
EXTENDED_LEVELS = 24
EXTENDED_PROPERTY = "hive.serialization.extend.nesting.levels"
COMPLEX = ("array", "map", "struct")
_INTEGERS = ("tinyint", "smallint", "int", "integer", "bigint")
_STRINGS = ("string", "varchar", "char")


def _str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def separator(value: str | None, default: str) -> str:
    """A delimiter property as Hive reads it: a number is a byte value ("1" is \\u0001), anything else
    stands for its first character."""
    if not value:
        return default
    try:
        code = int(value)
    except ValueError:
        return value[0]
    if not -128 <= code <= 127:
        return value[0]  # Byte.parseByte fails: the first character
    if code < 0:
        raise AthenaQueryError("NOT_SUPPORTED", f"Delimiter byte {code} is not a character the local engine can "
                                                "split text on")
    return chr(code)


@dataclass(frozen=True)
class Delimiters:
    """The separators of each nesting level and the NULL sequence of a LazySimpleSerDe table."""

    separators: tuple[str, ...]
    null_sequence: str = "\\N"

    @staticmethod
    def of(serde_params: dict[str, str], table_params: dict[str, str] | None = None) -> Delimiters:
        params = {**(table_params or {}), **serde_params}
        field = separator(params.get("field.delim") or params.get("serialization.format"), "\x01")
        # Hive 1.x spells the collection delimiter "colelction.delim" (HIVE-16922)
        collection = separator(params.get("collection.delim") or params.get("colelction.delim"), "\x02")
        map_key = separator(params.get("mapkey.delim"), "\x03")
        extended = params.get(EXTENDED_PROPERTY, "").lower() == "true"
        levels = EXTENDED_LEVELS if extended else LEGACY_LEVELS
        rest = tuple(chr(code) for code in _SEPARATORS[3:levels])
        return Delimiters((field, collection, map_key, *rest), params.get("serialization.null.format", "\\N"))

    @property
    def levels(self) -> int:
        return len(self.separators)


class _Names:
    """Fresh lambda parameter names (nested lambdas must not shadow one another)."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def __call__(self) -> str:
        return f"__wr_l{next(self._counter)}"

    def bind(self, expression: str, build: Callable[[str], str]) -> str:
        """``build(expression)``, with the expression evaluated once and named when it is not a plain name
        (a complex value refers to its input many times: nested levels would multiply the SQL)."""
        if _NAME.fullmatch(expression):
            return build(expression)
        name = self()
        return f"list_transform([{expression}], lambda {name}: {build(name)})[1]"


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# ---------------------------------------------------------------------------------------------
# scalars from text (LazySimpleSerDe items, JSON values as text, JSON map keys)
# ---------------------------------------------------------------------------------------------
def text_scalar(text: str, hive: HiveType) -> str:
    """A scalar of a delimited text item, as Trino's text encodings parse it; NULL when it does not parse."""
    name, duck = hive.name, hive.duck()
    if name in _STRINGS:
        return f"left({text}, {hive.precision})" if name == "varchar" and hive.precision else text
    if name in _INTEGERS:
        # Trino's LongEncoding: an optional sign, digits, an ignored fraction of digits; nothing else
        return (f"CASE WHEN regexp_full_match({text}, '[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]*)') THEN "
                f"TRY_CAST(regexp_replace(split_part({text}, '.', 1), '^([+-]?)$', '\\10') AS {duck}) END")
    if name == "boolean":
        return f"CASE lower({text}) WHEN 'true' THEN true WHEN 'false' THEN false END"
    if name == "binary":
        return f"COALESCE(TRY(from_base64({text})), encode({text}))"
    return f"TRY_CAST({text} AS {duck})"


def json_scalar(text: str, hive: HiveType) -> str:
    """A scalar of a JSON value's text, as the JSON SerDes coerce it; NULL when it does not parse."""
    name, duck = hive.name, hive.duck()
    if name in _STRINGS:
        return f"left({text}, {hive.precision})" if name == "varchar" and hive.precision else text
    if name in _INTEGERS:  # integral part of any number (1.9 -> 1), out of range -> NULL
        return f"TRY_CAST(trunc(TRY_CAST({text} AS DECIMAL(38, 10))) AS {duck})"
    if name == "boolean":  # Java's Boolean.parseBoolean
        return f"(lower({text}) = 'true')"
    if name == "timestamp":
        return f"COALESCE(TRY_CAST({text} AS TIMESTAMP), epoch_ms(TRY_CAST({text} AS BIGINT)))"
    if name == "binary":
        return f"TRY(from_base64({text}))"
    return f"TRY_CAST({text} AS {duck})"


# ---------------------------------------------------------------------------------------------
# LazySimpleSerDe
# ---------------------------------------------------------------------------------------------
class DelimitedColumn:
    """The expression reading one column of a LazySimpleSerDe table from its text."""

    def __init__(self, delimiters: Delimiters, type_text: str) -> None:
        self.delimiters = delimiters
        self.type_text = type_text
        self.names = _Names()

    def _separator(self, index: int) -> str:
        if index >= self.delimiters.levels:
            top = HiveType.parse(self.type_text)
            hint = "" if self.delimiters.levels >= EXTENDED_LEVELS else \
                f", which can be enabled with the {EXTENDED_PROPERTY} table property"
            raise AthenaQueryError("NOT_SUPPORTED", f"Type {top.trino()} requires {index} nesting levels{hint}")
        return _str(self.delimiters.separators[index])

    def item(self, text: str, hive: HiveType, depth: int) -> str:
        """An item that may be the NULL sequence."""
        null = _str(self.delimiters.null_sequence)
        if hive.name in COMPLEX:
            return self.names.bind(text, lambda t: f"CASE WHEN {t} = {null} THEN NULL ELSE "
                                                   f"{self.value(t, hive, depth)} END")
        return f"CASE WHEN {text} = {null} THEN NULL ELSE {self.value(text, hive, depth)} END"

    def value(self, text: str, hive: HiveType, depth: int) -> str:
        """A value (not the NULL sequence) of type ``hive`` at nesting ``depth``."""
        if hive.name in COMPLEX and not _NAME.fullmatch(text):
            return self.names.bind(text, lambda t: self.value(t, hive, depth))
        duck = hive.duck()
        if hive.name == "array":
            element = hive.children[0][1]
            sep = self._separator(depth + 1)
            e = self.names()
            return (f"CASE WHEN {text} = '' THEN CAST([] AS {duck}) ELSE CAST(list_transform(string_split({text}, "
                    f"{sep}), lambda {e}: {self.item(e, element, depth + 1)}) AS {duck}) END")
        if hive.name == "map":
            (_, key_type), (_, value_type) = hive.children
            entries_sep, key_sep = self._separator(depth + 1), self._separator(depth + 2)
            e, entries, t, i, u = self.names(), self.names(), self.names(), self.names(), self.names()
            key = self.item(f"split_part({e}, {key_sep}, 1)", key_type, depth + 2)
            value = (f"CASE WHEN strpos({e}, {key_sep}) > 0 THEN "
                     f"{self.item(f'substr({e}, strpos({e}, {key_sep}) + 1)', value_type, depth + 2)} END")
            pairs = f"list_transform(string_split({text}, {entries_sep}), lambda {e}: {{'k': {key}, 'v': {value}}})"
            # NULL keys are dropped and the first of equal keys is kept (Trino's DistinctMapKeys)
            first = (f"list_filter({entries}, lambda {t}, {i}: {t}.k IS NOT NULL AND "
                     f"list_position(list_transform({entries}, lambda {u}: {u}.k), {t}.k) = {i})")
            return (f"CASE WHEN {text} = '' THEN CAST(MAP {{}} AS {duck}) ELSE CAST(list_transform([{pairs}], "
                    f"lambda {entries}: map_from_entries({first}))[1] AS {duck}) END")
        if hive.name == "struct":
            sep = self._separator(depth + 1)
            parts = self.names()
            fields = ", ".join(f"{_str(name)}: {self.item(f'{parts}[{n}]', child, depth + 1)}"
                               for n, (name, child) in enumerate(hive.children, start=1))
            return (f"CASE WHEN {text} IS NOT NULL THEN CAST(list_transform([string_split({text}, {sep})], "
                    f"lambda {parts}: {{{fields}}})[1] AS {duck}) END")
        return text_scalar(text, hive)


    def text(self, value: str, hive: HiveType, depth: int) -> str:
        """The inverse: the LazySimpleSerDe text of a non-NULL ``value`` (as Trino's text encodings write it)."""
        if hive.name in COMPLEX and not _NAME.fullmatch(value):
            return self.names.bind(value, lambda v: self.text(v, hive, depth))
        null = _str(self.delimiters.null_sequence)
        if hive.name == "array":
            e = self.names()
            element = f"COALESCE({self.text(e, hive.children[0][1], depth + 1)}, {null})"
            return f"array_to_string(list_transform({value}, lambda {e}: {element}), {self._separator(depth + 1)})"
        if hive.name == "map":
            (_, key_type), (_, value_type) = hive.children
            e = self.names()
            entry = (f"{self.text(f'{e}.key', key_type, depth + 2)} || {self._separator(depth + 2)} || "
                     f"COALESCE({self.text(f'{e}.value', value_type, depth + 2)}, {null})")
            return (f"array_to_string(list_transform(map_entries({value}), lambda {e}: {entry}), "
                    f"{self._separator(depth + 1)})")
        if hive.name == "struct":
            fields = [f"COALESCE({self.text(f'struct_extract({value}, {_str(name)})', child, depth + 1)}, {null})"
                      for name, child in hive.children]
            joined = f"concat_ws({self._separator(depth + 1)}, {', '.join(fields)})"
            return f"CASE WHEN {value} IS NOT NULL THEN {joined} END"
        if hive.name == "boolean":
            return f"CASE WHEN {value} THEN 'true' WHEN NOT {value} THEN 'false' END"
        if hive.name == "timestamp":
            return f"strftime({value}, '%Y-%m-%d %H:%M:%S.%g')"
        if hive.name == "binary":
            return f"to_base64({value})"
        return f"CAST({value} AS VARCHAR)"


def delimited_text(value: str, type_text: str, delimiters: Delimiters) -> str:
    """The LazySimpleSerDe text of a column's ``value`` (NULL stays NULL: the writer puts the NULL sequence),
    with the separators ``delimited_column`` splits it on: what a TEXTFILE table's writer should write for
    arrays, maps and structs."""
    hive = HiveType.parse(type_text)
    return f"CASE WHEN {value} IS NOT NULL THEN {DelimitedColumn(delimiters, type_text).text(value, hive, 0)} END"


def delimited_column(raw: str, type_text: str, delimiters: Delimiters) -> str:
    """A LazySimpleSerDe column from ``raw`` (its text, NULL for the NULL sequence or a missing field)."""
    hive = HiveType.parse(type_text)
    return DelimitedColumn(delimiters, type_text).value(raw, hive, 0)


# ---------------------------------------------------------------------------------------------
# JSON SerDes
# ---------------------------------------------------------------------------------------------
def _json_path(key: str) -> str:
    """The JSONPath of an object key held in the SQL expression ``key``."""
    return f"""'$."' || replace({key}, '"', '\\"') || '"'"""


class JsonColumn:
    """The expression reading a JSON value (an expression of type JSON, NULL when absent) as a column type."""

    def __init__(self, openx: bool, case_insensitive: bool = True) -> None:
        self.openx = openx
        self.case_insensitive = case_insensitive
        self.names = _Names()

    def value(self, json: str, hive: HiveType) -> str:
        if hive.name in COMPLEX and not _NAME.fullmatch(json):
            return self.names.bind(json, lambda j: self.value(j, hive))
        duck = hive.duck()
        null = f"{json} IS NULL OR json_type({json}) = 'NULL'"
        if hive.name == "array":
            e = self.names()
            items = f"list_transform(CAST({json} AS JSON[]), lambda {e}: {self.value(e, hive.children[0][1])})"
            if self.openx:  # "" is NULL; any other non-array is a one-element array
                single = (f"CASE WHEN json_type({json}) = 'VARCHAR' AND ({json} ->> '$') = '' THEN NULL "
                          f"ELSE [{self.value(json, hive.children[0][1])}] END")
            else:
                single = "NULL"
            return (f"CAST(CASE WHEN {null} THEN NULL WHEN json_type({json}) = 'ARRAY' THEN {items} "
                    f"ELSE {single} END AS {duck})")
        if hive.name == "map":
            (_, key_type), (_, value_type) = hive.children
            k, entries, t, i, u = self.names(), self.names(), self.names(), self.names(), self.names()
            value = self.value(f"json_extract({json}, {_json_path(k)})", value_type)
            pairs = f"list_transform(json_keys({json}), lambda {k}: {{'k': {json_scalar(k, key_type)}, 'v': {value}}})"
            # NULL keys are dropped and the last of equal keys wins (DistinctMapKeys(…, true))
            last = (f"list_filter({entries}, lambda {t}, {i}: {t}.k IS NOT NULL AND NOT list_contains("
                    f"list_slice(list_transform({entries}, lambda {u}: {u}.k), {i} + 1, len({entries})), {t}.k))")
            return (f"CAST(CASE WHEN json_type({json}) = 'OBJECT' THEN list_transform([{pairs}], "
                    f"lambda {entries}: map_from_entries({last}))[1] END AS {duck})")
        if hive.name == "struct":
            keys = self.names()
            fields = []
            for position, (name, child) in enumerate(hive.children, start=1):
                k = self.names()
                match = f"lower({k}) = {_str(name.lower())}" if self.case_insensitive else f"{k} = {_str(name)}"
                found = f"list_filter({keys}, lambda {k}: {match})[-1]"
                member = f"json_extract({json}, {_json_path(found)})"
                if self.openx:  # a JSON array is a struct by position
                    member = (f"CASE WHEN json_type({json}) = 'ARRAY' THEN json_extract({json}, '$[{position - 1}]') "
                              f"ELSE {member} END")
                fields.append(f"{_str(name)}: {self.value(member, child)}")
            shapes = "('OBJECT', 'ARRAY')" if self.openx else "('OBJECT')"
            row = f"list_transform([json_keys({json})], lambda {keys}: {{{', '.join(fields)}}})[1]"
            blank = (f"WHEN json_type({json}) = 'VARCHAR' AND trim({json} ->> '$') = '' THEN "
                     f"CAST({{{', '.join(f'{_str(n)}: NULL' for n, _ in hive.children)}}} AS {duck}) "
                     if self.openx else "")
            return f"CAST(CASE WHEN json_type({json}) IN {shapes} THEN {row} {blank}END AS {duck})"
        return json_scalar(f"({json} ->> '$')", hive)


def json_column(value: str, type_text: str, openx: bool, case_insensitive: bool = True) -> str:
    """A JSON SerDe column from ``value`` (the JSON of its key, NULL when the key is absent)."""
    return JsonColumn(openx, case_insensitive).value(value, HiveType.parse(type_text))
