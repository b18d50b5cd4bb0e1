"""Whether schedules and sensors start running by default."""

from __future__ import annotations

import os

import dagster as dg

AUTOMATION_ENV = "WILDRYDES_AUTOMATION"


def automation_on() -> bool:
    return os.environ.get(AUTOMATION_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


def sensor_status() -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if automation_on() else dg.DefaultSensorStatus.STOPPED


def schedule_status() -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if automation_on() else dg.DefaultScheduleStatus.STOPPED
