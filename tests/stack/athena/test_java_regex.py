"""Java-only regex patterns (lookaround, backreferences) through the Athena API: each regexp_* function over
a table's rows, NULLs, and the errors Trino gives for a bad pattern or group (localaws/athena/java_regex.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.athena_stack import AthenaStack, athena_stack, failed, succeeded


@pytest.fixture(scope="module")
def athena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaStack]:
    yield from athena_stack(tmp_path_factory.mktemp("athena-java-regex"))


@pytest.fixture(scope="module")
def client(athena: AthenaStack) -> Any:
    return athena.client("athena")


@pytest.fixture(scope="module")
def words(client: Any) -> str:
    succeeded(client, "CREATE TABLE regex_words WITH (format = 'PARQUET') AS SELECT * FROM (VALUES "
                      "(1, 'price: 10 EUR, 20 USD'), (2, 'abab'), (3, CAST(NULL AS varchar))) AS t(id, s)")
    return "regex_words"


def test_each_function_runs_a_java_pattern_over_rows(client: Any, words: str) -> None:
    _, rows = succeeded(client, rf"""SELECT id, regexp_like(s, '^(ab)\1$'), regexp_extract(s, '\d+(?= USD)'),
        regexp_extract_all(s, '(?<=: |, )(\d+)', 1), regexp_replace(s, '(\d+)(?= EUR)', '<$1>'),
        regexp_count(s, '\d(?!\d)'), regexp_position(s, '(?<=\s)\d'), regexp_split(s, ',(?= )')
        FROM {words} ORDER BY id""")
    assert rows[1:] == [
        ["1", "false", "20", "[10, 20]", "price: <10> EUR, 20 USD", "2", "8", "[price: 10 EUR,  20 USD]"],
        ["2", "true", None, "[]", "abab", "0", "-1", "[abab]"],
        ["3", None, None, None, None, None, None, None],
    ]


def test_a_re2_pattern_still_runs_on_duckdb(client: Any) -> None:
    _, rows = succeeded(client, "SELECT regexp_extract('a1b22', '[0-9]+$'), regexp_like('x', '^\\p{L}$')")
    assert rows[1] == ["22", "true"]


def test_bad_java_patterns_and_groups_fail_as_trino_does(client: Any, words: str) -> None:
    assert failed(client, "SELECT regexp_like('a', '(?=a')").startswith(
        "INVALID_FUNCTION_ARGUMENT: Invalid regex pattern '(?=a'")
    assert failed(client, f"SELECT regexp_extract(s, '(?<=a)b', 2) FROM {words}") == (
        "INVALID_FUNCTION_ARGUMENT: Pattern has 0 groups. Cannot access group 2")
