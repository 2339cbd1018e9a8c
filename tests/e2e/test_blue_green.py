"""Blue/green publishing of the marts (dbt/macros/publishing/), through the platform's jobs.

Real dbt, DuckDB and Dagster, on a scratch copy of the dbt project. Day 1 is built and published;
then day 2 is built by sales with a deliberately failing test (nothing published), by inventory
(published regardless) and by a subset of sales (publishes only what it built); then days 3 and
2 by sales once the test is gone (published, incrementally, never from the rejected build).
"""

import pytest
from dagster import AssetKey
from support import checksum, execute_job, failed_checks, materialized, query, run_days, scalar, scratch_platform

from sourcesim.days import day_date

DAY_1, DAY_2, DAY_3 = (day_date(day).isoformat() for day in (1, 2, 3))
MART_SCHEMAS = ("sales", "inventory")  # what consumers read: published marts only
BLUE_SCHEMAS = ("sales_blue", "inventory_blue")
FAILING_TEST = "data-tests/sales/assert_no_orders_on_day_two.sql"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """Day 1 built and published; day 2 landed and ingested, not yet built; day 3 landed."""
    with scratch_platform(tmp_path_factory.mktemp("blue_green"), days=(1, 2, 3)) as (warehouse, project):
        run_days(DAY_1)
        assert execute_job("shared_ingest", "ingest_sources", DAY_2).success
        yield warehouse, project


def relations(warehouse, schemas: tuple[str, ...] = MART_SCHEMAS) -> set[str]:
    return {f"{s}.{t}" for s, t in query(warehouse, "select table_schema, table_name from information_schema.tables "
                                                    f"where table_schema in {schemas}")}


def green(warehouse) -> dict[str, tuple]:
    """Every relation consumers read in the mart schemas, with its row count and content hash."""
    return {
        name: checksum(warehouse, name)
        for name in sorted(relations(warehouse))
    }


def orders_on(warehouse, relation: str, day: str) -> int:
    return scalar(warehouse, f"select count(*) from {relation} where cast(order_date as date) = '{day}'")


rows_on = orders_on  # any relation with an order_date


def has_order_date(warehouse, relation: str) -> bool:
    schema, table = relation.split(".")
    return bool(scalar(warehouse, "select count(*) from information_schema.columns where table_schema = "
                                  f"'{schema}' and table_name = '{table}' and column_name = 'order_date'"))


def published(result, key: str) -> list:
    """The ``published`` flag of each materialization and observation of one asset in the run."""
    return [
        e.event_specific_data.materialization.metadata["published"].value
        if e.event_type_value == "ASSET_MATERIALIZATION"
        else e.event_specific_data.asset_observation.metadata["published"].value
        for e in result.all_events
        if e.event_type_value in ("ASSET_MATERIALIZATION", "ASSET_OBSERVATION") and e.asset_key == AssetKey.from_user_string(key)
    ]


def row_count(result, key: str) -> int:
    [materialization] = [e.event_specific_data.materialization for e in result.all_events
                         if e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == AssetKey.from_user_string(key)]
    return materialization.metadata["dagster/row_count"].value


def test_a_clean_build_leaves_only_green_relations(platform):
    warehouse, _ = platform
    names = relations(warehouse)
    assert {"sales.orders", "sales.order_items", "sales.customers", "inventory.products"} <= names
    # Consumers' schemas hold the published marts and nothing else; the builds are in the blue schemas.
    assert names == {name.replace("_blue.", ".") for name in relations(warehouse, BLUE_SCHEMAS)}
    assert orders_on(warehouse, "sales.orders", DAY_1) > 0


