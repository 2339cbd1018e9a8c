"""Missing relations in dbt's errors, mapped to their asset and code location, on the test project's
real manifest (tests/fixtures/subscriptions)."""

from dataplatform.dbt.failures import explain_missing_relations, relation_owners
from dataplatform.dbt.translator import PlatformTranslator


def test_bigquery_and_duckdb_missing_tables_name_their_asset_and_location(fixture_manifest):
    owners = relation_owners(fixture_manifest, PlatformTranslator())
    bigquery = explain_missing_relations("404 Not found: Table dummy-project:billing.invoices was not found in location EU", owners)
    assert bigquery == ("billing.invoices does not exist in this warehouse: it is the asset billing/invoices of code "
                        "location billing, never materialized here. Materialize it there first.")
    duckdb = explain_missing_relations('Catalog Error: Table with name "raw_billing.invoice_lines" does not exist!', owners)
    assert "raw/billing/invoice_lines of code location shared_ingest" in duckdb
    assert explain_missing_relations('Table with name "scratch.unknown" does not exist', owners) is None


def test_a_missing_source_another_tool_loads_names_that_tool_not_a_code_location(fixture_manifest):
    owners = relation_owners(fixture_manifest, PlatformTranslator())
    hint = explain_missing_relations('Catalog Error: Table with name "raw_crm.contacts" does not exist!', owners)
    assert hint == ("raw_crm.contacts does not exist in this warehouse: it is the source raw/crm/contacts, loaded by "
                    "fivetran, not by the platform. Load it with fivetran first.")
