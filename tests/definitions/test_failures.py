"""Missing relations in dbt's errors, mapped to their asset and code location, on the real manifest."""

from dataplatform.failures import explain_missing_relations, relation_owners
from dataplatform.translator import PlatformTranslator


def test_bigquery_and_duckdb_missing_tables_name_their_asset_and_location(manifest):
    owners = relation_owners(manifest, PlatformTranslator())
    bigquery = explain_missing_relations("404 Not found: Table dummy-project:sales.order_items was not found in location EU", owners)
    assert bigquery == ("sales.order_items does not exist in this warehouse: it is the asset sales/order_items of code "
                        "location sales, never materialized here. Materialize it there first.")
    duckdb = explain_missing_relations('Catalog Error: Table with name "raw_shop.orders" does not exist!', owners)
    assert "raw/shop/orders of code location shared_ingest" in duckdb
    assert explain_missing_relations('Table with name "scratch.unknown" does not exist', owners) is None
