"""A Trino-semantics corpus: the examples of Trino's function documentation (one module per docs page,
plus examples of our own, marked as such, for documented functions the page gives none for), each with
the result Trino documents, as Athena's GetQueryResults writes it (VarCharValue text; NULL as None).

Every module defines
- ``DOCUMENTED``: the functions and operators the page documents (coverage is counted against it);
- ``EXAMPLES``: ``(function, expression, expected text, Athena column type or None)``;
- ``UNSUPPORTED``: ``{function: (sample expression, reason)}``, functions the local engine refuses
  with FUNCTION_NOT_FOUND, as Athena refuses a function it does not have;
- ``KNOWN_DIFFERENCES``: ``{expression: (local text, why)}``, examples whose local result differs
  from Trino's and is not fixed yet; the test pins the local text so any change is noticed.
"""

from __future__ import annotations

from types import ModuleType

from tests.stack.athena.trino_corpus import (
    aggregate,
    array,
    binary,
    bitwise,
    comparison,
    conditional,
    conversion,
    datetime,
    json,
    logical,
    map,
    math,
    regexp,
    string,
    url,
)

Example = tuple[str, str, str | None, str | None]
PAGES: dict[str, ModuleType] = {module.__name__.rsplit(".", 1)[1]: module for module in (
    math, string, datetime, conditional, conversion, comparison, logical, bitwise, binary, url, regexp, json, array,
    map, aggregate)}
