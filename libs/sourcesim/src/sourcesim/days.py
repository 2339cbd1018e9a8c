"""Simulated days: day 1 is the calendar's first day (dataplatform.settings), day ``k`` the
``k``-th. Only the simulator counts days; the landing zone and the partitions are keyed by date."""

from datetime import date, timedelta

from dataplatform.partitions import partitions_start


def day_date(day: int) -> date:
    """Calendar date of simulated day ``day``."""
    if day < 1:
        raise ValueError(f"days count from 1, got {day}")
    return partitions_start() + timedelta(days=day - 1)


def day_number(day: date) -> int:
    """Simulated day number of a calendar date: the inverse of ``day_date``."""
    number = (day - partitions_start()).days + 1
    if number < 1:
        raise ValueError(f"{day} is before the first day, {partitions_start()}")
    return number
