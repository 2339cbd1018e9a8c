"""The example's day 1 and day 2 through the real locations: ingest, snapshots and builds on a fresh DuckDB.

Each day runs the daily chain of jobs (ingest, then each domain's snapshots and build) for that
day's partition, as the schedules would, and the warehouse is reconciled against the generated input.
"""

from decimal import Decimal

import duckdb
import numpy as np
import pytest
from example.example_support import EXAMPLE_CHAIN
from support import failed_checks, materialized, point_platform_at, query, run_days, scalar

from inventory.definitions import defs as inventory_defs
from sales.definitions import defs as sales_defs
from sourcesim.days import day_date
from sourcesim.generator import day_tables, generate_day

SCALE, SEED = 0.3, 42
pytestmark = [pytest.mark.shared_ingest, pytest.mark.sales, pytest.mark.inventory]


def cents(values: np.ndarray) -> Decimal:
    return Decimal(int(values.sum())) / 100


@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    """Run day 1, snapshot the warehouse figures, then day 2; yield both."""
    mp = pytest.MonkeyPatch()
    local = tmp_path_factory.mktemp("local")
    point_platform_at(mp, local)
    db = local / "warehouse.duckdb"
    landing = str(local / "landing")

    generate_day(landing, 1, scale=SCALE, seed=SEED)
    run_days(day_date(1).isoformat(), chain=EXAMPLE_CHAIN)
    day1 = {
        "orders": scalar(db, "select count(*) from sales.orders"),
        "customers_current": query(db, "select customer_id, tier, city from sales.customers order by 1"),
        "daily_revenue": query(db, "select order_date, gross_revenue from sales.daily_revenue"),
        "products": query(db, "select product_id, list_price from inventory.products order by 1"),
    }
    generate_day(landing, 2, scale=SCALE, seed=SEED)
    run_days(day_date(2).isoformat(), chain=EXAMPLE_CHAIN)
    yield db, day1
    mp.undo()


def test_day1_raw_tables_hold_exactly_the_generated_rows(two_days):
    db, _ = two_days
    generated = {**day_tables(SEED, SCALE, 1)}
    day2 = day_tables(SEED, SCALE, 2)
    for table in ("orders", "order_items", "payments", "stock_movements"):
        expected = generated[table][next(iter(generated[table]))].size + day2[table][next(iter(day2[table]))].size
        assert scalar(db, f"select count(*) from raw_{'erp' if table == 'stock_movements' else 'shop'}.{table}") == expected
    assert scalar(db, "select count(*) from raw_shop.customers") == day2["customers"]["customer_id"].size


def test_revenue_reconciles_with_the_generated_order_lines(two_days):
    db, day1 = two_days
    d1, d2 = day_tables(SEED, SCALE, 1)["order_items"], day_tables(SEED, SCALE, 2)["order_items"]
    expected = cents(d1["quantity"] * d1["unit_price"]) + cents(d2["quantity"] * d2["unit_price"])
    assert scalar(db, "select sum(gross_revenue) from sales.daily_revenue") == expected
    assert [r[1] for r in day1["daily_revenue"]] == [cents(d1["quantity"] * d1["unit_price"])]
    assert scalar(db, "select count(*) from sales.daily_revenue") == 2


def test_orders_mart_covers_both_days(two_days):
    db, day1 = two_days
    n1 = day_tables(SEED, SCALE, 1)["orders"]["order_id"].size
    n2 = day_tables(SEED, SCALE, 2)["orders"]["order_id"].size
    assert day1["orders"] == n1
    assert scalar(db, "select count(*) from sales.orders") == n1 + n2


