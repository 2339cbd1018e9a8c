"""The backfill fix: a run request spanning code locations becomes one request per location, and
an op's assets wait for each other's inputs from other locations, so that the op is one run."""

import subprocess
import sys
import types

import backfill_units
import pytest
from backfill_units import DAILY_REVENUE, DAYS_OF_SUPPLY, ORDER_ITEMS, RAW, STOCK, op
from dagster import AssetCheckKey, AssetKey, AssetSpec, RunRequest
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
from support import REPO

from dataplatform.daemon import (
    BackfillFixError,
    check_backfill_internals,
    inputs_to_wait_for,
    install_backfill_fix,
    split_run_requests_by_code_location,
)

LOCATION = {"raw/shop/orders": "shared_ingest", "sales/orders": "sales", "inventory/products": "inventory"}
RAW_ORDERS = AssetKey(["raw", "shop", "orders"])
# A dbt source test: a check on an ingest asset, defined (and run) by the domain that reads it.
SOURCE_TEST = AssetCheckKey(RAW_ORDERS, "source_unique_shop_orders_order_id")
CHECK_LOCATION = {SOURCE_TEST: "sales"}


class Graph:
    """The one method of Dagster's workspace asset graph the fix uses, over a fixed layout."""

    def split_entity_keys_by_repository(self, keys):
        groups = {}
        for key in keys:
            asset = key.asset_key if isinstance(key, AssetCheckKey) else key
            location = CHECK_LOCATION.get(key) or LOCATION[asset.to_user_string()]
            groups.setdefault(location, set()).add(key)
        return list(groups.values())


def test_a_cross_location_request_is_split_with_its_checks():
    sales, inventory = AssetKey(["sales", "orders"]), AssetKey(["inventory", "products"])
    checks = [AssetCheckKey(sales, "unique_orders_order_id"), AssetCheckKey(inventory, "unique_products_product_id")]
    [request] = [RunRequest(asset_selection=[sales, inventory], asset_check_keys=checks)]
    split = split_run_requests_by_code_location([request], Graph())
    assert sorted((r.asset_selection, r.asset_check_keys) for r in split) == sorted(
        [([inventory], [checks[1]]), ([sales], [checks[0]])]
    )


def test_a_check_defined_in_another_location_goes_with_it_or_is_left_out():
    sales = AssetKey(["sales", "orders"])
    [ingest_only] = split_run_requests_by_code_location(
        [RunRequest(asset_selection=[RAW_ORDERS], asset_check_keys=[SOURCE_TEST])], Graph()
    )
    assert (ingest_only.asset_selection, ingest_only.asset_check_keys) == ([RAW_ORDERS], [])
    split = split_run_requests_by_code_location(
        [RunRequest(asset_selection=[RAW_ORDERS, sales], asset_check_keys=[SOURCE_TEST])], Graph()
    )
    assert sorted((r.asset_selection, r.asset_check_keys) for r in split) == sorted(
        [([RAW_ORDERS], []), ([sales], [SOURCE_TEST])]
    )


def test_a_single_location_request_is_left_alone():
    request = RunRequest(asset_selection=[AssetKey(["sales", "orders"])])
    assert split_run_requests_by_code_location([request], Graph()) == [request]


# The platform's shape: ingest, sales' op on ingest, inventory's op on ingest and on sales' order_items.
GRAPH = AssetGraph.from_assets([asset for location in (backfill_units.shared_ingest, backfill_units.sales, backfill_units.inventory)
                                for asset in location.assets])
EVERYTHING = [RAW, ORDER_ITEMS, DAILY_REVENUE, STOCK, DAYS_OF_SUPPLY]


