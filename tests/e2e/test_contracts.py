"""What the domains promise each other: public models are contracts (a breaking change to one
fails the PRODUCER's build, with dbt's contract error naming the column, and leaves the table its
consumers read as it was), and sources are fresh by dbt's own freshness check.

Real dbt and DuckDB, on the platform's test project (tests/fixtures/subscriptions): a day is built
by the platform from a scratch copy of its dbt project, then the copy's public ``invoices`` (which
care reads, pinned to v1) is broken three ways and billing's build is run again.
"""

import subprocess
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from dagster import AssetKey
from support import (
    add_invoices_v2,
    checksum,
    day,
    evaluated_checks,
    execute_job,
    failed_checks,
    fixture_platform,
    materialized,
    query,
    run_days,
    scalar,
    unevaluated_checks,
)

from dataplatform.dbt.project import dbt_executable

DAY_1 = day(1)
INVOICES = "models/billing/marts/invoices.sql"
# The tables the platform loads (shared_ingest), each with dbt's freshness config.
LOADED_SOURCES = ("billing.accounts", "billing.invoices", "billing.invoice_lines", "support.tickets")

# How billing could break its public invoices, and the column dbt's error must name.
BREAKS = {
    "dropped": ("        cast(coalesce(invoice_totals.invoice_amount, 0) as decimal(18, 2)) as invoice_amount,\n", "",
                "invoice_amount"),
    "renamed": (" as invoice_amount,\n", " as amount,\n", "invoice_amount"),
    "retyped": ("cast(coalesce(invoice_totals.line_count, 0) as bigint) as line_count,",
                "cast(coalesce(invoice_totals.line_count, 0) as varchar) as line_count,", "line_count"),
}


@pytest.fixture(scope="module")
def built(fixture_root, tmp_path_factory):
    """Day 1 through the platform, built from a scratch copy of the test project's dbt project."""
    with fixture_platform(fixture_root, tmp_path_factory.mktemp("contracts")) as (warehouse, project):
        run_days(DAY_1)
        yield warehouse, project


def freshness(project, target, *select: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [dbt_executable(), "source", "freshness", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(target), *(("--select", *select) if select else ())],
        capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize("change", BREAKS)
def test_a_breaking_change_to_a_public_model_fails_the_producer_naming_the_column(built, change):
    warehouse, project = built
    old, new, column = BREAKS[change]
    model = project / INVOICES
    original = model.read_text()
    assert original.count(old) == 1
    before = checksum(warehouse, "billing.invoices")
    model.write_text(original.replace(old, new, 1))
    try:
        result = execute_job("billing", "billing_build", DAY_1)
    finally:
        model.write_text(original)

    assert not result.success
    assert "billing/invoices" not in materialized(result)
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "contract" in message.lower() and column in message, message[-3000:]
    assert checksum(warehouse, "billing.invoices") == before  # what care reads is untouched


def test_dbt_source_freshness_passes_on_the_day_just_loaded(built, tmp_path):
    """Every table the platform loaded passes dbt's freshness: ingest stamps each row with its
    load time (``_loaded_at``). The crm, which Fivetran loads, dbt judges by Fivetran's own sync
    time (``_fivetran_synced``), whatever the platform did: the fixture synced it an hour after
    day 1 ended on the calendar, so its status is what that time's age gives (stale, unless the
    calendar is this week)."""
    warehouse, project = built
    result = freshness(project, tmp_path / "target", *(f"source:{source}" for source in LOADED_SOURCES))
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.count("PASS freshness of") == len(LOADED_SOURCES), result.stdout[-3000:]
    for source in LOADED_SOURCES:
        assert f"PASS freshness of {source} " in result.stdout, result.stdout[-3000:]
    assert "WARN freshness of" not in result.stdout

    crm = freshness(project, tmp_path / "target-crm", "source:crm")
    synced = scalar(warehouse, "select max(_fivetran_synced) from raw_crm.contacts")
    age = datetime.now(UTC) - synced
    expected = "PASS" if age < timedelta(hours=25) else "WARN" if age < timedelta(hours=49) else "ERROR STALE"
    assert f"{expected} freshness of crm.contacts " in crm.stdout, crm.stdout[-3000:]
    assert crm.returncode == (1 if expected == "ERROR STALE" else 0), crm.stdout[-3000:]


def test_a_breaking_change_ships_as_a_new_version_while_consumers_read_the_old_one(built):
    """The upgrade path: v2 (invoice_amount renamed) is built beside v1; care, pinned to v1,
    builds on as before; v1 carries a deprecation date, which dbt reports to its readers."""
    warehouse, project = built
    marts = project / "models" / "billing" / "marts"
    schema, original_schema = marts / "_billing__marts.yml", (marts / "_billing__marts.yml").read_text()
    deprecation = add_invoices_v2(project)
    v2_model = marts / "invoices_v2.sql"
    try:
        billing = execute_job("billing", "billing_build", DAY_1)
        care = execute_job("care", "care_build", DAY_1)
        parse = subprocess.run([dbt_executable(), "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
                               capture_output=True, text=True, timeout=300)
        from care.definitions import defs

        account_health = defs().get_repository_def().asset_graph.get(AssetKey(["care", "account_health"]))
    finally:
        schema.write_text(original_schema)
        v2_model.unlink()

    assert billing.success and {"billing/invoices", "billing/invoices_v2"} <= materialized(billing)
    columns = {t: [c for (c, *_) in query(warehouse, f"describe billing.{t}")] for t in ("invoices", "invoices_v2")}
    assert "invoice_amount" in columns["invoices"] and "amount" not in columns["invoices"]
    assert "amount" in columns["invoices_v2"] and "invoice_amount" not in columns["invoices_v2"]
    assert care.success and "care/account_health" in materialized(care)
    assert AssetKey(["billing", "invoices"]) in account_health.parent_keys
    assert AssetKey(["billing", "invoices_v2"]) not in account_health.parent_keys
    assert parse.returncode == 0, parse.stdout[-2000:]
    assert "account_health" in parse.stdout and "invoices.v1" in parse.stdout and deprecation in parse.stdout, parse.stdout[-2000:]


def test_the_critical_tests_run_on_their_own_as_checks_and_rebuild_nothing(built):
    """`billing_critical_tests` runs the dbt tests tagged critical (the public models' keys) over
    every day, without building a model, and care's its own (its key and the reconciliation of
    tickets with the raw tickets); a duplicate key slipped into a mart fails it."""
    warehouse, _ = built
    result = execute_job("billing", "billing_critical_tests")
    assert result.success and materialized(result) == set()
    assert evaluated_checks(result) == {
        ("billing/invoices", "unique_invoices_v1_invoice_id"),
        ("billing/accounts", "unique_accounts_account_id"),
    }
    assert not unevaluated_checks(result)
    care = execute_job("care", "care_critical_tests")
    assert care.success and materialized(care) == set()
    assert evaluated_checks(care) == {
        ("care/tickets", "unique_tickets_ticket_id"),
        ("care/tickets", "assert_tickets_match_raw_tickets"),
    }
    assert not unevaluated_checks(care)

    rows = query(warehouse, "select count(*) from billing.invoices")[0][0]
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into billing.invoices select * from billing.invoices limit 1")
    result = execute_job("billing", "billing_critical_tests")
    assert not result.success
    assert ("billing/invoices", "unique_invoices_v1_invoice_id") in failed_checks(result)
    assert query(warehouse, "select count(*) from billing.invoices")[0][0] == rows + 1  # nothing rebuilt it
