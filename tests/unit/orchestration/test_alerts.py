"""The alert sensor on a real (ephemeral) Dagster instance: a failed run is an alert on platform/alerts, unless
the instance's run retries will run it again; then only its last failure is."""

from __future__ import annotations

import dagster as dg
from dagster._core.storage.tags import WILL_RETRY_TAG as DAGSTERS_TAG

from orchestration.defs.automation.alerts import WILL_RETRY_TAG, alert_on_failure
from orchestration.defs.platform import keys


@dg.op
def breaks() -> None:
    raise RuntimeError("the worker went away")


@dg.job
def failing() -> None:
    breaks()


def alerts_after_a_failure(will_retry: str | None) -> list[str]:
    instance = dg.DagsterInstance.ephemeral()
    result = failing.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    if will_retry is not None:
        instance.add_run_tags(result.run_id, {WILL_RETRY_TAG: will_retry})
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_failure", dagster_event=failure, dagster_instance=instance,
        dagster_run=result.dagster_run).for_run_failure()
    alert_on_failure(context)
    return [r.asset_observation.description for r in instance.fetch_observations(keys.ALERTS, limit=10).records]


def test_the_tag_is_dagsters_own() -> None:
    assert WILL_RETRY_TAG == DAGSTERS_TAG


def test_a_failed_run_is_an_alert() -> None:
    [alert] = alerts_after_a_failure(None)
    assert alert.startswith("ALERT: run ") and "of failing failed" in alert
    assert len(alerts_after_a_failure("false")) == 1  # its last retry failed too


def test_a_run_that_will_be_retried_is_not_an_alert() -> None:
    assert alerts_after_a_failure("true") == []
