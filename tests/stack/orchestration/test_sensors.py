"""Sensors and schedules: which hours the complete-hours sensor requests (pure and against the stack with
history), the dbt chain after a successful reconciliation, and the alert on a failed reconciliation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from orchestration.defs.automation.hours import latest_complete_hour, plan_hours
from orchestration.defs.platform import keys
from tests.support.orchestration_stack import HistoryStack, environment, started_history_stack

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)
H = timedelta(hours=1)


# ------------------------------------------------------------------------------------------- pure


def test_latest_complete_hour_waits_for_the_delay() -> None:
    assert latest_complete_hour(T0 + timedelta(minutes=2), 180) == T0 - 2 * H
    assert latest_complete_hour(T0 + timedelta(minutes=3), 180) == T0 - H


def test_plan_starts_at_first_data_and_is_bounded_per_tick() -> None:
    plan = plan_hours(cursor=None, first_data_hour=T0 - 10 * H, partitions_start=T0 - 48 * H,
                      latest_complete=T0 - H, done={T0 - 9 * H}, limit=4)
    assert plan.hours == [T0 - 10 * H, T0 - 8 * H, T0 - 7 * H, T0 - 6 * H]
    assert plan.cursor == T0 - 6 * H
    following = plan_hours(cursor=plan.cursor, first_data_hour=None, partitions_start=T0 - 48 * H,
                           latest_complete=T0 - H, done=set(), limit=10)
    assert following.hours == [T0 - 5 * H, T0 - 4 * H, T0 - 3 * H, T0 - 2 * H, T0 - H]
    idle = plan_hours(cursor=T0 - H, first_data_hour=None, partitions_start=T0 - 48 * H,
                      latest_complete=T0 - H, done=set(), limit=10)
    assert idle.hours == [] and idle.cursor == T0 - H and idle.waiting_for == T0


def test_plan_without_data_requests_nothing_and_never_before_the_partitions() -> None:
    assert plan_hours(cursor=None, first_data_hour=None, partitions_start=T0, latest_complete=T0,
                      done=set(), limit=5).hours == []
    plan = plan_hours(cursor=None, first_data_hour=T0 - 5 * H, partitions_start=T0 - 2 * H,
                      latest_complete=T0 - H, done=set(), limit=5)
    assert plan.hours == [T0 - 2 * H, T0 - H]


# ------------------------------------------------------------------------------------ with the stack


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HistoryStack]:
    yield from started_history_stack(tmp_path_factory.mktemp("sensors"))


@pytest.fixture(scope="module")
def definitions(loaded: HistoryStack) -> dg.Definitions:
    from orchestration.definitions import load

    with environment(loaded.env):
        return load()


def test_sensor_requests_the_complete_history_hours(loaded: HistoryStack, definitions: dg.Definitions) -> None:
    from orchestration.defs.automation.sensors import complete_hours_sensor

    instance = dg.DagsterInstance.ephemeral()
    with environment(loaded.env):
        context = dg.build_sensor_context(instance=instance, resources=definitions.resources)
        result = complete_hours_sensor(context)
    assert isinstance(result, dg.SensorResult)
    requested = [r.partition_key for r in result.run_requests]
    assert requested[:2] == loaded.hour_keys()
    assert len(requested) <= 6
    assert all(datetime.strptime(k, "%Y-%m-%d-%H:%M").replace(tzinfo=UTC) + H <= datetime.now(UTC)
               for k in requested)
    assert result.cursor == requested[-1]
    with environment(loaded.env):
        again = complete_hours_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor,
                                                              resources=definitions.resources))
    assert isinstance(again, dg.SkipReason) or all(r.partition_key > result.cursor for r in again.run_requests)


def test_successful_reconciliation_chains_to_the_dbt_models(loaded: HistoryStack,
                                                           definitions: dg.Definitions) -> None:
    from orchestration.defs.automation.sensors import daily_marts_after_hourly_models, dbt_after_reconciliation

    instance = dg.DagsterInstance.ephemeral()
    hour = loaded.hour_keys()[0]
    with environment(loaded.env):
        result = definitions.resolve_job_def("register_and_reconcile_hour").execute_in_process(
            partition_key=hour, instance=instance)
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    context = dg.build_run_status_sensor_context(
        sensor_name="dbt_after_reconciliation", dagster_event=result.get_run_success_event(),
        dagster_instance=instance, dagster_run=result.dagster_run)
    request = dbt_after_reconciliation(context)
    assert isinstance(request, dg.RunRequest) and request.partition_key == hour
    # and an hourly dbt run's success refreshes that day's marts
    fake_run = result.dagster_run.with_tags({**result.dagster_run.tags, "dagster/partition": hour})
    daily = daily_marts_after_hourly_models(dg.build_run_status_sensor_context(
        sensor_name="daily_marts_after_hourly_models", dagster_event=result.get_run_success_event(),
        dagster_instance=instance, dagster_run=fake_run))
    assert isinstance(daily, dg.RunRequest) and daily.partition_key == hour[:10]


def test_failed_reconciliation_fails_the_run_and_raises_an_alert(loaded: HistoryStack,
                                                                 definitions: dg.Definitions) -> None:
    from orchestration.defs.automation.alerts import alert_on_failure

    dynamodb = loaded.stack.client("dynamodb")
    hour = loaded.hour_keys()[1]
    key = {"Name": {"S": "Bucephalus"}, "StatusTime": {"S": f"{hour[:10]} {hour[11:13]}:30:00.000"}}
    item = dynamodb.get_item(TableName="UnicornSensorData", Key=key)["Item"]
    dynamodb.delete_item(TableName="UnicornSensorData", Key=key)
    instance = dg.DagsterInstance.ephemeral()
    try:
        with environment(loaded.env):
            result = definitions.resolve_job_def("register_and_reconcile_hour").execute_in_process(
                partition_key=hour, instance=instance, raise_on_error=False)
    finally:
        dynamodb.put_item(TableName="UnicornSensorData", Item=item)
    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.metadata["missing_in_dynamodb"].value == 1
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_failure", dagster_event=failure, dagster_instance=instance,
        dagster_run=result.dagster_run).for_run_failure()
    alert_on_failure(context)
    observation = instance.fetch_observations(keys.ALERTS, limit=1).records[0].asset_observation
    assert "raw_unicorn_status:archive_matches_dynamodb" in observation.metadata["failed_checks"].value
    assert "ALERT" in observation.description


def test_hourly_registration_schedule_skips_done_hours() -> None:
    from orchestration.defs.automation.schedules import hourly_registration, nightly_daily_marts

    at = datetime(2026, 11, 25, 18, 10, tzinfo=UTC)
    with dg.instance_for_test() as instance:
        request = hourly_registration(dg.build_schedule_context(instance=instance, scheduled_execution_time=at))
        assert isinstance(request, dg.RunRequest) and request.partition_key == "2026-11-25-17:00"
        instance.report_runless_asset_event(dg.AssetMaterialization(keys.RAW, partition="2026-11-25-17:00"))
        done = hourly_registration(dg.build_schedule_context(instance=instance, scheduled_execution_time=at))
        assert isinstance(done, dg.SkipReason)
        nightly = nightly_daily_marts(dg.build_schedule_context(
            instance=instance, scheduled_execution_time=at.replace(hour=1, minute=30)))
    assert nightly.partition_key == "2026-11-24"
