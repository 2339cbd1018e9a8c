"""dbt unit tests of the example's window logic (days_of_supply, the orders' payment flag) run in
their domain's build, before the model: a deliberately wrong one fails the build, names itself,
and nothing is published. Real dbt, DuckDB and Dagster, on a scratch copy of the project."""

import pytest
from example.example_support import EXAMPLE_CHAIN, example_platform
from support import checksum, execute_job, materialized, run_days

from sourcesim.days import day_date

DAY_1 = day_date(1).isoformat()
pytestmark = [pytest.mark.sales, pytest.mark.inventory]
# Per domain: its marts YAML, an expected row made wrong, the unit test's name, the model it
# guards, and the marts whose published rows must stay as they were.
UNIT_TESTS = {
    "inventory": ("models/inventory/marts/_inventory__marts.yml", "days_of_supply: 280, needs_reorder: false",
                  "days_of_supply: 281, needs_reorder: false", "days_of_supply_is_stock_over_the_last_28_days_rate_of_sales",
                  "days_of_supply", ("inventory.days_of_supply", "inventory.products", "inventory.stock_levels")),
    "sales": ("models/sales/marts/_sales__marts.yml", "amount_paid: 29.99, is_fully_paid: false",
              "amount_paid: 29.99, is_fully_paid: true", "an_order_is_fully_paid_once_its_payments_cover_its_lines",
              "orders", ("sales.orders", "sales.customers", "sales.order_items")),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Day 1 through the platform (the unit tests pass in both builds), from a scratch project."""
    with example_platform(tmp_path_factory.mktemp("unit_tests")) as (warehouse, project):
        run_days(DAY_1, chain=EXAMPLE_CHAIN)
        yield warehouse, project


@pytest.mark.parametrize("domain", UNIT_TESTS)
def test_a_wrong_unit_test_fails_its_domains_build_and_publishes_nothing(built, domain):
    warehouse, project = built
    path, right, wrong, name, model, published = UNIT_TESTS[domain]
    schema = project / path
    original = schema.read_text()
    assert right in original
    marts = {relation: checksum(warehouse, relation) for relation in published}
    schema.write_text(original.replace(right, wrong, 1))
    try:
        result = execute_job(domain, f"{domain}_build", DAY_1)
    finally:
        schema.write_text(original)

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert name in message, message[-3000:]
    assert f"{domain}/{model}" not in materialized(result)  # the model the unit test guards was not built
    # Published nothing: every green mart is byte for byte as it was.
    assert {relation: checksum(warehouse, relation) for relation in marts} == marts
