"""The one daily time partitioning every event asset uses, in every code location.

A partition is one UTC calendar day, keyed ``YYYY-MM-DD``: the day of the source systems'
export, the rows the ingest of that day loads, and the dbt microbatch that builds it. Because
all three locations use this same definition, a dependency across locations maps day to day and
a partition picked in the UI means the same day everywhere.
"""

from __future__ import annotations

import os
from datetime import date

from dagster import DailyPartitionsDefinition

# The first day the source systems landed; the partitions start here. Override with
# PLATFORM_PARTITIONS_START (YYYY-MM-DD) before the code locations load: every location must
# see the same value.
DEFAULT_PARTITIONS_START = "2026-01-01"
PARTITIONS_START_VARIABLE = "PLATFORM_PARTITIONS_START"


def partitions_start() -> date:
    """The first partition's day."""
    value = os.environ.get(PARTITIONS_START_VARIABLE) or DEFAULT_PARTITIONS_START
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{PARTITIONS_START_VARIABLE} must be a date YYYY-MM-DD, got {value!r}") from None


def daily_partitions() -> DailyPartitionsDefinition:
    """Daily partitions in UTC from the first landing day; the newest is yesterday (UTC)."""
    return DailyPartitionsDefinition(start_date=partitions_start().isoformat(), timezone="UTC")


def partition_day(partition_key: str) -> date:
    """The calendar day of a partition key."""
    return date.fromisoformat(partition_key)