def test_customer_snapshot_recorded_the_day_two_changes(two_days):
    db, day1 = two_days
    c1, c2 = day_tables(SEED, SCALE, 1)["customers"], day_tables(SEED, SCALE, 2)["customers"]
    n1 = c1["customer_id"].size
    changed = np.flatnonzero((c1["tier"] != c2["tier"][:n1]) | (c1["city"] != c2["city"][:n1])) + 1
    assert changed.size > 0
    closed = query(db, "select customer_id from sales_snapshots.customers_snapshot where dbt_valid_to is not null order by 1")
    assert [r[0] for r in closed] == changed.tolist()
    assert scalar(db, "select count(*) from sales_snapshots.customers_snapshot") == c2["customer_id"].size + changed.size
    assert scalar(db, """
        select count(*) from (select customer_id from sales_snapshots.customers_snapshot
        where dbt_valid_to is null group by customer_id having count(*) > 1)""") == 0
    assert scalar(db, "select sum(change_count) from sales.customers") == changed.size
    moved = {r[0]: r[1:] for r in query(db, "select customer_id, tier, city from sales.customers")}
    before = {r[0]: r[1:] for r in day1["customers_current"]}
    assert {cid for cid in before if before[cid] != moved[cid]} == set(changed.tolist())


def test_product_snapshot_recorded_the_price_changes(two_days):
    db, day1 = two_days
    p1, p2 = day_tables(SEED, SCALE, 1)["products"], day_tables(SEED, SCALE, 2)["products"]
    changed = np.flatnonzero(p1["list_price"] != p2["list_price"]) + 1
    closed = query(db, "select product_id from inventory_snapshots.products_snapshot where dbt_valid_to is not null order by 1")
    assert [r[0] for r in closed] == changed.tolist()
    now = dict(query(db, "select product_id, list_price from inventory.products"))
    assert {pid for pid, price in day1["products"] if now[pid] != price} == set(changed.tolist())


def test_stock_and_days_of_supply_reconcile(two_days):
    db, _ = two_days
    moves = [day_tables(SEED, SCALE, d)["stock_movements"]["quantity"] for d in (1, 2)]
    assert scalar(db, "select sum(quantity_on_hand) from inventory.stock_levels") == int(sum(m.sum() for m in moves))
    products = day_tables(SEED, SCALE, 2)["products"]["product_id"].size
    assert scalar(db, "select count(*) from inventory.days_of_supply") == products
    assert scalar(db, "select count(*) from inventory.days_of_supply where days_of_supply < 0") == 0


def build_domain(load, job: str):
    """One domain's build of day 2, in process, on the module's warehouse; failures are the point."""
    partition = day_date(2).isoformat()
    result = load().resolve_job_def(job).execute_in_process(partition_key=partition, raise_on_error=False)
    return result, materialized(result), failed_checks(result)


def test_failing_source_checks_block_the_domain_builds(two_days):
    """Runs last: it leaves the raw tables broken. A stale raw table (its last load older than the
    source's freshness threshold) and a duplicated key each fail a dbt source test, which runs as
    an asset check on the ingest asset inside the domain's build and skips what is built on it."""
    db, _ = two_days
    orders_before = query(db, "select count(*), sum(order_amount) from sales.orders")
    with duckdb.connect(str(db)) as con:
        con.execute("update raw_shop.orders set _loaded_at = _loaded_at - interval 30 hour")
        con.execute("insert into raw_erp.stock_movements select * from raw_erp.stock_movements "
                    f"where _export_date = '{day_date(2)}' limit 1")

    result, built, failed = build_domain(sales_defs, "sales_build")
    assert not result.success
    assert failed == {("raw/shop/orders", "source_fresh_shop_orders_")}
    assert "sales/stg_shop__payments" in built  # not built on orders
    # nothing built on orders, and the day's events failed, so neither the dimensions after them
    assert not built & {"sales/stg_shop__orders", "sales/orders", "sales/order_items", "sales/daily_revenue",
                        "sales/customers"}
    assert query(db, "select count(*), sum(order_amount) from sales.orders") == orders_before

    result, built, failed = build_domain(inventory_defs, "inventory_build")
    assert not result.success
    assert failed == {("raw/erp/stock_movements", "source_unique_erp_stock_movements_movement_id")}
    assert not built & {"inventory/stg_erp__stock_movements", "inventory/int_stock_movements_summed_to_days",
                        "inventory/stock_levels", "inventory/days_of_supply"}
