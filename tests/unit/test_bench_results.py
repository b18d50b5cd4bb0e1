"""Where a benchmark saves its result: beside the saved ones, never over one without ``--overwrite``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import pytest

from bench import RESULTS_DIR, add_result_options, commit_of, result_stem


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_result_options(parser)
    return parser.parse_args(list(argv))


def test_a_saved_result_is_not_overwritten_without_overwrite(capsys: pytest.CaptureFixture[str]) -> None:
    assert (RESULTS_DIR / "athena.json").exists()  # saved in the repository, quoted by the docs
    now = datetime(2026, 12, 8, 2, 30, 5, tzinfo=UTC)
    assert result_stem("athena", parse(), now) == "athena-20261208T023005Z"
    assert "athena is a saved result" in capsys.readouterr().err
    assert result_stem("athena", parse("--overwrite"), now) == "athena"


def test_a_tag_that_names_a_saved_result_is_refused_before_the_run() -> None:
    assert (RESULTS_DIR / "athena-session21-after-1.json").exists()
    with pytest.raises(SystemExit, match=r"athena-session21-after-1 is a saved result.*another --tag"):
        result_stem("athena", parse("--tag", "session21-after-1"))


def test_a_tag_saves_beside_and_a_smoke_run_is_never_a_saved_result() -> None:
    assert result_stem("athena", parse("--tag", "session22-after-1")) == "athena-session22-after-1"
    assert result_stem("athena-quick", parse()) == "athena-quick"


def test_a_tag_is_a_plain_file_name() -> None:
    for bad in ("../x", "a/b", "-x", "a b"):
        with pytest.raises(SystemExit):
            parse("--tag", bad)


def test_the_commit_line_says_when_the_tree_had_changes() -> None:
    assert commit_of({"commit": "abc1234", "uncommitted_changes": []}) == "`abc1234`"
    assert commit_of({"commit": "abc1234", "uncommitted_changes": ["bench/athena.py"]}) == (
        "`abc1234` **with uncommitted changes** to bench/athena.py")
    assert commit_of({}) == "`?`"
