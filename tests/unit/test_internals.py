"""The Dagster internals the domains' triggers and the alerts use (dataplatform.triggers, .alerts),
checked against the installed Dagster: if one moves or changes meaning, this fails by name."""

from dagster import DagsterInstance, RunRequest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dataplatform import alerts, triggers
from dataplatform.partitions import RANGE_END_TAG, RANGE_START_TAG, partition_range_tags


def test_a_range_of_days_is_asked_for_with_the_tags_a_backfill_run_carries():
    request = RunRequest(tags=partition_range_tags("2026-01-01", "2026-01-03"))
    assert (request.partition_key_range.start, request.partition_key_range.end) == ("2026-01-01", "2026-01-03")
    assert (RANGE_START_TAG, RANGE_END_TAG) == (ASSET_PARTITION_RANGE_START_TAG, ASSET_PARTITION_RANGE_END_TAG)


def test_requested_backfills_are_listed_by_status():
    with DagsterInstance.ephemeral() as instance:
        assert instance.get_backfills(filters=triggers.BulkActionsFilter(statuses=[triggers.BulkActionStatus.REQUESTED])) == []


def test_the_retry_tag_the_alerts_read_is_the_one_dagster_sets():
    from dagster._core.storage.tags import PARTITION_NAME_TAG, WILL_RETRY_TAG

    assert (alerts.WILL_RETRY_TAG, alerts.PARTITION_TAG) == (WILL_RETRY_TAG, PARTITION_NAME_TAG)
