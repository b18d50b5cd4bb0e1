"""Java's regex where RE2 falls short, and Trino's regexp_* semantics over it (localaws/athena/java_regex.py)."""

from __future__ import annotations

import re

import pytest

from localaws.athena import java_regex


@pytest.mark.parametrize(("pattern", "java"), [
    ("foo(?=bar)", True), ("foo(?!bar)", True), ("(?<=a)b", True), ("(?<!a)b", True), (r"^(ab)\1$", True),
    (r"(?<n>a)\k<n>", True), ("x(?>y)", True), ("a*+", True), ("a{2}+", True),
    (r"^\p{L}+ \p{L}+$", False), ("(?<n>a)", False), (r"[(?=]", False), (r"\(?=", False), (r"\\1", False),
    ("[a-z]+", False), ("a|b", False),
])
def test_which_patterns_need_java(pattern: str, java: bool) -> None:
    assert java_regex.needs_java(pattern) is java


def test_functions_follow_trinos_semantics() -> None:
    assert java_regex.like("foobar", "foo(?=bar)") and not java_regex.like("foobaz", "foo(?=bar)")
    assert java_regex.extract("a1b2", r"(?<=b)(\d)", 1) == "2"
    assert java_regex.extract("a1b2", r"(?<=c)\d") is None
    assert java_regex.extract_all("a1b2c3", r"(?<=[ab])\d") == ["1", "2"]
    assert java_regex.replace("abcabc", "(?<x>b)(?=c)", r"[${x}$1\$]") == "a[bb$]ca[bb$]c"
    assert java_regex.replace("aab", r"(a)\1") == "b"
    assert java_regex.count("aaaa", "a(?=a)") == 3
    assert java_regex.position("xaxa", "(?<=x)a", 1, 2) == 4 and java_regex.position("xa", "(?<=y)a") == -1
    assert java_regex.split("a1b2c", r"\d(?=[bc])") == ["a", "b", "c"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: java_regex.extract("ab", "(?=a)", 2), "Pattern has 0 groups. Cannot access group 2"),
    (lambda: java_regex.compiled("(?=a"), "Invalid regex pattern '(?=a'"),
    (lambda: java_regex.replace("ab", "(?=a)", "$"), "Illegal group reference"),
])
def test_bad_patterns_and_groups_are_errors(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()  # type: ignore[operator]
