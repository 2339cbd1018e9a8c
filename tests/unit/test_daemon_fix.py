"""The backfill patches (dataplatform.patches): a run request spanning code locations becomes one
request per location (backfill_split), and an op's assets wait for each other's inputs from other
locations, so that the op is one run (backfill_units); each refuses a Dagster it does not fit."""

import subprocess
import sys
import types

import backfill_units
import pytest
from backfill_units import ACCOUNT_HEALTH, DAILY_BILLING, INVOICES, RAW_INVOICES, RAW_TICKETS, TICKETS, op
from dagster import AssetCheckKey, AssetKey, AssetSpec, RunRequest
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
from support import REPO

from dataplatform.patches import backfill_split as split_patch
from dataplatform.patches import backfill_units as units_patch
from dataplatform.patches import install
from dataplatform.patches.backfill_split import split_run_requests_by_code_location
from dataplatform.patches.backfill_units import inputs_to_wait_for
from dataplatform.patches.fit import DoesNotFit

LOCATION = {"raw/billing/invoices": "shared_ingest", "billing/invoices": "billing", "care/tickets": "care"}
# A dbt source test: a check on an ingest asset, defined (and run) by the domain that reads it.
SOURCE_TEST = AssetCheckKey(RAW_INVOICES, "source_unique_billing_invoices_invoice_id")
CHECK_LOCATION = {SOURCE_TEST: "billing"}


class Graph:
    """The one method of Dagster's workspace asset graph the fix uses, over a fixed layout."""

    def split_entity_keys_by_repository(self, keys):
        groups = {}
        for key in keys:
            asset = key.asset_key if isinstance(key, AssetCheckKey) else key
            location = CHECK_LOCATION.get(key) or LOCATION[asset.to_user_string()]
            groups.setdefault(location, set()).add(key)
        return list(groups.values())


def test_unpartitioned_requests_across_locations_are_split_per_location():
    """What stock Dagster would send to one location, the patch sends to each (backfill_split)."""
    request = RunRequest(asset_selection=[RAW_INVOICES, INVOICES, TICKETS])
    assert {tuple(sorted(map(str, r.asset_selection))) for r in split_run_requests_by_code_location([request], Graph())} == {
        (str(RAW_INVOICES),), (str(INVOICES),), (str(TICKETS),)}


def test_a_cross_location_request_is_split_with_its_checks():
    billing, care = AssetKey(["billing", "invoices"]), AssetKey(["care", "tickets"])
    checks = [AssetCheckKey(billing, "unique_invoices_v1_invoice_id"), AssetCheckKey(care, "unique_tickets_ticket_id")]
    [request] = [RunRequest(asset_selection=[billing, care], asset_check_keys=checks)]
    split = split_run_requests_by_code_location([request], Graph())
    assert sorted((r.asset_selection, r.asset_check_keys) for r in split) == sorted(
        [([care], [checks[1]]), ([billing], [checks[0]])]
    )


def test_a_check_defined_in_another_location_goes_with_it_or_is_left_out():
    billing = AssetKey(["billing", "invoices"])
    [ingest_only] = split_run_requests_by_code_location(
        [RunRequest(asset_selection=[RAW_INVOICES], asset_check_keys=[SOURCE_TEST])], Graph()
    )
    assert (ingest_only.asset_selection, ingest_only.asset_check_keys) == ([RAW_INVOICES], [])
    split = split_run_requests_by_code_location(
        [RunRequest(asset_selection=[RAW_INVOICES, billing], asset_check_keys=[SOURCE_TEST])], Graph()
    )
    assert sorted((r.asset_selection, r.asset_check_keys) for r in split) == sorted(
        [([RAW_INVOICES], []), ([billing], [SOURCE_TEST])]
    )


def test_a_single_location_request_is_left_alone():
    request = RunRequest(asset_selection=[AssetKey(["billing", "invoices"])])
    assert split_run_requests_by_code_location([request], Graph()) == [request]


# The platform's shape, as the test project has it: ingest, billing's op on ingest, care's op on
# ingest and on billing's public invoices.
GRAPH = AssetGraph.from_assets([asset for location in (backfill_units.shared_ingest, backfill_units.billing, backfill_units.care)
                                for asset in location.assets])
