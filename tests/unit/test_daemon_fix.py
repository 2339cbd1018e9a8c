"""The backfill fix: a run request spanning code locations becomes one request per location."""

from dagster import AssetCheckKey, AssetKey, RunRequest
from dataplatform.daemon import install_backfill_fix, split_run_requests_by_code_location

LOCATION = {"raw/shop/orders": "shared_ingest", "sales/orders": "sales", "inventory/products": "inventory"}


class Graph:
    """The one method of Dagster's workspace asset graph the fix uses, over a fixed layout."""

    def split_entity_keys_by_repository(self, keys):
        groups = {}
        for key in keys:
            groups.setdefault(LOCATION[key.to_user_string()], set()).add(key)
        return list(groups.values())


def test_a_cross_location_request_is_split_with_its_checks():
    sales, inventory = AssetKey(["sales", "orders"]), AssetKey(["inventory", "products"])
    checks = [AssetCheckKey(sales, "unique_orders_order_id"), AssetCheckKey(inventory, "unique_products_product_id")]
    [request] = [RunRequest(asset_selection=[sales, inventory], asset_check_keys=checks)]
    split = split_run_requests_by_code_location([request], Graph())
    assert sorted((r.asset_selection, r.asset_check_keys) for r in split) == sorted(
        [([inventory], [checks[1]]), ([sales], [checks[0]])]
    )


def test_a_single_location_request_is_left_alone():
    request = RunRequest(asset_selection=[AssetKey(["sales", "orders"])])
    assert split_run_requests_by_code_location([request], Graph()) == [request]


def test_the_fix_installs_once():
    from dagster._core.execution import asset_backfill

    install_backfill_fix()
    patched = asset_backfill.build_run_requests_with_backfill_policies
    install_backfill_fix()
    assert asset_backfill.build_run_requests_with_backfill_policies is patched
    assert patched.splits_by_code_location
