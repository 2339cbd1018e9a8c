"""The BigQuery loader's jobs, built offline, and the prod ingest location beside the dev one."""

import os

import pytest
from dataplatform.settings import resolve_settings
from google.cloud import bigquery
from shared_ingest.definitions import build_definitions
from shared_ingest.loaders import BigQueryLoader, DuckDBLoader, IngestError, plan_bigquery_load
from shared_ingest.tables import SOURCE_TABLES, get_table

os.environ.setdefault("NO_GCE_CHECK", "true")  # nothing here may probe the metadata server

BUCKET = "gs://dummy-bucket/landing"
PROD_ENV = {"PLATFORM_ENV": "prod", "BIGQUERY_PROJECT": "dummy", "LANDING_ROOT": BUCKET,
            "PLATFORM_SCHEDULES": "stopped"}
ORDER_ITEMS_FILES = [f"{BUCKET}/shop/order_items/2026-01-01.csv", f"{BUCKET}/shop/order_items/2026-01-02.csv"]
# Written out, not derived from the loader's mapping: the catalogue's DuckDB types in BigQuery.
EXPECTED_TYPES = {"BIGINT": "INT64", "INTEGER": "INT64", "DECIMAL(12,2)": "NUMERIC", "VARCHAR": "STRING",
                  "DATE": "DATE", "TIMESTAMP": "TIMESTAMP"}


def test_order_items_load_job_reads_exactly_the_bucket_files_into_staging():
    plan = plan_bigquery_load("dummy", get_table("shop", "order_items"), ORDER_ITEMS_FILES)
    assert plan.source_uris == ORDER_ITEMS_FILES
    assert plan.dataset == "dummy.raw_shop"
    staging = bigquery.TableReference.from_string(plan.staging)
    assert (staging.project, staging.dataset_id, staging.table_id) == ("dummy", "raw_shop", "order_items__loading")
    assert plan.target == "dummy.raw_shop.order_items"
    config = plan.load_config
    assert [(f.name, f.field_type, f.mode) for f in config.schema] == [
        ("order_item_id", "INT64", "NULLABLE"),
        ("order_id", "INT64", "NULLABLE"),
        ("product_id", "INT64", "NULLABLE"),
        ("quantity", "INT64", "NULLABLE"),
        ("unit_price", "NUMERIC", "NULLABLE"),
    ]
    assert config.source_format == bigquery.SourceFormat.CSV
    assert config.skip_leading_rows == 1
    assert config.field_delimiter == ","
    assert config.autodetect is False
    assert config.max_bad_records == 0
    assert config.allow_jagged_rows is False


def test_replace_is_staging_then_one_swap_that_stamps_the_load_time():
    plan = plan_bigquery_load("dummy", get_table("shop", "order_items"), ORDER_ITEMS_FILES)
    assert plan.load_config.write_disposition == bigquery.WriteDisposition.WRITE_TRUNCATE
    assert plan.staging == "dummy.raw_shop.order_items__loading"
    assert "`dummy.raw_shop.order_items__loading`" in plan.duplicate_key_sql
    assert "group by order_item_id having count(*) > 1 or order_item_id is null" in plan.duplicate_key_sql
    assert plan.swap_sql == (
        "create or replace table `dummy.raw_shop.order_items` as "
        "select *, current_timestamp() as _loaded_at from `dummy.raw_shop.order_items__loading`"
    )


@pytest.mark.parametrize("table", SOURCE_TABLES, ids=lambda t: t.qualified_name)
def test_every_table_schema_follows_the_catalogue(table):
    files = [f"{BUCKET}/{table.source}/{table.name}/2026-01-01.csv"]
    schema = plan_bigquery_load("dummy", table, files).load_config.schema
    assert [(f.name, f.field_type) for f in schema] == [(c, EXPECTED_TYPES[t]) for c, t in table.columns.items()]


def test_local_or_no_files_are_refused_naming_the_table():
    table = get_table("erp", "products")
    with pytest.raises(IngestError, match=r"(?s)erp.products: not loaded.*/tmp/landing/erp/products/2026-01-01.csv: BigQuery loads gs:// files only"):
        plan_bigquery_load("dummy", table, ["/tmp/landing/erp/products/2026-01-01.csv"])
    with pytest.raises(IngestError, match="(?s)erp.products: not loaded.*no landing files"):
        plan_bigquery_load("dummy", table, [])


def _describe(defs) -> dict[str, tuple]:
    graph = defs.get_repository_def().asset_graph
    return {key.to_user_string(): (graph.get(key).group_name, tuple(graph.get(key).owners))
            for key in graph.get_all_asset_keys()}


def test_prod_definitions_have_the_dev_keys_groups_and_owners(tmp_path):
    dev = build_definitions(resolve_settings({"PLATFORM_LOCAL_DIR": str(tmp_path), "PLATFORM_SCHEDULES": "stopped"}))
    prod = build_definitions(resolve_settings(PROD_ENV))
    assert _describe(prod) == _describe(dev)
    assert len(_describe(prod)) == len(SOURCE_TABLES)

    warehouse = prod.resources["warehouse"]
    assert isinstance(warehouse, BigQueryLoader)
    assert (warehouse.project, warehouse.location, warehouse.keyfile) == ("dummy", "EU", None)
    assert isinstance(dev.resources["warehouse"], DuckDBLoader)
    assert prod.resources["landing"].root == BUCKET

    prod_repo, dev_repo = prod.get_repository_def(), dev.get_repository_def()

    def kinds(repo) -> set[str]:
        return {kind for a in repo.assets_defs_by_key.values() for spec in a.specs for kind in spec.kinds}

    assert kinds(prod_repo) == {"csv", "bigquery"}
    assert kinds(dev_repo) == {"csv", "duckdb"}
    assert "simulate_source_day" not in {job.name for job in prod_repo.get_all_jobs()}


def test_service_account_keyfile_reaches_the_loader(tmp_path):
    env = {**PROD_ENV, "BIGQUERY_AUTH_METHOD": "service-account", "BIGQUERY_KEYFILE": str(tmp_path / "key.json"),
           "BIGQUERY_LOCATION": "europe-west3"}
    warehouse = build_definitions(resolve_settings(env)).resources["warehouse"]
    assert (warehouse.location, warehouse.keyfile) == ("europe-west3", str(tmp_path / "key.json"))
