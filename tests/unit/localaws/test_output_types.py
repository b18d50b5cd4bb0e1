"""Result column types DuckDB has no name for (localaws/athena/output_types.py) and how types.py reports them."""

from __future__ import annotations

import pytest
import sqlglot

from localaws.athena import output_types
from localaws.athena.types import athena_column_info


@pytest.mark.parametrize(("sql", "declared"), [
    ("CAST('ab' AS char(4))", "CHAR(4)"),
    ("CAST('ab' AS char)", "CHAR(1)"),
    ("INTERVAL '3' YEAR + INTERVAL '5' MONTH", "INTERVAL YEAR TO MONTH"),
    ("-(INTERVAL '1' YEAR) * 2", "INTERVAL YEAR TO MONTH"),
    ("INTERVAL '3' DAY", None),
    ("INTERVAL '3' YEAR + INTERVAL '5' DAY", None),
    ("CAST('ab' AS varchar(4))", None),
])
def test_declared_types_of_result_columns(sql: str, declared: str | None) -> None:
    query = sqlglot.parse_one(f"SELECT {sql} AS c, 1 AS d", read="athena")
    assert output_types.declared(query) == ([declared, None] if declared else [])


def test_declared_types_replace_duckdbs_and_read_as_athenas() -> None:
    assert output_types.apply(["VARCHAR", "INTEGER"], ["CHAR(4)", None]) == ["CHAR(4)", "INTEGER"]
    assert output_types.apply(["VARCHAR"], []) == ["VARCHAR"]
    char = athena_column_info("c", "CHAR(4)")
    assert (char["Type"], char["Precision"], char["CaseSensitive"]) == ("char", 4, True)
    assert athena_column_info("i", "INTERVAL YEAR TO MONTH")["Type"] == "interval year to month"
