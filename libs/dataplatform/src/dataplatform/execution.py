"""How runs execute in each environment: one writer on DuckDB, parallel steps on BigQuery."""

from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    ExecutorDefinition,
    in_process_executor,
    multiprocess_executor,
)

from dataplatform.settings import Settings

# Where the instance retries failed runs (deploy/dagster.yaml), re-run only the failed assets.
RETRY_FROM_ASSET_FAILURE = {"dagster/retry_strategy": "FROM_ASSET_FAILURE"}


def platform_executor(settings: Settings) -> ExecutorDefinition:
    """DuckDB lets one process write its file: run a run's steps one after another, in the run's
    own process. (Runs themselves queue on the instance's run limit, see dagster.yaml.)"""
    if settings.single_writer:
        return in_process_executor
    return multiprocess_executor


def schedule_status(settings: Settings) -> DefaultScheduleStatus:
    """Schedules start running with the platform unless PLATFORM_SCHEDULES=stopped."""
    return DefaultScheduleStatus.RUNNING if settings.schedules_running else DefaultScheduleStatus.STOPPED


def sensor_status(settings: Settings) -> DefaultSensorStatus:
    """Sensors (the domains' triggers, the alerts) follow the schedules' switch."""
    return DefaultSensorStatus.RUNNING if settings.schedules_running else DefaultSensorStatus.STOPPED
