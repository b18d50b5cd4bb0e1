"""Query result reuse (``ResultReuseConfiguration``), as Athena engine v3 has it.

A query that asks for reuse (``ResultReuseByAgeConfiguration.Enabled``) and finds an earlier successful
execution of the same query text, in the same workgroup, catalog and database, with the same execution
parameters and result configuration, completed no longer ago than ``MaxAgeInMinutes`` (default 60, at most
10080), is not run again: it succeeds at once with the earlier execution's result (its output location, its
columns and rows) and ``Statistics.ResultReuseInformation.ReusedPreviousResult`` true. As on AWS:

- the result location (and the rest of the result configuration) must be the earlier execution's, and a
  request that overrides its workgroup's result configuration (one not enforced) reuses nothing (AWS: "If
  you override the result configuration for the query, the feature is disabled");
- only SELECT statements reuse results (not DDL, CTAS, INSERT, UNLOAD, EXPLAIN ...);
- the newest matching result is used; a result whose object is gone from S3 is not reused;
- whether the tables the query read changed since is not checked (AWS: "Athena does not check if the
  source data has changed" until the maximum age).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localaws.athena.errors import RequestError
from localaws.athena.store import SUCCEEDED, QueryRecord, QueryStore

DEFAULT_MAX_AGE_MINUTES = 60
MAX_AGE_MINUTES = 10080  # 7 days
REUSABLE = ("SELECT",)  # the substatement types whose results are reused


@dataclass(frozen=True)
class ReuseRequest:
    enabled: bool
    max_age_minutes: int

    def echo(self) -> dict[str, Any]:
        """The ResultReuseConfiguration as GetQueryExecution reports it."""
        if not self.enabled:
            return {"ResultReuseByAgeConfiguration": {"Enabled": False}}
        return {"ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": self.max_age_minutes}}


def reuse_request(body: dict[str, Any]) -> ReuseRequest | None:
    """The request's ResultReuseConfiguration, validated as Athena validates it (None when not given)."""
    configuration = body.get("ResultReuseConfiguration")
    if configuration is None:
        return None
    by_age = configuration.get("ResultReuseByAgeConfiguration") if isinstance(configuration, dict) else None
    if not isinstance(by_age, dict) or not isinstance(by_age.get("Enabled"), bool):
        raise RequestError("InvalidRequestException",
                           "ResultReuseByAgeConfiguration.Enabled is required in ResultReuseConfiguration")
    minutes = by_age.get("MaxAgeInMinutes", DEFAULT_MAX_AGE_MINUTES)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= MAX_AGE_MINUTES:
        raise RequestError("InvalidRequestException",
                           f"MaxAgeInMinutes must be between 0 and {MAX_AGE_MINUTES}")
    return ReuseRequest(by_age["Enabled"], minutes)


def echo(configuration: dict[str, Any] | None) -> dict[str, Any]:
    if not configuration:
        return {"ResultReuseByAgeConfiguration": {"Enabled": False}}
    return ReuseRequest(bool(configuration.get("Enabled")),
                        int(configuration.get("MaxAgeInMinutes", DEFAULT_MAX_AGE_MINUTES))).echo()


def find_reusable(store: QueryStore, record: QueryRecord, request: ReuseRequest | None,
                  result_exists: Callable[[str], bool], results_dir: Path) -> QueryRecord | None:
    """The earlier execution whose result ``record`` (not yet stored) may reuse, if any.
    ``result_exists(output_location)`` tells whether the earlier result object is still in S3."""
    if request is None or not request.enabled or record.substatement_type not in REUSABLE:
        return None
    since = time.time() - request.max_age_minutes * 60
    previous = store.latest_success(record.query, record.workgroup, record.catalog or "",
                                    record.database or "", record.parameters, since)
    if previous is None or previous.result_configuration != record.result_configuration:
        return None
    if _folder(previous.output_location) != _folder(record.output_location):  # another result location
        return None
    if previous.result_rows and not (results_dir / f"{previous.id}.arrow").exists():
        return None
    if previous.output_location is None or not result_exists(previous.output_location):
        return None
    return previous


def _folder(url: str | None) -> str | None:
    return url.rsplit("/", 1)[0] if url else None


def reused_record(record: QueryRecord, previous: QueryRecord, results_dir: Path) -> QueryRecord:
    """``record`` answered with ``previous``'s result: SUCCEEDED, nothing scanned, the earlier output
    location, columns and rows (the local copy GetQueryResults pages from is linked to the new id)."""
    if previous.result_rows:
        source, target = results_dir / f"{previous.id}.arrow", results_dir / f"{record.id}.arrow"
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    record.state = SUCCEEDED
    record.started = time.time()
    record.reused = True
    record.output_location = previous.output_location
    record.statement_type = previous.statement_type
    record.substatement_type = previous.substatement_type
    record.columns = previous.columns
    record.result_rows = previous.result_rows
    record.header_row = previous.header_row
    record.update_count = previous.update_count
    record.scanned = 0
    record.engine_ms = 0
    record.planning_ms = 0
    record.processing_ms = 0
    record.completed = time.time()
    return record