RAW = {RAW_INVOICES, RAW_TICKETS}
EVERYTHING = [RAW_INVOICES, RAW_TICKETS, INVOICES, DAILY_BILLING, TICKETS, ACCOUNT_HEALTH]


@pytest.mark.parametrize(("targeted", "done", "waits"), [
    (EVERYTHING, RAW, {"ingest": [], "billing_dbt": [], "care_dbt": [(INVOICES, ACCOUNT_HEALTH)]}),
    (EVERYTHING, set(), {"ingest": [], "billing_dbt": [(RAW_INVOICES, INVOICES)],
                         "care_dbt": [(INVOICES, ACCOUNT_HEALTH), (RAW_TICKETS, TICKETS)]}),
    (EVERYTHING, {*RAW, INVOICES}, {"ingest": [], "billing_dbt": [], "care_dbt": []}),
    ([TICKETS, ACCOUNT_HEALTH], set(), {"care_dbt": []}),  # an input the backfill does not build is not waited for
])
def test_an_op_waits_for_every_targeted_input_from_outside_it(targeted, done, waits):
    assert inputs_to_wait_for(GRAPH, targeted, lambda key: key in done) == waits


def test_an_input_that_reads_the_op_is_not_waited_for():
    """care's tickets -> billing's invoices -> care's account_health: holding care for invoices
    would hold both forever; it becomes two runs, as without the fix."""
    graph = AssetGraph.from_assets([
        op("billing_dbt", [AssetSpec(INVOICES, deps=[TICKETS])]),
        op("care_dbt", [AssetSpec(TICKETS), AssetSpec(ACCOUNT_HEALTH, deps=[INVOICES])]),
    ])
    assert inputs_to_wait_for(graph, [INVOICES, TICKETS, ACCOUNT_HEALTH], lambda key: False) == {
        "billing_dbt": [(TICKETS, INVOICES)], "care_dbt": []}


@pytest.mark.parametrize("tags, status, awaiting", [
    ({"dagster/will_retry": "true"}, "failure", True),  # the instance will retry it: its unit waits
    ({"dagster/will_retry": "false"}, "failure", False),  # out of retries: failed for good
    ({"dagster/will_retry": "true", "dagster/auto_retry_run_id": "next"}, "failure", False),  # the retry is its own run
    ({}, "started", True),
    ({}, "success", False),
])
def test_a_failure_the_instance_will_retry_is_not_final(tags, status, awaiting):
    """A real instance, a real run of an asset job: ``awaiting_retry`` reads its newest planned
    materialization's run, as the hold does inside the daemon."""
    from dagster import DagsterInstance, asset, define_asset_job
    from dagster._core.definitions.definitions_class import Definitions

    from dataplatform.patches.backfill_units import awaiting_retry

    @asset
    def invoices():
        return None

    job = Definitions(assets=[invoices], jobs=[define_asset_job("build", selection=[invoices])]).resolve_job_def("build")
    with DagsterInstance.ephemeral() as instance:
        run = instance.create_run_for_job(job, tags=tags, asset_selection=frozenset({invoices.key}))
        if status == "failure":
            instance.report_run_failed(run)
        elif status == "started":
            instance.handle_run_event(run.run_id, _run_event(run, "RUN_START"))
        else:
            instance.handle_run_event(run.run_id, _run_event(run, "RUN_SUCCESS"))
        assert awaiting_retry(instance, invoices.key) is awaiting


def _run_event(run, kind: str):
    from dagster import DagsterEvent, DagsterEventType

    return DagsterEvent(DagsterEventType[kind].value, job_name=run.job_name)


def test_the_backfill_patches_install_once():
    from dagster._core.execution import asset_backfill

    def patched():
        return (asset_backfill.build_run_requests_with_backfill_policies, asset_backfill._get_candidate_asset_graph_subset,
                asset_backfill._should_backfill_atomic_asset_graph_subset_unit)

    assert install("run coordinator") == ["backfill_split", "backfill_units", "sensor_loop"]
    first = patched()
    install("run coordinator")
    assert patched() == first
    assert first[0].splits_by_code_location and first[1].reconsiders_held_roots and first[2].holds_incomplete_units


