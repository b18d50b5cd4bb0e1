"""The README is what a newcomer reads in five minutes; the docs say whom they are for; every link resolves
inside the repository."""

from __future__ import annotations

import re

from localaws.settings import REPO_ROOT

DOCS = sorted((REPO_ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_starts_with_the_two_commands_and_stays_short() -> None:
    lines = (REPO_ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    commands = [line.split("#")[0].strip() for line in lines[:8] if line.startswith("make ")]
    assert commands == ["make up", "make test"]


def test_each_doc_says_whom_it_is_for() -> None:
    assert {p.name for p in DOCS} >= {"architecture.md", "local-endpoint.md", "operations.md", "analysts.md",
                                       "aws.md", "benchmarks.md"}
    for doc in DOCS:
        first = doc.read_text().split("\n\n")[1]  # the paragraph under the title
        assert re.search(r"\b(for|For)\b", first), f"{doc.name} does not start by saying whom it is for"


def test_links_resolve_inside_the_repository() -> None:
    for page in [REPO_ROOT / "README.md", *DOCS]:
        text = page.read_text()
        assert "../shared" not in text, page.name
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            resolved = (page.parent / target).resolve()
            assert resolved.is_relative_to(REPO_ROOT) and resolved.exists(), f"{page.name}: {target}"
