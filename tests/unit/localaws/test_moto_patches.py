"""moto's server reads its package directory once, not on every request (localaws/moto/patches.py, item 10)."""

from __future__ import annotations

from collections.abc import Iterator

from moto import backends

from localaws.moto.patches import _listed_once


def test_the_module_list_is_read_once_and_answers_membership_as_before() -> None:
    reads = []

    def original() -> Iterator[str]:
        reads.append(1)
        yield from ("s3", "glue", "iam")

    listed = _listed_once(original)
    assert "s3" in listed()
    assert "glue" in listed()
    assert "kinesis" not in listed()
    assert reads == [1]


def test_the_cached_list_is_moto_s_own() -> None:
    original = backends.list_of_moto_modules
    assert _listed_once(original)() == frozenset(original())
    assert {"s3", "glue", "iam", "sts"} <= _listed_once(original)()
