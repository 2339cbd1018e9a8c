"""A domain's plan, case by case, from the real manifest: no Dagster definitions, instance or dbt run."""

import pytest
from dagster import AssetKey

from dataplatform.domain import UnknownGroupError, plan_domain


@pytest.fixture(scope="module")
def plans(manifest):
    return {domain: plan_domain(manifest, domain, "0 7 * * *") for domain in ("sales", "inventory")}


def key(name: str) -> AssetKey:
    return AssetKey.from_user_string(name)


def inputs(plan) -> set[str]:
    return {i.key.to_user_string() for i in plan.inputs}


def test_a_domain_is_one_op_over_its_group_in_its_snapshot_pool(plans):
    assert (plans["sales"].op, plans["sales"].select, plans["sales"].pool) == ("sales_dbt", "group:sales", "sales_snapshots")


def test_a_domain_is_one_job_started_by_one_trigger(plans):
    assert (plans["inventory"].job, plans["inventory"].trigger) == ("inventory_build", "inventory_on_new_data")


def test_sales_waits_for_its_shop_sources(plans):
    assert inputs(plans["sales"]) == {"raw/shop/customers", "raw/shop/order_items", "raw/shop/orders", "raw/shop/payments"}


def test_inventory_also_waits_for_sales_public_order_items(plans):
    assert "sales/order_items" in inputs(plans["inventory"])


def test_only_days_of_supply_reads_sales(plans):
    assert plans["inventory"].readers_of([key("sales/order_items")]) == {key("inventory/days_of_supply")}


def test_a_snapshot_is_in_the_plan_as_an_asset(plans):
    assert key("sales/customers_snapshot") in plans["sales"].assets and plans["sales"].snapshots == 1


def test_dependents_are_the_asset_and_everything_below_it_in_the_domain(plans):
    assert plans["sales"].dependents([key("sales/stg_shop__payments")]) == {
        key("sales/stg_shop__payments"), key("sales/int_payments_summed_to_orders"), key("sales/orders"),
        key("sales/customers")}


def test_dependents_stop_at_the_domain(plans):
    assert all(k.path[0] == "sales" for k in plans["sales"].dependents([key("sales/order_items")]))


def test_the_critical_tests_have_their_job(plans):
    assert plans["sales"].critical_tests_job == "sales_critical_tests" and plans["sales"].critical_tests


def test_marts_are_the_models_under_marts(plans):
    assert {k.path[-1] for k in plans["inventory"].marts} == {"days_of_supply", "products", "stock_levels"}


def test_a_group_the_project_does_not_declare_is_refused_naming_the_groups_it_does(manifest):
    with pytest.raises(UnknownGroupError, match="dbt group 'finance' is not declared in the dbt project"):
        plan_domain(manifest, "finance", "0 7 * * *")


def test_a_declared_group_without_models_yet_has_no_plan(manifest):
    """A domain just created (`tasks.py new-domain`): it loads, and defines nothing yet."""
    with_group = {**manifest, "groups": {**manifest["groups"], "group.x.finance": {"name": "finance"}}}
    assert plan_domain(with_group, "finance", "0 7 * * *") is None
