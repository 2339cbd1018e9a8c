"""The platform's op layout in three small code locations, for the backfill fix's rule
(tests/unit/test_daemon_fix.py) and Dagster's own backfill daemon in process
(tests/e2e/test_backfill_units.py): an ingest op, sales' op on ingest, and inventory's op, whose ``days_of_supply`` reads
sales' ``order_items``. Each op is daily-partitioned, subsettable and backfilled in one run, as a
domain's dbt op is, and its assets carry the op's backfill unit (``dataplatform.daemon``)."""

from dagster import AssetKey, AssetSpec, BackfillPolicy, DailyPartitionsDefinition, Definitions, MaterializeResult, multi_asset

from dataplatform.daemon import BACKFILL_UNIT_TAG

DAYS = DailyPartitionsDefinition(start_date="2026-01-01")
RAW = AssetKey(["raw", "shop", "orders"])
ORDER_ITEMS, DAILY_REVENUE = AssetKey(["sales", "order_items"]), AssetKey(["sales", "daily_revenue"])
STOCK, DAYS_OF_SUPPLY = AssetKey(["inventory", "stock_levels"]), AssetKey(["inventory", "days_of_supply"])


def op(name: str, specs: list[AssetSpec]):
    @multi_asset(name=name, specs=[s.merge_attributes(tags={BACKFILL_UNIT_TAG: name}) for s in specs], can_subset=True,
                 partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run())
    def _op(context):
        for spec in specs:  # in dependency order, as Dagster requires of a multi-asset
            if spec.key in context.selected_asset_keys:
                yield MaterializeResult(asset_key=spec.key)

    return _op


shared_ingest = Definitions(assets=[op("ingest", [AssetSpec(RAW)])])
sales = Definitions(assets=[op("sales_dbt", [AssetSpec(ORDER_ITEMS, deps=[RAW]), AssetSpec(DAILY_REVENUE, deps=[ORDER_ITEMS])])])
inventory = Definitions(assets=[
    op("inventory_dbt", [AssetSpec(STOCK, deps=[RAW]), AssetSpec(DAYS_OF_SUPPLY, deps=[STOCK, ORDER_ITEMS])])])
