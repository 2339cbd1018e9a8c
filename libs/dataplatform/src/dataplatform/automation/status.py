"""Whether the platform's schedules and sensors start running: one switch, ``PLATFORM_SCHEDULES``
(``Settings.schedules_running``), for every location."""

from dagster import DefaultScheduleStatus, DefaultSensorStatus

from dataplatform.settings import Settings


def schedule_status(settings: Settings) -> DefaultScheduleStatus:
    """Schedules start running with the platform unless PLATFORM_SCHEDULES=stopped."""
    return DefaultScheduleStatus.RUNNING if settings.schedules_running else DefaultScheduleStatus.STOPPED


def sensor_status(settings: Settings) -> DefaultSensorStatus:
    """Sensors (the domains' triggers, the alerts) follow the schedules' switch."""
    return DefaultSensorStatus.RUNNING if settings.schedules_running else DefaultSensorStatus.STOPPED
