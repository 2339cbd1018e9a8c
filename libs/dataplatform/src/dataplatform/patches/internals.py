"""What the platform reads of Dagster's and dagster-dbt's private modules (it changes no behaviour
with them), each kept so that an upstream change can never stop a location from loading:

- The run tags Dagster writes and the platform reads (a day, a range of days, a retry to come, a
  backfill) and the spec metadata key under which dagster-dbt puts the project object (which the
  UI shows as an unserializable row; ``dataplatform.dbt.translator`` leaves it out): stored values,
  so written out here; tests/unit/test_internals.py fails, naming it, if Dagster's differs.
- The backfills in progress, which a domain's trigger waits for (``dataplatform.automation.triggers``):
  through Dagster's private filter while it is where it was; if not, with one warning, the newest
  backfills filtered here.
"""

from __future__ import annotations

import functools

ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_NAME_TAG = "dagster/partition"
WILL_RETRY_TAG = "dagster/will_retry"
BACKFILL_ID_TAG = "dagster/backfill"
DAGSTER_DBT_PROJECT_METADATA_KEY = "dagster_dbt/project"

# Without Dagster's filter: how many of the newest backfills are looked at.
NEWEST_BACKFILLS = 200


def requested_backfills(instance) -> list:
    """The instance's backfills in progress (status REQUESTED)."""
    try:
        from dagster._core.execution.backfill import BulkActionStatus
        from dagster._core.storage.runs.base import BulkActionsFilter
    except ImportError as error:
        _warn_once(str(error))
        return [b for b in instance.get_backfills(limit=NEWEST_BACKFILLS) if b.status.value == "REQUESTED"]
    return list(instance.get_backfills(filters=BulkActionsFilter(statuses=[BulkActionStatus.REQUESTED])))


@functools.cache
def _warn_once(why: str) -> None:
    from dagster import get_dagster_logger

    get_dagster_logger("patches").warning(
        f"Dagster's backfill filter is not where dataplatform expects it ({why}): a trigger looks at the newest "
        f"{NEWEST_BACKFILLS} backfills instead (dataplatform.patches.internals)")
