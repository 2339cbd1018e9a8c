"""What the domains promise each other: public models are contracts (a breaking change to one
fails the PRODUCER's build, with dbt's contract error naming the column, and leaves the table its
consumers read as it was), and sources are fresh by dbt's own freshness check.

Real dbt and DuckDB: a day is built by the platform from a scratch copy of the project, then
the copy's public ``order_items`` is broken three ways and sales' build is run again.
"""

import subprocess

import duckdb
import pytest
from dagster import AssetKey
from support import (
    add_order_items_v2,
    checksum,
    evaluated_checks,
    execute_job,
    failed_checks,
    materialized,
    query,
    run_days,
    scratch_platform,
    unevaluated_checks,
)

from dataplatform.dbt_project import dbt_executable
from sourcesim.days import day_date

DAY_1 = day_date(1).isoformat()
ORDER_ITEMS = "models/sales/marts/order_items.sql"

# How sales could break its public order_items, and the column dbt's error must name.
BREAKS = {
    "dropped": (",\n        order_items.line_amount\n", "\n", "line_amount"),
    "renamed": ("order_items.line_amount\n", "order_items.line_amount as amount\n", "line_amount"),
    "retyped": ("order_items.quantity,", "cast(order_items.quantity as varchar) as quantity,", "quantity"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Day 1 through the platform, built from a scratch copy of the dbt project."""
    with scratch_platform(tmp_path_factory.mktemp("contracts")) as (warehouse, project):
        run_days(DAY_1)
        yield warehouse, project


@pytest.mark.parametrize("change", BREAKS)
def test_a_breaking_change_to_a_public_model_fails_the_producer_naming_the_column(built, change):
    warehouse, project = built
    old, new, column = BREAKS[change]
    model = project / ORDER_ITEMS
    original = model.read_text()
    assert old in original
    before = checksum(warehouse, "sales.order_items")
    model.write_text(original.replace(old, new, 1))
    try:
        result = execute_job("sales", "sales_build", DAY_1)
    finally:
        model.write_text(original)

    assert not result.success
    assert "sales/order_items" not in materialized(result)
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "contract" in message.lower() and column in message, message[-3000:]
    assert checksum(warehouse, "sales.order_items") == before  # what inventory reads is untouched


def test_dbt_source_freshness_passes_on_the_day_just_loaded(built, tmp_path):
    _, project = built
    result = subprocess.run(
        [dbt_executable(), "source", "freshness", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(tmp_path / "target")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.count("PASS freshness of") == 8, result.stdout[-3000:]
    assert "WARN freshness of" not in result.stdout


def test_a_breaking_change_ships_as_a_new_version_while_consumers_read_the_old_one(built):
    """The upgrade path: v2 (line_amount renamed) is built beside v1; inventory, pinned to v1,
    builds on as before; v1 carries a deprecation date, which dbt reports to its readers."""
    warehouse, project = built
    marts = project / "models" / "sales" / "marts"
    schema, original_schema = marts / "_sales__marts.yml", (marts / "_sales__marts.yml").read_text()
    deprecation = add_order_items_v2(project)
    v2_model = marts / "order_items_v2.sql"
    try:
        sales = execute_job("sales", "sales_build", DAY_1)
        inventory = execute_job("inventory", "inventory_build", DAY_1)
        parse = subprocess.run([dbt_executable(), "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
                               capture_output=True, text=True, timeout=300)
        from inventory.definitions import defs

        days_of_supply = defs().get_repository_def().asset_graph.get(AssetKey(["inventory", "days_of_supply"]))
    finally:
        schema.write_text(original_schema)
        v2_model.unlink()

    assert sales.success and {"sales/order_items", "sales/order_items_v2"} <= materialized(sales)
    columns = {t: [c for (c, *_) in query(warehouse, f"describe sales.{t}")] for t in ("order_items", "order_items_v2")}
    assert "line_amount" in columns["order_items"] and "amount" not in columns["order_items"]
    assert "amount" in columns["order_items_v2"] and "line_amount" not in columns["order_items_v2"]
    assert inventory.success and "inventory/days_of_supply" in materialized(inventory)
    assert AssetKey(["sales", "order_items"]) in days_of_supply.parent_keys
    assert AssetKey(["sales", "order_items_v2"]) not in days_of_supply.parent_keys
    assert parse.returncode == 0, parse.stdout[-2000:]
    assert "days_of_supply" in parse.stdout and "order_items.v1" in parse.stdout and deprecation in parse.stdout, parse.stdout[-2000:]


def test_the_critical_tests_run_on_their_own_as_checks_and_rebuild_nothing(built):
    """`sales_critical_tests` runs the dbt tests tagged critical (reconciliations, public keys)
    over every day, without building a model; a duplicate key slipped into a mart fails it."""
    warehouse, _ = built
    result = execute_job("sales", "sales_critical_tests")
    assert result.success and materialized(result) == set()
    assert evaluated_checks(result) == {
        ("sales/orders", "unique_orders_order_id"),
        ("sales/orders", "assert_orders_match_raw_orders"),
        ("sales/order_items", "unique_order_items_v1_order_item_id"),
        ("sales/customers", "unique_customers_customer_id"),
        ("sales/customers", "assert_every_order_has_a_customer"),
        ("sales/daily_revenue", "assert_daily_revenue_matches_raw_order_items"),
    }
    assert not unevaluated_checks(result)
    inventory = execute_job("inventory", "inventory_critical_tests")
    assert inventory.success and evaluated_checks(inventory) and not unevaluated_checks(inventory)

    rows = query(warehouse, "select count(*) from sales.orders")[0][0]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into sales.orders select * from sales.orders limit 1")
    result = execute_job("sales", "sales_critical_tests")
    assert not result.success
    assert ("sales/orders", "unique_orders_order_id") in failed_checks(result)
    assert query(warehouse, "select count(*) from sales.orders")[0][0] == rows + 1  # nothing rebuilt it
