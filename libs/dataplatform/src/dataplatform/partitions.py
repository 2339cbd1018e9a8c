"""The one daily time partitioning every event asset uses, in every code location.

A partition is one UTC calendar day, keyed ``YYYY-MM-DD``: the day of the source systems'
export, the rows the ingest of that day loads, and the dbt microbatch that builds it. Because
all three locations use this same definition, a dependency across locations maps day to day and
a partition picked in the UI means the same day everywhere.

It also owns the rest of the platform's day: the tags of a run over a range of days, and the
daily crons the locations declare (``daily_cron_time``, which refuses any other). The calendar's
first day is a setting (``dataplatform.settings``).

Inside Python a day is a ``date``. It becomes a partition key at Dagster's edge and back
(``partition_key``, ``partition_day``), dbt's event-time flags at dbt's (``dataplatform.dbt.op``),
a SQL literal at the warehouse's (``shared_ingest.row_checks.sql_date``), and a file name in the
landing zone (``dataplatform.landing``): one conversion each.
"""

from __future__ import annotations

import re
from datetime import date, time

from dagster import DailyPartitionsDefinition

from dataplatform.patches.internals import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dataplatform.settings import PARTITIONS_START_VARIABLE, partitions_start

__all__ = ["PARTITIONS_START_VARIABLE", "daily_cron_time", "daily_partitions", "partition_day", "partition_key",
           "partition_range_tags", "partitions_start"]


def daily_partitions() -> DailyPartitionsDefinition:
    """Daily partitions in UTC from the first landing day; the newest is yesterday (UTC)."""
    return DailyPartitionsDefinition(start_date=partitions_start().isoformat(), timezone="UTC")


# The tags of a run that builds a range of partitions at once (a backfill's run, a trigger's range),
# as Dagster reads them.
RANGE_START_TAG = ASSET_PARTITION_RANGE_START_TAG
RANGE_END_TAG = ASSET_PARTITION_RANGE_END_TAG


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """The tags of one run over the partitions ``first`` .. ``last``."""
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def partition_day(key: str) -> date:
    """The calendar day of a partition key."""
    return date.fromisoformat(key)


def partition_key(day: date) -> str:
    """The partition key of a calendar day: the inverse of ``partition_day``."""
    return day.isoformat()


_DAILY_CRON = re.compile(r"(\d{1,2}) (\d{1,2}) \* \* \*")


def daily_cron_time(cron: str, what: str = "cron") -> time:
    """The UTC time of day of a daily cron ``M H * * *``. Anything else (a weekday, a step, a
    second time) is refused, naming ``what``: the platform's clocks run once a day."""
    match = _DAILY_CRON.fullmatch(cron.strip())
    if not match or int(match[1]) > 59 or int(match[2]) > 23:
        raise ValueError(f"{what} must be a daily cron 'M H * * *' (UTC, minute and hour), got {cron!r}")
    return time(hour=int(match[2]), minute=int(match[1]))
