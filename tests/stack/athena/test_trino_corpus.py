"""Trino semantics, not DuckDB's: the examples of Trino's function documentation (trino_corpus/) run
through the local Athena API and compared with the documented result, as GetQueryResults writes it.

Each documented function is one test: its examples go in one SELECT (one column each) and, when that
fails, one query each, so a failure names the example. A function the engine does not have is refused
as Athena refuses it (FUNCTION_NOT_FOUND); a known difference is pinned at the local engine's current
output so that any change (a fix included) is noticed. The coverage test reports, per docs page, the
functions documented, supported, with known differences and refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.stack.athena.trino_corpus import PAGES, Example
from tests.support.athena_stack import AthenaStack, athena_stack, results, run_query

# supported (not refused) share of the documented functions: raise it as the engine grows, never lower it
MIN_SUPPORTED_SHARE = 0.909

Outcome = tuple[str | None, str | None]  # (VarCharValue, ColumnInfo Type); an error as ("ERROR: ...", None)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    athena: AthenaStack
    for athena in athena_stack(tmp_path_factory.mktemp("athena-trino-corpus")):
        yield athena.client("athena")


def _error(execution: dict[str, Any]) -> str:
    """A failure as ``ERROR: <Athena error name>`` (the message is DuckDB's wording, free to change)."""
    return "ERROR: " + str(execution["Status"].get("StateChangeReason", "")).split(":", 1)[0]


def _select(client: Any, expressions: list[str]) -> list[Outcome] | str:
    sql = "SELECT " + ", ".join(f"{expression} AS c{i}" for i, expression in enumerate(expressions))
    execution = run_query(client, sql)
    if execution["Status"]["State"] != "SUCCEEDED":
        return _error(execution)
    columns, rows = results(client, execution["QueryExecutionId"])
    assert len(rows) == 2, (sql, rows)
    return [(value, column["Type"]) for value, column in zip(rows[1], columns, strict=True)]


def outcomes(client: Any, expressions: list[str]) -> list[Outcome]:
    """What the local engine answers for each expression: in one query, or one by one if that fails."""
    together = _select(client, expressions)
    if not isinstance(together, str):
        return together
    out: list[Outcome] = []
    for expression in expressions:
        alone = _select(client, [expression])
        out.append((alone, None) if isinstance(alone, str) else alone[0])
    return out


def _cases() -> list[Any]:
    cases = []
    for page, module in PAGES.items():
        functions = dict.fromkeys(example[0] for example in module.EXAMPLES)
        cases += [pytest.param(page, function, id=f"{page}:{function}") for function in functions]
    return cases


@pytest.mark.parametrize(("page", "function"), _cases())
def test_documented_examples(client: Any, page: str, function: str) -> None:
    module = PAGES[page]
    examples: list[Example] = [e for e in module.EXAMPLES if e[0] == function]
    got = outcomes(client, [e[1] for e in examples])
    wrong = []
    for (_, expression, text, athena_type), (value, value_type) in zip(examples, got, strict=True):
        known = module.KNOWN_DIFFERENCES.get(expression)
        if known is not None:
            if (value, value_type) != (known[0], known[1]):
                wrong.append(f"{expression}: known difference changed: local {value!r} ({value_type}), recorded "
                             f"{known[0]!r} ({known[1]}), documented {text!r}")
        elif value != text or (athena_type is not None and value_type != athena_type):
            wrong.append(f"{expression}: local {value!r} ({value_type}), documented {text!r} ({athena_type})")
    assert not wrong, "\n".join(wrong)


def _unsupported() -> list[Any]:
    return [pytest.param(page, name, sample, id=f"{page}:{name}")
            for page, module in PAGES.items() for name, (sample, _) in module.UNSUPPORTED.items()]


@pytest.mark.parametrize(("page", "function", "sample"), _unsupported())
def test_unsupported_functions_are_refused_as_athena_refuses_them(client: Any, page: str, function: str,
                                                                   sample: str) -> None:
    execution = run_query(client, f"SELECT {sample}")
    status = execution["Status"]
    assert status["State"] == "FAILED", (sample, status)
    assert status["AthenaError"]["ErrorType"] == 1006, status
    assert re.fullmatch(rf"FUNCTION_NOT_FOUND: line 1:\d+: Function '{function}' not registered",
                        status["StateChangeReason"]), status["StateChangeReason"]


@pytest.mark.parametrize(("function", "sample"), [
    ("list_sum", "list_sum(ARRAY[1, 2])"), ("strftime", "strftime(current_date, '%Y')"), ("epoch_ms", "epoch_ms(1)"),
    ("regexp_matches", "regexp_matches('a', 'a')"), ("list_value", "list_value(1, 2)"),
])
def test_duckdb_only_functions_are_refused_as_athena_refuses_them(client: Any, function: str, sample: str) -> None:
    status = run_query(client, f"SELECT {sample}")["Status"]
    assert status["State"] == "FAILED", status
    assert status["StateChangeReason"] == f"FUNCTION_NOT_FOUND: line 1:8: Function '{function}' not registered"
    assert (status["AthenaError"]["ErrorCategory"], status["AthenaError"]["ErrorType"]) == (2, 1006)


def coverage() -> dict[str, dict[str, int]]:
    table = {}
    for page, module in PAGES.items():
        known = {e[0] for e in module.EXAMPLES if e[1] in module.KNOWN_DIFFERENCES}
        documented = len(module.DOCUMENTED)
        table[page] = {"documented": documented, "supported": documented - len(module.UNSUPPORTED),
                       "known_differences": len(known), "refused": len(module.UNSUPPORTED),
                       "examples": len(module.EXAMPLES)}
    return table


def test_the_corpus_covers_every_documented_function_and_reports_coverage() -> None:
    for page, module in PAGES.items():
        with_examples = {e[0] for e in module.EXAMPLES}
        assert len(set(module.DOCUMENTED)) == len(module.DOCUMENTED), page
        assert set(module.UNSUPPORTED) <= set(module.DOCUMENTED), (page, set(module.UNSUPPORTED) -
                                                                  set(module.DOCUMENTED))
        assert not with_examples & set(module.UNSUPPORTED), page
        assert with_examples | set(module.UNSUPPORTED) == set(module.DOCUMENTED), (
            page, set(module.DOCUMENTED) - with_examples - set(module.UNSUPPORTED),
            with_examples - set(module.DOCUMENTED))
        examples = {e[1] for e in module.EXAMPLES}
        assert set(module.KNOWN_DIFFERENCES) <= examples, (page, set(module.KNOWN_DIFFERENCES) - examples)
    table = coverage()
    documented = sum(row["documented"] for row in table.values())
    supported = sum(row["supported"] for row in table.values())
    print(f"\n{'page':<12} documented supported known-differences refused examples")
    for page, row in table.items():
        print(f"{page:<12} {row['documented']:>10} {row['supported']:>9} {row['known_differences']:>17} "
              f"{row['refused']:>7} {row['examples']:>8}")
    print(f"{'total':<12} {documented:>10} {supported:>9} ({supported / documented:.1%} supported)")
    assert supported / documented >= MIN_SUPPORTED_SHARE
