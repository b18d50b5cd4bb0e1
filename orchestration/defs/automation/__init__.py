"""What keeps the platform running: jobs, schedules, sensors (complete hours, dbt after reconciliation)
and the alert sensor. On by default (``WILDRYDES_AUTOMATION=off`` starts them stopped)."""
