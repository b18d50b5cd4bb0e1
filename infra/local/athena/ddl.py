"""DDL and utility statements (placeholder, filled in below)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.local.athena.runner import Runner


class Ddl:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def handler(self, kind: str) -> Callable[..., Any] | None:
        return None
