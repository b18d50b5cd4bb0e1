from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stack import LocalStack, started_stack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """One endpoint for the whole session, infrastructure not deployed."""
    yield from started_stack(tmp_path_factory.mktemp("stack"), ["--no-deploy"])
