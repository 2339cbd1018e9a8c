"""The BigQuery loader's jobs, built offline, and the prod ingest location beside the dev one, on
the platform's test project (tests/fixtures/subscriptions): the tables its sources YAML declares,
read as the ingest image reads them (no dbt)."""

import os
from datetime import date

import pytest
from google.cloud import bigquery
from support import fixture_catalogue, fixture_sources

from dataplatform.settings import resolve_settings
from shared_ingest.bigquery_loader import BigQueryLoader, plan_bigquery_load
from shared_ingest.components import build_definitions
from shared_ingest.duckdb_loader import DuckDBLoader
from shared_ingest.errors import IngestError

os.environ.setdefault("NO_GCE_CHECK", "true")  # nothing here may probe the metadata server

CATALOGUE = fixture_catalogue()
BUCKET = "gs://dummy-bucket/landing"
PROD_ENV = {"PLATFORM_ENV": "prod", "BIGQUERY_PROJECT": "dummy", "LANDING_ROOT": BUCKET,
            "PLATFORM_SCHEDULES": "stopped"}
DAY_2 = date(2026, 1, 2)
LINES_DAY_2 = [f"{BUCKET}/billing/invoice_lines/2026-01-02.csv"]
ACCOUNTS_FILES = [f"{BUCKET}/billing/accounts/2026-01-02.csv"]
# Written out, not derived from the loader's mapping: the catalogue's DuckDB types in BigQuery.
EXPECTED_TYPES = {"BIGINT": "INT64", "INTEGER": "INT64", "DECIMAL(12,2)": "NUMERIC", "VARCHAR": "STRING",
                  "DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "BOOLEAN": "BOOL"}


def invoice_lines_plan():
    """Day 2 of billing.invoice_lines: an event table without a time of its own, keyed by two columns."""
    return plan_bigquery_load("dummy", CATALOGUE.get("billing", "invoice_lines"), LINES_DAY_2, DAY_2)


def test_invoice_lines_load_job_reads_exactly_the_days_bucket_file_into_staging():
    plan = invoice_lines_plan()
    assert plan.source_uris == LINES_DAY_2
    assert plan.dataset == "dummy.raw_billing"
    staging = bigquery.TableReference.from_string(plan.staging)
    assert (staging.project, staging.dataset_id, staging.table_id) == ("dummy", "raw_billing", "invoice_lines__loading")
    assert plan.target == "dummy.raw_billing.invoice_lines"
    config = plan.load_config
    assert [(f.name, f.field_type, f.mode) for f in config.schema] == [
        ("invoice_id", "INT64", "NULLABLE"),
        ("line_number", "INT64", "NULLABLE"),
        ("product_code", "STRING", "NULLABLE"),
        ("quantity", "INT64", "NULLABLE"),
        ("unit_price", "NUMERIC", "NULLABLE"),
    ]
    assert config.source_format == bigquery.SourceFormat.CSV
    assert config.skip_leading_rows == 1
    assert config.field_delimiter == ","
    assert config.autodetect is False
    assert config.max_bad_records == 0
    assert config.allow_jagged_rows is False
    assert config.write_disposition == bigquery.WriteDisposition.WRITE_TRUNCATE  # of the staging table


def test_a_boolean_column_loads_as_bool():
    """accounts.is_active and tickets.is_escalated, declared boolean, are BOOL in the load job's
    schema and in the partitioned raw table BigQuery creates."""
    accounts = plan_bigquery_load("dummy", CATALOGUE.get("billing", "accounts"), ACCOUNTS_FILES)
    assert [(f.name, f.field_type) for f in accounts.load_config.schema] == [
        ("account_id", "INT64"), ("account_name", "STRING"), ("plan", "STRING"), ("is_active", "BOOL"),
        ("signed_up_on", "DATE"), ("updated_at", "TIMESTAMP"),
    ]
    tickets = plan_bigquery_load("dummy", CATALOGUE.get("support", "tickets"),
                                 [f"{BUCKET}/support/tickets/2026-01-02.csv"], DAY_2)
    assert ("is_escalated", "BOOL") in [(f.name, f.field_type) for f in tickets.load_config.schema]
    assert tickets.create_sql == (
        "create table if not exists `dummy.raw_support.tickets` (ticket_id INT64, account_id INT64, "
        "opened_at TIMESTAMP, priority STRING, is_escalated BOOL, _loaded_at TIMESTAMP, _export_date DATE) "
        "partition by _export_date"
    )


def test_a_state_table_is_staging_then_one_swap_that_stamps_the_load_time():
    plan = plan_bigquery_load("dummy", CATALOGUE.get("billing", "accounts"), ACCOUNTS_FILES)
    assert plan.staging == "dummy.raw_billing.accounts__loading"
    assert "`dummy.raw_billing.accounts__loading`" in plan.duplicate_key_sql
    assert "group by account_id having count(*) > 1 or account_id is null" in plan.duplicate_key_sql
    assert plan.swap_sql == (
        "create or replace table `dummy.raw_billing.accounts` as "
        "select *, current_timestamp() as _loaded_at from `dummy.raw_billing.accounts__loading`"
    )
    assert plan.swap_config is None
    assert (plan.day, plan.create_sql, plan.loaded_elsewhere_sql, plan.event_time_sql) == (None, None, None, None)


def test_a_partition_overwrites_exactly_its_days_table_partition():
    """Day 2 of invoice_lines: checked in staging, then one query job WRITE_TRUNCATE into the
    partition decorator $20260102 of the raw table, partitioned by day on _export_date."""
    plan = invoice_lines_plan()
    assert plan.day == DAY_2
    assert plan.swap_sql == (
        "select *, current_timestamp() as _loaded_at, date '2026-01-02' as _export_date "
        "from `dummy.raw_billing.invoice_lines__loading`"
    )
    config = plan.swap_config
    assert str(config.destination) == "dummy.raw_billing.invoice_lines$20260102"
    assert config.write_disposition == bigquery.WriteDisposition.WRITE_TRUNCATE
    assert config.create_disposition == bigquery.CreateDisposition.CREATE_IF_NEEDED
    assert (config.time_partitioning.type_, config.time_partitioning.field) == (
        bigquery.TimePartitioningType.DAY, "_export_date")
    assert plan.create_sql == (
        "create table if not exists `dummy.raw_billing.invoice_lines` (invoice_id INT64, line_number INT64, "
        "product_code STRING, quantity INT64, unit_price NUMERIC, _loaded_at TIMESTAMP, _export_date DATE) "
        "partition by _export_date"
    )


def test_a_partition_is_recorded_with_its_row_count_after_its_rows():
    """The day's load recorded in ingest_log.loaded_partitions, which dbt's `delivered` test reads."""
    create_dataset, create_table, merge = invoice_lines_plan().record_sql
    assert create_dataset == "create schema if not exists `dummy.ingest_log`"
    assert create_table == ("create table if not exists `dummy.ingest_log.loaded_partitions` "
                            "(source_table STRING, partition_day DATE, row_count INT64, loaded_at TIMESTAMP)")
    assert merge.startswith("merge `dummy.ingest_log.loaded_partitions` as r using "
                            "(select 'billing.invoice_lines' as source_table, date '2026-01-02' as partition_day) as d ")
    assert "update set row_count = @row_count" in merge and "values (d.source_table, d.partition_day, @row_count" in merge
    assert plan_bigquery_load("dummy", CATALOGUE.get("billing", "accounts"), ACCOUNTS_FILES).record_sql is None


def test_a_partitions_keys_are_checked_within_the_day_and_against_other_days():
    invoices = plan_bigquery_load("dummy", CATALOGUE.get("billing", "invoices"),
                                  [f"{BUCKET}/billing/invoices/2026-01-02.csv"], DAY_2)
    assert invoices.duplicate_key_sql == (
        "select cast(invoice_id as string) as invoice_id from `dummy.raw_billing.invoices__loading` "
        "group by invoice_id having count(*) > 1 or invoice_id is null limit 3"
    )
    assert invoices.loaded_elsewhere_sql == (
        "select cast(r.invoice_id as string) as invoice_id, cast(r._export_date as string) as loaded_on "
        "from `dummy.raw_billing.invoices` as r where r._export_date <> date '2026-01-02' "
        "and exists (select 1 from `dummy.raw_billing.invoices__loading` as s where s.invoice_id = r.invoice_id) limit 3"
    )


def test_a_key_of_two_columns_is_checked_as_one_key():
    """invoice_lines' key is (invoice_id, line_number): a pair is a duplicate, or null if either
    column is, or loaded on another day; each offender is returned with both its columns."""
    plan = invoice_lines_plan()
    assert plan.duplicate_key_sql == (
        "select cast(invoice_id as string) as invoice_id, cast(line_number as string) as line_number "
        "from `dummy.raw_billing.invoice_lines__loading` group by invoice_id, line_number "
        "having count(*) > 1 or invoice_id is null or line_number is null limit 3"
    )
    assert plan.loaded_elsewhere_sql == (
        "select cast(r.invoice_id as string) as invoice_id, cast(r.line_number as string) as line_number, "
        "cast(r._export_date as string) as loaded_on "
        "from `dummy.raw_billing.invoice_lines` as r where r._export_date <> date '2026-01-02' "
        "and exists (select 1 from `dummy.raw_billing.invoice_lines__loading` as s "
        "where s.invoice_id = r.invoice_id and s.line_number = r.line_number) limit 3"
    )


def test_events_are_checked_to_fall_on_the_exports_day():
    plan = plan_bigquery_load("dummy", CATALOGUE.get("billing", "invoices"),
                              [f"{BUCKET}/billing/invoices/2026-01-02.csv"], DAY_2)
    assert plan.event_time_sql == (
        "select cast(invoice_id as string) as invoice_id from `dummy.raw_billing.invoices__loading` "
        "where issued_at is null or date(issued_at) <> date '2026-01-02' limit 3"
    )
    assert invoice_lines_plan().event_time_sql is None  # no time of their own: they belong to the export's day


def test_an_event_table_loads_a_day_and_a_state_table_does_not():
    with pytest.raises(ValueError, match="billing.invoice_lines: an event table loads one day's partition"):
        plan_bigquery_load("dummy", CATALOGUE.get("billing", "invoice_lines"), LINES_DAY_2)
    with pytest.raises(ValueError, match="billing.accounts"):
        plan_bigquery_load("dummy", CATALOGUE.get("billing", "accounts"), ACCOUNTS_FILES, DAY_2)


@pytest.mark.parametrize("table", CATALOGUE.loaded, ids=lambda t: t.qualified_name)
def test_every_table_schema_follows_the_catalogue(table):
    files = [f"{BUCKET}/{table.source}/{table.name}/2026-01-01.csv"]
    day = date(2026, 1, 1) if table.history == "events" else None
    schema = plan_bigquery_load("dummy", table, files, day).load_config.schema
    assert [(f.name, f.field_type) for f in schema] == [(c, EXPECTED_TYPES[t]) for c, t in table.columns.items()]


def test_local_or_no_files_are_refused_naming_the_table():
    table = CATALOGUE.get("billing", "accounts")
    refused = r"(?s)billing.accounts: not loaded.*/tmp/landing/billing/accounts/2026-01-01.csv: BigQuery loads gs:// files only"
    with pytest.raises(IngestError, match=refused):
        plan_bigquery_load("dummy", table, ["/tmp/landing/billing/accounts/2026-01-01.csv"])
    with pytest.raises(IngestError, match="(?s)billing.accounts: not loaded.*no landing files"):
        plan_bigquery_load("dummy", table, [])


def _describe(defs) -> dict[str, tuple]:
    graph = defs.get_repository_def().asset_graph
    return {
        key.to_user_string(): (node.group_name, tuple(node.owners), repr(node.partitions_def))
        for key in graph.get_all_asset_keys()
        for node in [graph.get(key)]
    }


def test_prod_definitions_have_the_dev_keys_groups_owners_and_partitions(tmp_path):
    sources = str(fixture_sources(tmp_path / "dbt"))
    dev = build_definitions(resolve_settings({"PLATFORM_LOCAL_DIR": str(tmp_path), "PLATFORM_SCHEDULES": "stopped",
                                              "DBT_PROJECT_DIR": sources}))
    prod = build_definitions(resolve_settings({**PROD_ENV, "DBT_PROJECT_DIR": sources}))
    assert _describe(prod) == _describe(dev)
    # The tables the platform loads, and the one it observes (crm.contacts, loaded by Fivetran).
    assert len(_describe(prod)) == len(CATALOGUE.loaded) + len(CATALOGUE.observed) == 5

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
           "BIGQUERY_LOCATION": "europe-west3", "DBT_PROJECT_DIR": str(fixture_sources(tmp_path / "dbt"))}
    warehouse = build_definitions(resolve_settings(env)).resources["warehouse"]
    assert (warehouse.location, warehouse.keyfile) == ("europe-west3", str(tmp_path / "key.json"))
