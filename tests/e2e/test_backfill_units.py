"""Dagster's own backfill daemon, in process on a real instance, over the platform's op layout in
three code locations (tests/backfill_units.py): with the backfill fix, a backfill of everything for
three days is one run per op; without its second patch, inventory's op is two runs, as "Materialize
all" made it."""

import logging
import time
from pathlib import Path

import backfill_units
import pytest
from dagster import DagsterInstance
from dagster._core.execution import asset_backfill
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.test_utils import create_test_daemon_workspace_context, instance_for_test
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._daemon.backfill import execute_backfill_iteration

from dataplatform.daemon import install_backfill_fix
from dataplatform.partitions import RANGE_END_TAG, RANGE_START_TAG

REPO_FILE = Path(backfill_units.__file__)
DAYS = ["2026-01-01", "2026-01-02", "2026-01-03"]
# Each run the backfill launches is executed there and then, so the next iteration sees it built.
RUN_AT_ONCE = {"run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
               "run_launcher": {"module": "dagster._core.launcher.sync_in_memory_run_launcher", "class": "SyncInMemoryRunLauncher"}}


def backfill_everything(instance: DagsterInstance, workspace: Path) -> list[tuple[str, list[str]]]:
    """Every asset for DAYS in one asset backfill, iterated as the daemon does until it ends; each
    run's (range, assets), in launch order."""
    with create_test_daemon_workspace_context(WorkspaceFileTarget(paths=[str(workspace)]), instance) as context:
        asset_graph = context.create_request_context().asset_graph
        instance.add_backfill(PartitionBackfill.from_asset_partitions(
            backfill_id="everything", asset_graph=asset_graph, partition_names=DAYS,
            asset_selection=[node.key for node in asset_graph.asset_nodes], backfill_timestamp=time.time(), tags={},
            dynamic_partitions_store=instance, all_partitions=False, title=None, description=None, run_config=None))
        for _ in range(20):
            list(execute_backfill_iteration(context, logging.getLogger("backfill")))
            if instance.get_backfill("everything").status != BulkActionStatus.REQUESTED:
                break
        assert instance.get_backfill("everything").status == BulkActionStatus.COMPLETED_SUCCESS
    launched = reversed(instance.get_runs())  # get_runs gives the newest first
    return [(f"{run.tags[RANGE_START_TAG]}..{run.tags[RANGE_END_TAG]}", sorted(key.to_user_string() for key in run.asset_selection))
            for run in launched]


@pytest.fixture
def instance():
    install_backfill_fix()
    with instance_for_test(overrides=RUN_AT_ONCE) as instance:
        yield instance


@pytest.fixture
def workspace(tmp_path) -> Path:
    """A workspace.yaml of three locations, each one attribute of tests/backfill_units.py."""
    path = tmp_path / "workspace.yaml"
    path.write_text("load_from:\n" + "".join(
        f"  - python_file: {{relative_path: {REPO_FILE}, attribute: {name}, location_name: {name}}}\n"
        for name in ("shared_ingest", "sales", "inventory")))
    return path


def test_a_backfill_of_everything_is_one_run_per_op(instance, workspace):
    everything = f"{DAYS[0]}..{DAYS[-1]}"
    assert backfill_everything(instance, workspace) == [
        (everything, ["raw/shop/orders"]),
        (everything, ["sales/daily_revenue", "sales/order_items"]),
        (everything, ["inventory/days_of_supply", "inventory/stock_levels"]),
    ]


def test_without_the_hold_inventory_is_two_runs(instance, workspace, monkeypatch):
    """What the second patch changes: Dagster's own filter alone starts stock_levels with sales."""
    patched = asset_backfill._should_backfill_atomic_asset_graph_subset_unit
    monkeypatch.setattr(asset_backfill, "_should_backfill_atomic_asset_graph_subset_unit", patched.__wrapped__)
    assert sorted(assets for _, assets in backfill_everything(instance, workspace)) == [
        ["inventory/days_of_supply"], ["inventory/stock_levels"], ["raw/shop/orders"],
        ["sales/daily_revenue", "sales/order_items"]]
