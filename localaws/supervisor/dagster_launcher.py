"""The run launcher of the local Dagster instance: Dagster's ``DefaultRunLauncher`` (each run in a process of
the code server) that also tells run monitoring whether a run's worker is still alive.

``DefaultRunLauncher`` cannot: a run whose worker died (the daemon's process group killed, the platform
crashed) stays STARTED forever, and its partition with it. Here the worker is the process the run's event log
names ("Started process for run (pid: N)"), recognised by its start time so that a reused pid does not count;
once it is gone, run monitoring fails the run and run retries launch it again, as ECS's and Kubernetes'
launchers do on AWS.
"""

from __future__ import annotations

import re

import psutil
from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

WORKER_STARTED = re.compile(r"Started process for run \(pid: (\d+)\)")
CLOCK_SLACK_S = 2.0  # the event is written just after the worker started


def worker_of(events: list) -> tuple[int, float] | None:
    """The pid of the run's latest worker and when its event was written."""
    found = None
    for entry in events:
        match = WORKER_STARTED.search(entry.dagster_event.message or "") if entry.dagster_event else None
        if match:
            found = (int(match.group(1)), entry.timestamp)
    return found


def worker_alive(pid: int, started_by: float) -> bool:
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and process.create_time() <= started_by + CLOCK_SLACK_S
    except psutil.Error:
        return False


class LocalRunLauncher(DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        events = self._instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT)
        worker = worker_of(list(events))
        if worker is None:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "the run's worker has not reported its process yet")
        pid, reported_at = worker
        if worker_alive(pid, reported_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
        return CheckRunHealthResult(WorkerStatus.FAILED, f"the run's worker process (pid {pid}) is gone",
                                    run_worker_id=str(pid))
