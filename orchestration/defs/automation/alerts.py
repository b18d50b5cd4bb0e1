"""Alerts: a failed run — a reconciliation that found mismatches (its blocking check fails the run), a
failed dbt test, any failure — is logged at ERROR and recorded as an observation of the
``platform/alerts`` asset, whose event list in the UI is the alert feed. A run the instance retries by
itself (its worker died: a stopped platform, a crashed machine) is only logged, at INFO; if its last retry
fails too, that failure is the alert."""

import dagster as dg
from dagster import RunFailureSensorContext

from orchestration.defs.automation.settings import sensor_status
from orchestration.defs.platform import keys

# Dagster's tag on a failed run that its run retries will run again (set when the failure is stored).
WILL_RETRY_TAG = "dagster/will_retry"

alerts_spec = dg.AssetSpec(
    keys.ALERTS, group_name="platform", kinds={"dagster"},
    description="The alert feed: one observation per failed run (failed reconciliation checks, dbt tests, "
    "errors), with the run, the partition and what failed.",
)


def failed_checks(context: RunFailureSensorContext) -> list[str]:
    records = context.instance.get_records_for_run(
        context.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    out = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation is not None and not evaluation.passed:
            out.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return out


@dg.run_failure_sensor(
    name="alert_on_failure",
    default_status=sensor_status(),
    monitor_all_code_locations=False,
    description="Logs every failed run at ERROR and records it on platform/alerts (the UI's alert feed); a run "
    "the instance will retry by itself only at INFO.",
)
def alert_on_failure(context: RunFailureSensorContext) -> None:
    run = context.instance.get_run_by_id(context.dagster_run.run_id) or context.dagster_run
    checks = failed_checks(context)
    partition = run.tags.get("dagster/partition", "")
    if run.tags.get(WILL_RETRY_TAG) == "true":
        context.log.info(f"run {run.run_id} of {run.job_name}{' for ' + partition if partition else ''} failed "
                         f"and will be retried automatically: {context.failure_event.message}")
        return
    message = (f"ALERT: run {run.run_id} of {run.job_name}"
               f"{' for ' + partition if partition else ''} failed"
               f"{': failed checks ' + ', '.join(checks) if checks else ''}: {context.failure_event.message}")
    context.log.error(message)
    context.instance.report_runless_asset_event(dg.AssetObservation(
        asset_key=keys.ALERTS,
        partition=None,
        description=message[:1000],
        metadata={
            "job": run.job_name,
            "run_id": dg.MetadataValue.dagster_run(run.run_id),
            "partition": partition,
            "failed_checks": dg.MetadataValue.json(checks),
            "error": (context.failure_event.message or "")[:1000],
        },
    ))