@pytest.mark.parametrize(("targeted", "done", "waits"), [
    (EVERYTHING, {RAW}, {"ingest": [], "sales_dbt": [], "inventory_dbt": [(ORDER_ITEMS, DAYS_OF_SUPPLY)]}),
    (EVERYTHING, set(), {"ingest": [], "sales_dbt": [(RAW, ORDER_ITEMS)],
                         "inventory_dbt": [(RAW, STOCK), (ORDER_ITEMS, DAYS_OF_SUPPLY)]}),
    (EVERYTHING, {RAW, ORDER_ITEMS}, {"ingest": [], "sales_dbt": [], "inventory_dbt": []}),
    ([STOCK, DAYS_OF_SUPPLY], set(), {"inventory_dbt": []}),  # an input the backfill does not build is not waited for
])
def test_an_op_waits_for_every_targeted_input_from_outside_it(targeted, done, waits):
    assert inputs_to_wait_for(GRAPH, targeted, lambda key: key in done) == waits


def test_an_input_that_reads_the_op_is_not_waited_for():
    """inventory's stock_levels -> sales' order_items -> inventory's days_of_supply: holding inventory
    for order_items would hold both forever; it becomes two runs, as without the fix."""
    graph = AssetGraph.from_assets([
        op("sales_dbt", [AssetSpec(ORDER_ITEMS, deps=[STOCK])]),
        op("inventory_dbt", [AssetSpec(STOCK), AssetSpec(DAYS_OF_SUPPLY, deps=[ORDER_ITEMS])]),
    ])
    assert inputs_to_wait_for(graph, [ORDER_ITEMS, STOCK, DAYS_OF_SUPPLY], lambda key: False) == {
        "sales_dbt": [(STOCK, ORDER_ITEMS)], "inventory_dbt": []}


def test_the_fix_installs_once():
    from dagster._core.execution import asset_backfill

    install_backfill_fix()
    patched = asset_backfill.build_run_requests_with_backfill_policies, asset_backfill._should_backfill_atomic_asset_graph_subset_unit
    install_backfill_fix()
    assert (asset_backfill.build_run_requests_with_backfill_policies,
            asset_backfill._should_backfill_atomic_asset_graph_subset_unit) == patched
    assert patched[0].splits_by_code_location and patched[1].holds_incomplete_units


def _should_backfill(asset_graph_view, candidate_asset_graph_subset_unit, asset_graph_subset_matched_so_far,
                     target_subset, requested_subset, materialized_subset, failed_and_downstream_subset, logger):
    return None


def _fake_asset_backfill(build, call: bool = True, should_backfill=_should_backfill) -> types.ModuleType:
    """A stand-in for dagster._core.execution.asset_backfill, as a later Dagster might have it."""
    module = types.ModuleType("fake_asset_backfill")
    module.build_run_requests_with_backfill_policies = build
    module._should_backfill_atomic_asset_graph_subset_unit = should_backfill
    source = ("def execute_backfill_iteration():\n    _should_backfill_atomic_asset_graph_subset_unit()\n"
              "    return build_run_requests_with_backfill_policies(1, 2, 3)\n") if call else ""
    exec(compile(source, "fake_asset_backfill", "exec"), module.__dict__)
    return module


def test_the_fix_refuses_dagster_internals_it_was_not_written_for():
    import dagster

    def renamed(asset_partitions, asset_graph, instance_queryer):
        return []

    def current(asset_partitions, asset_graph, dynamic_partitions_store):
        return []

    def fewer(asset_graph_view, candidate_asset_graph_subset_unit, target_subset, logger):
        return None

    for module, what in ((_fake_asset_backfill(renamed), "takes"), (_fake_asset_backfill(current, call=False), "no longer calls"),
                         (types.ModuleType("empty"), "is gone"), (_fake_asset_backfill(current, should_backfill=fewer), "takes")):
        with pytest.raises(BackfillFixError) as error:
            check_backfill_internals(module)
        message = str(error.value)
        assert f"dagster {dagster.__version__}" in message and what in message and "\n" not in message
    check_backfill_internals(_fake_asset_backfill(current))  # what 1.13 has: accepted


def test_the_instance_config_installs_the_fix_when_the_daemon_loads_it(tmp_path):
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
print(type(instance.run_coordinator).__name__, instance.get_concurrency_config().run_queue_config.max_concurrent_runs)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["SplittingQueuedRunCoordinator", "1"]  # concurrency.runs still applies
