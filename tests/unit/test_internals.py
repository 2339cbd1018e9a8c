"""What the platform reads of Dagster's and dagster-dbt's private modules
(dataplatform.patches.internals), pinned against the installed versions: if one moves or changes
meaning, this fails by name, while the platform keeps running on what it wrote out or looks up
itself."""

from dagster import AssetCheckSpec, AssetKey, DagsterInstance, RunRequest

from dataplatform.dbt.translator import non_blocking
from dataplatform.partitions import partition_range_tags
from dataplatform.patches import internals


def test_the_tags_and_the_metadata_key_are_dagsters():
    from dagster._core.storage import tags
    from dagster_dbt.asset_utils import DAGSTER_DBT_PROJECT_METADATA_KEY

    for name in ("ASSET_PARTITION_RANGE_START_TAG", "ASSET_PARTITION_RANGE_END_TAG", "PARTITION_NAME_TAG",
                 "WILL_RETRY_TAG", "BACKFILL_ID_TAG"):
        assert getattr(internals, name) == getattr(tags, name), name
    assert internals.DAGSTER_DBT_PROJECT_METADATA_KEY == DAGSTER_DBT_PROJECT_METADATA_KEY
    # The platform's jobs' run tags: what run retries and run monitoring read.
    from dataplatform.runs import RUN_TAGS

    assert set(RUN_TAGS) == {tags.RETRY_STRATEGY_TAG, tags.MAX_RUNTIME_SECONDS_TAG}


def test_a_range_of_days_is_asked_for_with_the_tags_a_backfill_run_carries():
    request = RunRequest(tags=partition_range_tags("2026-01-01", "2026-01-03"))
    assert (request.partition_key_range.start, request.partition_key_range.end) == ("2026-01-01", "2026-01-03")


def test_requested_backfills_are_listed_through_dagsters_filter_or_without_it(monkeypatch, caplog):
    """Dagster's private filter where it is; moved (an ImportError), the newest backfills filtered
    here, with one warning: the same answer."""
    import builtins
    import logging

    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

    with DagsterInstance.ephemeral() as instance:
        for backfill_id, status in (("done", BulkActionStatus.COMPLETED_SUCCESS), ("going", BulkActionStatus.REQUESTED)):
            instance.add_backfill(PartitionBackfill(backfill_id=backfill_id, status=status, from_failure=False, tags={},
                                                    backfill_timestamp=0.0, serialized_asset_backfill_data=None,
                                                    asset_selection=[AssetKey("a")], title=None, description=None))
        assert [b.backfill_id for b in internals.requested_backfills(instance)] == ["going"]
        real_import = builtins.__import__

        def moved(name, *args, **kwargs):
            if name == "dagster._core.storage.runs.base":
                raise ImportError(f"No module named {name!r}")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", moved)
        internals._warn_once.cache_clear()
        with caplog.at_level(logging.WARNING):
            assert [b.backfill_id for b in internals.requested_backfills(instance)] == ["going"]
            internals.requested_backfills(instance)
    assert len([r for r in caplog.records if "backfill filter" in r.getMessage()]) == 1


def test_a_source_tests_check_is_made_non_blocking_with_everything_else_kept():
    """The translator rebuilds a blocking check on a source with the public constructor: every field
    of the spec but ``blocking`` as it was (a field Dagster adds would be caught here)."""
    from dagster import AssetDep, AutomationCondition, DailyPartitionsDefinition

    spec = AssetCheckSpec("source_fresh_x", asset=AssetKey(["raw", "x", "y"]), description="d", blocking=True,
                          additional_deps=[AssetDep(AssetKey(["raw", "x", "z"]))], metadata={"m": 1},
                          automation_condition=AutomationCondition.eager(),
                          partitions_def=DailyPartitionsDefinition(start_date="2026-01-01"))
    assert non_blocking(spec) == spec._replace(blocking=False)
    assert set(spec._fields) == {"name", "asset_key", "description", "additional_deps", "blocking", "metadata",
                                 "automation_condition", "partitions_def"}


def test_the_slices_look_through_what_dagster_dbt_looks_through():
    """A slice keeps a parent that is no asset with its own parents (dataplatform.dbt.slices),
    by dagster-dbt's rule, which is private: the two agree on every resource type."""
    from dagster_dbt.asset_utils import is_non_asset_node

    from dataplatform.dbt.slices import looked_through

    types = ("model", "seed", "snapshot", "source", "test", "exposure", "unit_test", "analysis", "operation",
             "metric", "semantic_model", "saved_query", "function")
    for resource_type in types:
        for materialized in ("view", "table", "incremental", "ephemeral"):
            node = {"resource_type": resource_type, "config": {"materialized": materialized}}
            assert looked_through(node) == bool(is_non_asset_node(node)), node
