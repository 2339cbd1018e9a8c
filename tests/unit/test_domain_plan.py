"""A domain's plan, case by case, from the test project's real manifest (tests/fixtures/subscriptions):
no Dagster definitions, instance or dbt run."""

import pytest
from dagster import AssetKey

from dataplatform.dbt.plan import UnknownGroupError, plan_domain


@pytest.fixture(scope="module")
def plans(fixture_manifest):
    return {domain: plan_domain(fixture_manifest, domain, "0 7 * * *") for domain in ("billing", "care")}


def key(name: str) -> AssetKey:
    return AssetKey.from_user_string(name)


def inputs(plan) -> set[str]:
    return {i.key.to_user_string() for i in plan.inputs}


def test_a_domain_is_one_op_over_its_group_in_its_snapshot_pool(plans):
    assert (plans["billing"].op, plans["billing"].select, plans["billing"].pool) == (
        "billing_dbt", "group:billing", "billing_snapshots")


def test_a_domain_is_one_job_started_by_one_trigger(plans):
    assert (plans["care"].job, plans["care"].trigger) == ("care_build", "care_on_new_data")


def test_billing_waits_for_its_billing_sources(plans):
    assert inputs(plans["billing"]) == {"raw/billing/accounts", "raw/billing/invoice_lines", "raw/billing/invoices"}


def test_care_also_waits_for_billings_public_models(plans):
    assert inputs(plans["care"]) == {"raw/support/tickets", "raw/crm/contacts", "billing/accounts", "billing/invoices"}


def test_only_account_health_reads_billing(plans):
    assert plans["care"].readers_of([key("billing/invoices"), key("billing/accounts")]) == {key("care/account_health")}


def test_a_source_another_tool_loads_is_an_observed_input(plans):
    """crm.contacts (loader: fivetran) is observed by shared_ingest, never materialized: care's day
    waits for its observations; the sources the platform loads are waited for as materializations."""
    observed = {i.key.to_user_string(): i for i in plans["care"].inputs if i.observed}
    assert set(observed) == {"raw/crm/contacts"}
    assert observed["raw/crm/contacts"].readers == (key("care/stg_crm__contacts"),)
    assert not [i.key for i in plans["billing"].inputs if i.observed]


def test_a_snapshot_is_in_the_plan_as_an_asset(plans):
    assert key("billing/accounts_snapshot") in plans["billing"].assets and plans["billing"].snapshots == 1
    assert plans["care"].snapshots == 0


def test_dependents_are_the_asset_and_everything_below_it_in_the_domain(plans):
    assert plans["billing"].dependents([key("billing/stg_billing__invoice_lines")]) == {
        key("billing/stg_billing__invoice_lines"), key("billing/int_invoice_lines_summed_to_invoices"),
        key("billing/invoices"), key("billing/daily_billing"), key("billing/accounts")}


def test_dependents_stop_at_the_domain(plans):
    """care's account_health reads billing's invoices: it is care's to rebuild, not billing's."""
    assert all(k.path[0] == "billing" for k in plans["billing"].dependents([key("billing/invoices")]))


def test_the_critical_tests_have_their_job(plans):
    assert plans["billing"].critical_tests_job == "billing_critical_tests" and plans["billing"].critical_tests


def test_marts_are_the_models_under_marts(plans):
    assert {k.path[-1] for k in plans["care"].marts} == {"account_health", "tickets"}


def test_the_blue_relations_are_the_marts_built_blue(plans):
    """In dev every mart is built blue (publishing), so the op holds each one's report until dbt publishes."""
    for plan in plans.values():
        assert set(plan.blue_relations) == set(plan.marts)
        assert all(f'"{key.path[0]}_blue"' in relation for key, relation in plan.blue_relations.items())


def test_the_counted_tables_are_the_materialized_ones_not_the_views(plans):
    tables = plans["billing"].tables
    assert tables[key("billing/accounts_snapshot")] == "snapshot.warehouse.accounts_snapshot"
    assert tables[key("billing/invoices")] == plans["billing"].unique_ids[key("billing/invoices")] == "model.warehouse.invoices.v1"
    assert key("billing/stg_billing__accounts") in plans["billing"].unique_ids
    assert key("billing/stg_billing__accounts") not in tables  # a view: no rows to count


def test_the_tests_are_those_on_what_the_domain_builds_or_reads(plans):
    """care reads billing's public models: it carries their tests (dbt runs them in care's build when
    they read care's models too) and its sources' tests, and none of billing's own staging tests."""
    care = plans["care"].tests
    assert care["relationships_account_health_account_id__account_id__ref_accounts_"] == (
        "model.warehouse.accounts", "model.warehouse.account_health")
    assert care["source_unique_support_tickets_ticket_id"] == ("source.warehouse.support.tickets",)
    assert not any("stg_billing" in name for name in care)
    assert set(plans["care"].critical_tests) <= set(care)


def test_a_group_the_project_does_not_declare_is_refused_naming_the_groups_it_does(fixture_manifest):
    with pytest.raises(UnknownGroupError, match=r"dbt group 'finance' is not declared in the dbt project "
                                                r"\(its groups: billing, care\)"):
        plan_domain(fixture_manifest, "finance", "0 7 * * *")


def test_a_declared_group_without_models_yet_has_no_plan(fixture_manifest):
    """A domain just created (`tasks.py new-domain`): it loads, and defines nothing yet."""
    with_group = {**fixture_manifest, "groups": {**fixture_manifest["groups"], "group.x.finance": {"name": "finance"}}}
    assert plan_domain(with_group, "finance", "0 7 * * *") is None