def test_a_day_never_ingested_fails_naming_it_and_leaves_green_unchanged(platform):
    """Day 3 has landed but was never ingested: the build refuses it instead of publishing an
    empty day, names the day and the ingest asset to materialize, and changes no green relation."""
    warehouse, _ = platform
    before = green(warehouse)

    result = execute_job("sales", "sales_build", DAY_3)

    assert not result.success
    message = "\n".join(e.step_failure_data.error.to_string() for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert (f"source shop.orders: no delivery recorded for 1 day(s) of the build's window {DAY_3} .. {DAY_3}: {DAY_3}."
            in message), message[-3000:]
    assert f"Materialize the asset raw/shop/orders of code location shared_ingest for partition(s) {DAY_3}" in message
    assert {("raw/shop/orders", "source_delivered_shop_orders_"), ("raw/shop/payments", "source_delivered_shop_payments_")
            } <= failed_checks(result)
    assert green(warehouse) == before  # byte for byte
    # Nothing built on the undelivered sources; the customers' snapshot and staging, on a source
    # that was delivered, are (they publish nothing).
    assert {key for key in materialized(result) if key.startswith("sales/")} == {
        "sales/customers_snapshot", "sales/stg_shop__customers"}


def test_a_failing_test_leaves_green_unchanged_and_does_not_block_the_other_domain(platform):
    warehouse, project = platform
    before = green(warehouse)
    test = project / FAILING_TEST
    test.write_text(f"select * from {{{{ ref('orders') }}}} where cast(order_date as date) = '{DAY_2}'\n")
    try:
        sales = execute_job("sales", "sales_build", DAY_2)
    finally:
        test.unlink()

    assert not sales.success
    assert ("sales/orders", "assert_no_orders_on_day_two") in failed_checks(sales)
    assert green(warehouse) == before  # byte for byte: the same rows in every mart of both domains
    # One build, so none of the domain's marts is published, the dimension (customers) included.
    marts = ("sales/orders", "sales/order_items", "sales/daily_revenue", "sales/customers")
    assert not set(marts) & materialized(sales)
    # Built and observed as not published; customers, which reads the failed orders, dbt skipped.
    assert {mart: published(sales, mart) for mart in marts} == {
        "sales/orders": [False], "sales/order_items": [False], "sales/daily_revenue": [False], "sales/customers": []}
    # The rejected build stays in blue for inspection, in a schema consumers are not granted; no
    # relation of a consumer schema holds a row of the rejected day.
    assert orders_on(warehouse, "sales_blue.orders", DAY_2) > 0
    assert {name: rows_on(warehouse, name, DAY_2) for name in relations(warehouse, ("sales",)) if has_order_date(warehouse, name)} == {
        "sales.orders": 0, "sales.order_items": 0, "sales.daily_revenue": 0}

    inventory = execute_job("inventory", "inventory_build", DAY_2)
    assert inventory.success, "sales' failure must not block inventory"
    assert published(inventory, "inventory/stock_levels") == [True]
    assert green(warehouse)["inventory.stock_levels"] != before["inventory.stock_levels"]


def test_a_partial_run_publishes_only_what_it_built(platform):
    warehouse, _ = platform
    orders_before = green(warehouse)["sales.orders"]
    result = execute_job("sales", "sales_build", DAY_2, assets=["sales/customers"])

    assert result.success
    assert materialized(result) == {"sales/customers"}
    assert published(result, "sales/customers") == [True]
    assert green(warehouse)["sales.orders"] == orders_before
    assert orders_on(warehouse, "sales_blue.orders", DAY_2) > 0  # not built here, so not published
    # customers read the orders consumers read (green), not the rejected blue build.
    assert scalar(warehouse, "select sum(order_count) from sales.customers") == scalar(
        warehouse, "select count(*) from sales.orders")


def test_the_next_clean_build_starts_from_green_and_publishes(platform):
    warehouse, _ = platform
    day_1_orders = orders_on(warehouse, "sales.orders", DAY_1)
    assert execute_job("shared_ingest", "ingest_sources", DAY_3).success

    day_3 = execute_job("sales", "sales_build", DAY_3)

    assert day_3.success
    assert published(day_3, "sales/orders") == [True]
    # Each table's page shows its row count, dbt's own count at the end of the build: the day's
    # rows of an event mart, the whole table of a dimension.
    assert row_count(day_3, "sales/orders") == orders_on(warehouse, "sales.orders", DAY_3)
    assert row_count(day_3, "sales/customers") == scalar(warehouse, "select count(*) from sales.customers")
    assert orders_on(warehouse, "sales.orders", DAY_1) == day_1_orders  # kept: incremental, not rebuilt
    assert orders_on(warehouse, "sales.orders", DAY_3) > 0
    # Blue started from green, not from the rejected build of day 2 it still held.
    assert orders_on(warehouse, "sales.orders", DAY_2) == 0
    # Published, so blue equals green: nothing is pending, and the next build copies nothing back.
    assert query(warehouse, "select day_start, day_end from blue_green.pending_days where relation = 'sales_blue.orders'") == []

    day_2 = execute_job("sales", "sales_build", DAY_2)

    assert day_2.success
    assert [orders_on(warehouse, "sales.orders", day) > 0 for day in (DAY_1, DAY_2, DAY_3)] == [True] * 3
    # Blue stays beside green after publishing, equal to it: the next build starts from it.
    assert green(warehouse)["sales.orders"] == checksum(warehouse, "sales_blue.orders")
