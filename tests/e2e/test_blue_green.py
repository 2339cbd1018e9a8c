"""Blue/green publishing of the marts (dbt/macros/publishing/), through the platform's jobs.

Real dbt, DuckDB and Dagster, on the platform's test project (tests/fixtures/subscriptions), a
scratch copy of its dbt project. Day 1 is built and published; then day 2 is built by billing with
a deliberately failing test (nothing published), by care (published regardless) and by a subset of
billing (publishes only what it built); then days 3 and 2 by billing once the test is gone
(published, incrementally, never from the rejected build).
"""

import pytest
from dagster import AssetKey
from support import checksum, day, execute_job, failed_checks, fixture_platform, materialized, query, run_days, scalar

DAY_1, DAY_2, DAY_3 = (day(k) for k in (1, 2, 3))
MART_SCHEMAS = ("billing", "care")  # what consumers read: published marts only
BLUE_SCHEMAS = ("billing_blue", "care_blue")
FAILING_TEST = "data-tests/billing/assert_no_invoices_on_day_two.sql"


@pytest.fixture(scope="module")
def platform(fixture_root, tmp_path_factory):
    """Day 1 built and published; day 2 landed and ingested, not yet built; day 3 landed."""
    with fixture_platform(fixture_root, tmp_path_factory.mktemp("blue_green"), days=(1, 2, 3)) as (warehouse, project):
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


def invoices_on(warehouse, relation: str, day: str) -> int:
    return scalar(warehouse, f"select count(*) from {relation} where cast(invoice_date as date) = '{day}'")


rows_on = invoices_on  # any relation with an invoice_date


def has_invoice_date(warehouse, relation: str) -> bool:
    schema, table = relation.split(".")
    return bool(scalar(warehouse, "select count(*) from information_schema.columns where table_schema = "
                                  f"'{schema}' and table_name = '{table}' and column_name = 'invoice_date'"))


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
    assert {"billing.invoices", "billing.accounts", "billing.daily_billing", "care.tickets", "care.account_health"} <= names
    # Consumers' schemas hold the published marts and nothing else; the builds are in the blue schemas.
    assert names == {name.replace("_blue.", ".") for name in relations(warehouse, BLUE_SCHEMAS)}
    assert invoices_on(warehouse, "billing.invoices", DAY_1) > 0


