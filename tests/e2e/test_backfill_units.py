"""Dagster's own backfill daemon, in process on a real instance, over the platform's op layout in
three code locations named as the platform's test project (tests/backfill_units.py): with the
backfill patches (dataplatform.patches), a backfill of everything for three days is one run per op; without backfill_units' hold,
care's op is two runs, as "Materialize all" made it; without its reconsidering of held roots, care's contacts (a root of
the backfill: their source is not in it) are held on the first pass and never looked at again. A
day whose two domains failed, re-executed from failure once the fault is gone, rebuilds each in
one run (issue 34)."""

import logging
import time
from pathlib import Path

import backfill_units
import pytest
from dagster import DagsterInstance, RunsFilter
from dagster._core.execution import asset_backfill
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.storage.tags import BACKFILL_ID_TAG, PARENT_BACKFILL_ID_TAG, ROOT_BACKFILL_ID_TAG
from dagster._core.test_utils import create_test_daemon_workspace_context, instance_for_test
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._daemon.backfill import execute_backfill_iteration

from dataplatform.partitions import RANGE_END_TAG, RANGE_START_TAG
from dataplatform.patches import install

REPO_FILE = Path(backfill_units.__file__)
DAYS = ["2026-01-01", "2026-01-02", "2026-01-03"]
# Each run the backfill launches is executed there and then, so the next iteration sees it built.
RUN_AT_ONCE = {"run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
               "run_launcher": {"module": "dagster._core.launcher.sync_in_memory_run_launcher", "class": "SyncInMemoryRunLauncher"}}


def backfill_everything(instance: DagsterInstance, workspace: Path,
                        status: BulkActionStatus | tuple = BulkActionStatus.COMPLETED_SUCCESS,
                        days: list[str] | None = DAYS) -> list[tuple[str, list[str]]]:
    """Every materializable asset for ``days`` (None: unpartitioned assets) in one asset backfill,
    iterated as the daemon does until it ends (with ``status``); each run's (range, assets), in
    launch order."""
    def everything(asset_graph):
        return PartitionBackfill.from_asset_partitions(
            backfill_id="everything", asset_graph=asset_graph, partition_names=days,
            asset_selection=[node.key for node in asset_graph.asset_nodes if node.is_materializable],
            backfill_timestamp=time.time(), tags={},
            dynamic_partitions_store=instance, all_partitions=days is None, title=None, description=None, run_config=None)

    return run_backfill(instance, workspace, everything, status)


def run_backfill(instance: DagsterInstance, workspace: Path, make_backfill,
                 status: BulkActionStatus | tuple = BulkActionStatus.COMPLETED_SUCCESS) -> list[tuple[str, list[str]]]:
    """The backfill ``make_backfill(asset_graph)`` makes, iterated as the daemon does until it ends
    (with ``status``); each of its runs' (range, assets), in launch order."""
    with create_test_daemon_workspace_context(WorkspaceFileTarget(paths=[str(workspace)]), instance) as context:
        backfill = make_backfill(context.create_request_context().asset_graph)
        instance.add_backfill(backfill)
        for _ in range(20):
            list(execute_backfill_iteration(context, logging.getLogger("backfill")))
            if instance.get_backfill(backfill.backfill_id).status != BulkActionStatus.REQUESTED:
                break
        ended = instance.get_backfill(backfill.backfill_id)
        assert ended.status in (status if isinstance(status, tuple) else (status,)), (ended.status, ended.error)
    launched = reversed(instance.get_runs(RunsFilter(tags={BACKFILL_ID_TAG: backfill.backfill_id})))  # newest first
    return [(f"{run.tags.get(RANGE_START_TAG)}..{run.tags.get(RANGE_END_TAG)}",
             sorted(key.to_user_string() for key in run.asset_selection)) for run in launched]


def reexecute_from_failure(instance: DagsterInstance, backfill_id: str):
    """What the backfill page's "Re-execute from failure" makes (dagster-graphql 1.13,
    retry_partition_backfill): a new backfill of what the old one targeted and did not build."""
    def retry(asset_graph):
        data = instance.get_backfill(backfill_id).get_asset_backfill_data(asset_graph)
        return PartitionBackfill.from_asset_graph_subset(
            backfill_id=f"{backfill_id}-retry", asset_graph_subset=data.target_subset - data.materialized_subset,
            dynamic_partitions_store=instance, tags={PARENT_BACKFILL_ID_TAG: backfill_id, ROOT_BACKFILL_ID_TAG: backfill_id},
            backfill_timestamp=time.time(), title=None, description=None, run_config=None)

    return retry


@pytest.fixture
def instance():
    install("run coordinator")
    with instance_for_test(overrides=RUN_AT_ONCE) as instance:
        yield instance


def workspace_of(folder: Path, *locations: str) -> Path:
    """A workspace.yaml of code locations, each one attribute of tests/backfill_units.py."""
    path = folder / "workspace.yaml"
    path.write_text("load_from:\n" + "".join(
        f"  - python_file: {{relative_path: {REPO_FILE}, attribute: {name}, location_name: {name}}}\n"
        for name in locations))
    return path


@pytest.fixture
def workspace(tmp_path) -> Path:
    return workspace_of(tmp_path, "shared_ingest", "billing", "care")


