"""Function names as written: a name Athena lacks is refused even where sqlglot reads it as one of its own
typed functions (localaws/athena/trino_names.py)."""

from __future__ import annotations

import pytest

from localaws.athena.errors import AthenaQueryError
from localaws.athena.syntax import tokens
from localaws.athena.trino_names import check_written


@pytest.mark.parametrize(("sql", "name", "where"), [
    ("SELECT array_length(ARRAY[1])", "array_length", "line 1:8"),
    ("SELECT 1,\n  ifnull(a, 2) FROM t", "ifnull", "line 2:3"),
    ("SELECT trunc(1.5)", "trunc", "line 1:8"),
])
def test_names_athena_lacks_are_refused_where_written(sql: str, name: str, where: str) -> None:
    with pytest.raises(AthenaQueryError) as raised:
        check_written(tokens(sql))
    assert str(raised.value) == f"FUNCTION_NOT_FOUND: {where}: Function '{name}' not registered"


@pytest.mark.parametrize("sql", [
    "SELECT cardinality(ARRAY[1]), CAST(1 AS char(4)), position('a' IN 'abc'), trim(' a ')",
    "SELECT x FROM (VALUES 1) AS t(x)",
    "INSERT INTO mode (a) VALUES (1)",
    "CREATE TABLE IF NOT EXISTS space (a int)",
    "SELECT grouping(a), listagg(b, ',') WITHIN GROUP (ORDER BY b) FROM db.t GROUP BY a",
])
def test_trino_syntax_and_table_names_are_not_calls(sql: str) -> None:
    check_written(tokens(sql))
