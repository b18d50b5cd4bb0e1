"""Dagster's registration asset and the blocking reconciliation check under injected AWS faults (throttled
Glue, Athena and DynamoDB calls, S3 listings answered 503 SlowDown): they retry and succeed, and the
endpoint confirms that the faults were really injected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest

from tests.support.orchestration_stack import HistoryStack, environment, started_history_stack
from tests.support.stack import LocalStack

pytestmark = pytest.mark.faults

RULES = [
    ("glue", "*", "ThrottlingException", "0.3", "1"),
    ("athena", "*", "ThrottlingException", "0.2", "2"),
    ("s3", "ListObjectsV2", "ThrottlingException", "0.3", "3"),
    ("dynamodb", "Query", "ProvisionedThroughputExceededException", "0.3", "4"),
]


def faults(stack: LocalStack, *args: str) -> dict[str, Any]:
    """``wildrydes local faults ARGS`` against the stack; its JSON with ``--json``."""
    done = stack.cli("local", "faults", *args, "--data-dir", str(stack.data_dir))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else {}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HistoryStack]:
    yield from started_history_stack(tmp_path_factory.mktemp("orchestration-faults"), hours=1)


def test_registration_and_reconciliation_retry_through_injected_faults(loaded: HistoryStack) -> None:
    from orchestration.defs.archive.assets import raw_unicorn_status
    from orchestration.defs.quality.checks import archive_matches_dynamodb
    from tests.support.orchestration_stack import code_location_resources

    stack = loaded.stack
    for service, operation, error, probability, seed in RULES:
        faults(stack, "add", "--service", service, "--operation", operation, "--error", error,
               "--probability", probability, "--seed", seed)
    try:
        partition = loaded.hour_keys()[0]
        with environment(loaded.env):
            result = dg.materialize([raw_unicorn_status, archive_matches_dynamodb], partition_key=partition,
                                    resources=code_location_resources(), raise_on_error=False)
        rules = faults(stack, "list", "--json")["rules"]
    finally:
        faults(stack, "clear")
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    dt, hour = partition[:10], partition[11:13]
    glue = stack.client("glue")
    assert glue.get_partition(DatabaseName="wildrydes", TableName="unicorn_status", PartitionValues=[dt, hour])
    injected = {rule["service"]: rule["injected"] for rule in rules}
    assert all(injected[service] > 0 for service, *_ in RULES), injected


def test_a_query_athena_failed_as_retryable_is_run_again(loaded: HistoryStack) -> None:
    """Glue throttling every attempt of the engine's GetTable fails the query as Athena does
    (HIVE_METASTORE_ERROR, Retryable): the resource runs such a query again, up to its attempts, and runs a
    query failed for a user error (TABLE_NOT_FOUND, not Retryable) once."""
    from pyathena.error import OperationalError

    from orchestration.defs.platform.resources import AthenaResource

    stack = loaded.stack

    def runs(query: str, attempts: int) -> tuple[str, int]:
        """The error of the query and how many times it was started (a rule that never fails counts them)."""
        faults(stack, "add", "--service", "athena", "--operation", "StartQueryExecution",
               "--error", "ThrottlingException", "--probability", "0")
        with pytest.raises(OperationalError) as failed:
            AthenaResource(query_attempts=attempts).query_rows(query)
        [starts] = [r for r in faults(stack, "list", "--json")["rules"] if r["service"] == "athena"]
        faults(stack, "clear", "--id", starts["id"])
        assert starts["injected"] == 0
        return str(failed.value), starts["matched"]

    try:
        with environment(loaded.env):
            faults(stack, "add", "--service", "glue", "--operation", "GetTable", "--error", "ThrottlingException")
            # a text the engine has not prepared, so each run reads the table from Glue
            throttled = runs("SELECT count(*) AS n FROM unicorn_status WHERE name <> 'retried'", 3)
            faults(stack, "clear")
            missing = runs("SELECT 1 FROM no_such_table", 3)
    finally:
        faults(stack, "clear")
    assert throttled[0].startswith("HIVE_METASTORE_ERROR") and "Rate exceeded" in throttled[0]
    assert throttled[1] == 3
    assert "TABLE_NOT_FOUND" in missing[0] or "does not exist" in missing[0]
    assert missing[1] == 1
