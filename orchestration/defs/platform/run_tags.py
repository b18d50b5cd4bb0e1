"""Run tags the instance's run queue limits on.

dbt runs one at a time, everywhere: two dbt builds at once race on the same Athena tables. The first build of
an incremental model creates it (the second fails with ALREADY_EXISTS), and every later one goes through the same
``<model>__dbt_tmp`` table. Both dbt jobs carry the tag; the local instance (localaws/supervisor/dagster_home.py)
and the AWS one (infra/deploy/dagster_instance.py) queue a tagged run while another runs.
"""

DBT_RUNS_TAG = "wildrydes/dbt"
DBT_RUNS_VALUE = "athena"
DBT_RUNS_LIMIT = 1


def dbt_concurrency_limit() -> dict[str, str | int]:
    """The entry of ``run_queue.tag_concurrency_limits`` that keeps dbt to one run at a time."""
    return {"key": DBT_RUNS_TAG, "limit": DBT_RUNS_LIMIT}
