"""The latest Dagster runs, as the console shows them: asked of the webserver's GraphQL API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

RUNS = ("{ runsOrError(limit: 3) { ... on Runs { results { jobName status "
        "tags { key value } } } } }")


def latest_runs(url: str, timeout: float = 2.0) -> list[str]:
    """``register_and_reconcile_hour 2026-12-04-16:00 SUCCESS``, newest first; empty when Dagster does not
    answer (still loading, or stopped)."""
    request = urllib.request.Request(f"{url}/graphql", data=json.dumps({"query": RUNS}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return []
    runs = (((payload.get("data") or {}).get("runsOrError") or {}).get("results")) or []
    lines = []
    for run in runs:
        tags = {tag["key"]: tag["value"] for tag in run.get("tags") or []}
        partition = tags.get("dagster/partition")
        lines.append(" ".join(part for part in (run["jobName"], partition, run["status"]) if part))
    return lines
