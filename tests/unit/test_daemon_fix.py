"""The backfill fix: a run request spanning code locations becomes one request per location."""

from dagster import AssetCheckKey, AssetKey, RunRequest
from dataplatform.daemon import install_backfill_fix, split_run_requests_by_code_location

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


def test_the_fix_installs_once():
    from dagster._core.execution import asset_backfill

    install_backfill_fix()
    patched = asset_backfill.build_run_requests_with_backfill_policies
    install_backfill_fix()
    assert asset_backfill.build_run_requests_with_backfill_policies is patched
    assert patched.splits_by_code_location