def test_unpartitioned_assets_of_two_locations_are_one_run_each(instance, tmp_path):
    runs = backfill_everything(instance, workspace_of(tmp_path, "unpartitioned_billing", "unpartitioned_care"), days=None)
    assert sorted(assets for _, assets in runs) == [["care/queues"], ["ledger/rates"]]


def test_without_the_split_unpartitioned_assets_of_two_locations_fail(instance, tmp_path, monkeypatch):
    """What backfill_split changes: stock Dagster sends both assets to one location as one run."""
    from dagster._daemon import controller

    patched = asset_backfill.build_run_requests_with_backfill_policies
    monkeypatch.setattr(asset_backfill, "build_run_requests_with_backfill_policies", patched.__wrapped__)
    monkeypatch.setattr(controller, "RELOAD_WORKSPACE_INTERVAL", 0)  # its retries, without their waits
    backfill_everything(instance, workspace_of(tmp_path, "unpartitioned_billing", "unpartitioned_care"), days=None,
                        status=(BulkActionStatus.FAILING, BulkActionStatus.FAILED))
    assert "Failed to target asset selection" in instance.get_backfill("everything").error.to_string()


def test_a_backfill_of_everything_is_one_run_per_op(instance, workspace):
    everything = f"{DAYS[0]}..{DAYS[-1]}"
    assert backfill_everything(instance, workspace) == [
        (everything, ["raw/billing/invoices", "raw/support/tickets"]),
        (everything, ["billing/daily_billing", "billing/invoices"]),
        (everything, ["care/account_health", "care/stg_crm__contacts", "care/tickets"]),
    ]


def test_without_the_hold_care_is_three_runs(instance, workspace, monkeypatch):
    """What the second patch changes: Dagster's own filter alone starts care's contacts at once (their
    source is not in the backfill), its tickets with billing, and account_health after billing."""
    patched = asset_backfill._should_backfill_atomic_asset_graph_subset_unit
    monkeypatch.setattr(asset_backfill, "_should_backfill_atomic_asset_graph_subset_unit", patched.__wrapped__)
    assert sorted(assets for _, assets in backfill_everything(instance, workspace)) == [
        ["billing/daily_billing", "billing/invoices"], ["care/account_health"], ["care/stg_crm__contacts"],
        ["care/tickets"], ["raw/billing/invoices", "raw/support/tickets"]]


def test_without_reconsidering_held_roots_the_backfill_never_requests_them(instance, workspace, monkeypatch):
    """What the third patch changes: Dagster looks at a backfill's roots on its first pass only, so
    care's contacts, held there until billing is built, are never requested, nor what reads them."""
    patched = asset_backfill._get_candidate_asset_graph_subset
    monkeypatch.setattr(asset_backfill, "_get_candidate_asset_graph_subset", patched.__wrapped__)
    runs = backfill_everything(instance, workspace, BulkActionStatus.COMPLETED_FAILED)
    assert not {"care/stg_crm__contacts", "care/account_health"} & {key for _, assets in runs for key in assets}


def fail_both_domains(instance: DagsterInstance, workspace: Path, tmp_path: Path, monkeypatch) -> None:
    """Day 1 backfilled while a fault (a full disk, say) fails every domain op: billing's fails, and
    care's, which runs what does not read billing's failed invoices; then the fault is gone."""
    fault = tmp_path / "disk-full"
    fault.touch()
    monkeypatch.setenv(backfill_units.FAULT_ENV, str(fault))
    failed = backfill_everything(instance, workspace, BulkActionStatus.COMPLETED_FAILED, days=DAYS[:1])
    assert [assets for _, assets in failed] == [
        ["raw/billing/invoices", "raw/support/tickets"], ["billing/daily_billing", "billing/invoices"],
        ["care/stg_crm__contacts", "care/tickets"]]
    assert [run.status.value for run in instance.get_runs()][:2] == ["FAILURE", "FAILURE"]
    fault.unlink()


def test_a_day_whose_domains_both_failed_rebuilds_when_reexecuted_from_failure(instance, workspace, tmp_path, monkeypatch):
    """Issue 34: "Re-execute from failure" of the backfill rebuilds each domain in one run and
    succeeds. Care's tickets and contacts are the new backfill's roots (nothing they read is in it),
    held on its first pass until billing's invoices are built, and looked at again after."""
    fail_both_domains(instance, workspace, tmp_path, monkeypatch)
    rebuilt = run_backfill(instance, workspace, reexecute_from_failure(instance, "everything"))
    assert [assets for _, assets in rebuilt] == [
        ["billing/daily_billing", "billing/invoices"], ["care/account_health", "care/stg_crm__contacts", "care/tickets"]]


def test_without_reconsidering_held_roots_the_reexecuted_day_is_half_rebuilt(instance, workspace, tmp_path, monkeypatch):
    """What issue 34 met: Dagster looks at the new backfill's roots on its first pass only, so care's
    held roots are never requested: billing is rebuilt, care is marked failed without a run."""
    fail_both_domains(instance, workspace, tmp_path, monkeypatch)
    patched = asset_backfill._get_candidate_asset_graph_subset
    monkeypatch.setattr(asset_backfill, "_get_candidate_asset_graph_subset", patched.__wrapped__)
    rebuilt = run_backfill(instance, workspace, reexecute_from_failure(instance, "everything"),
                           BulkActionStatus.COMPLETED_FAILED)
    assert [assets for _, assets in rebuilt] == [["billing/daily_billing", "billing/invoices"]]