def test_a_day_never_ingested_fails_naming_it_and_leaves_green_unchanged(platform):
    """Day 3 has landed but was never ingested: the build refuses it instead of publishing an
    empty day, names the day and the ingest asset to materialize, and changes no green relation."""
    warehouse, _ = platform
    before = green(warehouse)

    result = execute_job("billing", "billing_build", DAY_3)

    assert not result.success
    message = "\n".join(e.step_failure_data.error.to_string() for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert (f"source billing.invoices: no delivery recorded for 1 day(s) of the build's window {DAY_3} .. {DAY_3}: {DAY_3}."
            in message), message[-3000:]
    assert f"Materialize the asset raw/billing/invoices of code location shared_ingest for partition(s) {DAY_3}" in message
    assert {("raw/billing/invoices", "source_delivered_billing_invoices_"),
            ("raw/billing/invoice_lines", "source_delivered_billing_invoice_lines_")} <= failed_checks(result)
    assert green(warehouse) == before  # byte for byte
    # Nothing built on the undelivered sources; the accounts' snapshot and staging, on a source
    # that was delivered, are (they publish nothing).
    assert {key for key in materialized(result) if key.startswith("billing/")} == {
        "billing/accounts_snapshot", "billing/stg_billing__accounts"}


def test_a_failing_test_leaves_green_unchanged_and_does_not_block_the_other_domain(platform):
    warehouse, project = platform
    before = green(warehouse)
    test = project / FAILING_TEST
    test.parent.mkdir(exist_ok=True)
    test.write_text(f"select * from {{{{ ref('invoices') }}}} where cast(invoice_date as date) = '{DAY_2}'\n")
    try:
        billing = execute_job("billing", "billing_build", DAY_2)
    finally:
        test.unlink()

    assert not billing.success
    assert ("billing/invoices", "assert_no_invoices_on_day_two") in failed_checks(billing)
    assert green(warehouse) == before  # byte for byte: the same rows in every mart of both domains
    # One build, so none of the domain's marts is published, the dimension (accounts) included.
    marts = ("billing/invoices", "billing/daily_billing", "billing/accounts")
    assert not set(marts) & materialized(billing)
    # Built and observed as not published; accounts and daily_billing, which read the failed
    # invoices, dbt skipped.
    assert {mart: published(billing, mart) for mart in marts} == {
        "billing/invoices": [False], "billing/daily_billing": [], "billing/accounts": []}
    # The rejected build stays in blue for inspection, in a schema consumers are not granted; no
    # relation of a consumer schema holds a row of the rejected day.
    assert invoices_on(warehouse, "billing_blue.invoices", DAY_2) > 0
    assert {name: rows_on(warehouse, name, DAY_2) for name in relations(warehouse, ("billing",))
            if has_invoice_date(warehouse, name)} == {"billing.invoices": 0, "billing.daily_billing": 0}

    care = execute_job("care", "care_build", DAY_2)
    assert care.success, "billing's failure must not block care"
    assert published(care, "care/tickets") == [True]
    assert green(warehouse)["care.tickets"] != before["care.tickets"]


def test_a_partial_run_publishes_only_what_it_built(platform):
    warehouse, _ = platform
    invoices_before = green(warehouse)["billing.invoices"]
    result = execute_job("billing", "billing_build", DAY_2, assets=["billing/accounts"])

    assert result.success
    assert materialized(result) == {"billing/accounts"}
    assert published(result, "billing/accounts") == [True]
    assert green(warehouse)["billing.invoices"] == invoices_before
    assert invoices_on(warehouse, "billing_blue.invoices", DAY_2) > 0  # not built here, so not published
    # accounts read the invoices consumers read (green), not the rejected blue build.
    assert scalar(warehouse, "select sum(invoice_count) from billing.accounts") == scalar(
        warehouse, "select count(*) from billing.invoices")


def test_the_next_clean_build_starts_from_green_and_publishes(platform):
    warehouse, _ = platform
    day_1_invoices = invoices_on(warehouse, "billing.invoices", DAY_1)
    assert execute_job("shared_ingest", "ingest_sources", DAY_3).success

    day_3 = execute_job("billing", "billing_build", DAY_3)

    assert day_3.success
    assert published(day_3, "billing/invoices") == [True]
    # Each table's page shows its row count, dbt's own count at the end of the build: the day's
    # rows of an event mart, the whole table of a dimension.
    assert row_count(day_3, "billing/invoices") == invoices_on(warehouse, "billing.invoices", DAY_3)
    assert row_count(day_3, "billing/accounts") == scalar(warehouse, "select count(*) from billing.accounts")
    assert invoices_on(warehouse, "billing.invoices", DAY_1) == day_1_invoices  # kept: incremental, not rebuilt
    assert invoices_on(warehouse, "billing.invoices", DAY_3) > 0
    # Blue started from green, not from the rejected build of day 2 it still held.
    assert invoices_on(warehouse, "billing.invoices", DAY_2) == 0
    # Published, so blue equals green: nothing is pending, and the next build copies nothing back.
    assert query(warehouse, "select day_start, day_end from blue_green.pending_days "
                            "where relation = 'billing_blue.invoices'") == []

    day_2 = execute_job("billing", "billing_build", DAY_2)

    assert day_2.success
    assert [invoices_on(warehouse, "billing.invoices", day) > 0 for day in (DAY_1, DAY_2, DAY_3)] == [True] * 3
    # Blue stays beside green after publishing, equal to it: the next build starts from it.
    assert green(warehouse)["billing.invoices"] == checksum(warehouse, "billing_blue.invoices")