def _should_backfill(asset_graph_view, candidate_asset_graph_subset_unit, asset_graph_subset_matched_so_far,
                     target_subset, requested_subset, materialized_subset, failed_and_downstream_subset, logger):
    return None


def _get_candidates(asset_backfill_data, asset_graph_view, materialized_asset_graph_subset, failed_asset_graph_subset):
    return None


class _AssetBackfillData:
    def get_target_root_asset_graph_subset(self, asset_graph_view):
        return None


def _fake_asset_backfill(build, call: bool = True, should_backfill=_should_backfill,
                         get_candidates=_get_candidates) -> types.ModuleType:
    """A stand-in for dagster._core.execution.asset_backfill, as a later Dagster might have it."""
    module = types.ModuleType("fake_asset_backfill")
    module.build_run_requests_with_backfill_policies = build
    module._should_backfill_atomic_asset_graph_subset_unit = should_backfill
    module._get_candidate_asset_graph_subset = get_candidates
    module.AssetBackfillData = _AssetBackfillData
    source = ("def execute_backfill_iteration():\n    _get_candidate_asset_graph_subset()\n"
              "    _should_backfill_atomic_asset_graph_subset_unit()\n"
              "    return build_run_requests_with_backfill_policies(1, 2, 3)\n") if call else ""
    exec(compile(source, "fake_asset_backfill", "exec"), module.__dict__)
    return module


def test_each_patch_refuses_dagster_internals_it_was_not_written_for():
    def renamed(asset_partitions, asset_graph, instance_queryer):
        return []

    def current(asset_partitions, asset_graph, dynamic_partitions_store):
        return []

    def fewer(asset_graph_view, candidate_asset_graph_subset_unit, target_subset, logger):
        return None

    def more(asset_backfill_data, asset_graph_view, materialized_asset_graph_subset, failed_asset_graph_subset, queryer):
        return None

    cases = ((split_patch, _fake_asset_backfill(renamed), "takes"),
             (split_patch, _fake_asset_backfill(current, call=False), "calls build_run_requests_with_backfill_policies"),
             (split_patch, types.ModuleType("empty"), "is gone"), (units_patch, types.ModuleType("empty"), "is gone"),
             (units_patch, _fake_asset_backfill(current, should_backfill=fewer), "takes"),
             (units_patch, _fake_asset_backfill(current, get_candidates=more), "takes"),
             (units_patch, _fake_asset_backfill(current, call=False), "calls _get_candidate_asset_graph_subset"))
    for patch, module, what in cases:
        with pytest.raises(DoesNotFit) as error:
            patch.fits(module)
        assert what in str(error.value) and "\n" not in str(error.value), (patch.__name__, str(error.value))
    for patch in (split_patch, units_patch):
        patch.fits(_fake_asset_backfill(current))  # what 1.13 has: accepted
        patch.fits()  # and the installed Dagster


def test_the_instance_config_installs_the_patches_when_the_daemon_loads_it(tmp_path):
    """The run coordinator of deploy/dev/dagster.yaml, loaded as the daemon loads it in a fresh
    interpreter: the queue daemon is required and the backfill builder splits by code location."""
    (tmp_path / "dagster.yaml").write_text((REPO / "deploy" / "dev" / "dagster.yaml").read_text())
    code = f"""
from dagster import DagsterInstance
from dagster._core.execution import asset_backfill
instance = DagsterInstance.from_config({str(tmp_path)!r})
assert "QUEUED_RUN_COORDINATOR" in instance.get_required_daemon_types(), instance.get_required_daemon_types()
assert asset_backfill.build_run_requests_with_backfill_policies.splits_by_code_location
assert asset_backfill._should_backfill_atomic_asset_graph_subset_unit.holds_incomplete_units
assert asset_backfill._get_candidate_asset_graph_subset.reconsiders_held_roots
print(type(instance.run_coordinator).__name__, instance.get_concurrency_config().run_queue_config.max_concurrent_runs)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["PlatformRunCoordinator", "1"]  # concurrency.runs still applies
