"""Compare two sets of per-unicorn, per-window aggregates (pure: no I/O).

Keys are (Name, window start as ``YYYY-MM-DD HH:MM:SS.fff``). For every key:

- only in the archive → ``missing`` (DynamoDB lacks the item);
- only in DynamoDB → ``extra`` (an item the archive does not support);
- in both, a field differs → ``differs`` (Distance to floating-point tolerance, every other field exactly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIELDS = ("Distance", "MinHealthPoints", "MaxHealthPoints", "MinMagicPoints", "MaxMagicPoints", "RecordCount")
EXACT_FIELDS = FIELDS[1:]
# Both sides sum the same doubles in different orders (DynamoDB holds the correctly rounded sum);
# allow a few ulps per record, and never less than a micrometre.
DISTANCE_REL_TOL = 1e-9
DISTANCE_ABS_TOL = 1e-6

Key = tuple[str, str]
Aggregate = Mapping[str, Any]


@dataclass(frozen=True)
class Mismatch:
    kind: str  # missing / extra / differs
    name: str
    window: str
    fields: tuple[str, ...] = ()
    archive: dict[str, Any] | None = None
    dynamodb: dict[str, Any] | None = None

    def row(self) -> dict[str, str]:
        def show(side: dict[str, Any] | None) -> str:
            if side is None:
                return "—"
            shown = self.fields or FIELDS
            return ", ".join(f"{f}={side.get(f)}" for f in shown)

        return {"kind": self.kind, "unicorn": self.name, "window": self.window,
                "fields": ", ".join(self.fields) or "all", "archive": show(self.archive),
                "dynamodb": show(self.dynamodb)}


@dataclass
class Reconciliation:
    archive_windows: int = 0
    dynamodb_items: int = 0
    matched: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for m in self.mismatches if m.kind == kind)

    @property
    def passed(self) -> bool:
        return not self.mismatches


def distance_equal(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=DISTANCE_REL_TOL, abs_tol=DISTANCE_ABS_TOL)


def differing_fields(archive: Aggregate, dynamodb: Aggregate) -> tuple[str, ...]:
    out = []
    if not distance_equal(float(archive["Distance"]), float(dynamodb["Distance"])):
        out.append("Distance")
    out.extend(f for f in EXACT_FIELDS if int(archive[f]) != int(dynamodb[f]))
    return tuple(out)


def reconcile(archive: Mapping[Key, Aggregate], dynamodb: Mapping[Key, Aggregate]) -> Reconciliation:
    """Mismatches come sorted by key (only they are sorted: a clean hour has none)."""
    result = Reconciliation(archive_windows=len(archive), dynamodb_items=len(dynamodb))
    found: list[tuple[Key, Mismatch]] = []
    for key, mine in archive.items():
        theirs = dynamodb.get(key)
        if theirs is None:
            found.append((key, Mismatch("missing", key[0], key[1], archive=dict(mine))))
            continue
        fields = differing_fields(mine, theirs)
        if fields:
            found.append((key, Mismatch("differs", key[0], key[1], fields, dict(mine), dict(theirs))))
        else:
            result.matched += 1
    found.extend((key, Mismatch("extra", key[0], key[1], dynamodb=dict(theirs)))
                 for key, theirs in dynamodb.items() if key not in archive)
    found.sort(key=lambda pair: pair[0])
    result.mismatches = [mismatch for _, mismatch in found]
    return result
