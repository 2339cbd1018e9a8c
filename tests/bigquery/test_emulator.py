"""The platform's BigQuery SQL, executed: ingest's load plans and the dbt project's `emulator`
target (the prod adapter and macros) against bqemulator, on day 1 of the simulated sources.

What the emulator cannot run is an expected failure (strict: it fails the tier once the emulator
runs it) that quotes the emulator's error; README "BigQuery: what is verified where" lists both.
The files come from the local landing zone: with no GCS here, a load job reads the file from the
test (`load_table_from_file`) with the plan's own job config, instead of the plan's gs:// URI.
"""

import json
import subprocess
from datetime import UTC, datetime, time, timedelta

import pytest
from google.api_core.exceptions import GoogleAPIError
from google.cloud import bigquery
from support import REPO, scrubbed_env, source_catalogue

from dataplatform.dbt_op import microbatch_window_args
from dataplatform.dbt_project import dbt_executable
from shared_ingest.bigquery_loader import plan_bigquery_load
from shared_ingest.landing import day_file
from sourcesim.days import day_date
from sourcesim.generator import generate_day

DAY = day_date(1)
# What the emulator answers to the statements it cannot run (the expected failures below).
INSERT_OVERWRITE = "Required keyword: 'this' missing"  # sqlglot on dbt-bigquery's `array_agg(distinct ... ignore nulls)`
CONTRACT = 'syntax error at or near "AS"'  # `create or replace table t (<columns>) OPTIONS() as (select ...)`
COPY = 'syntax error at or near "COPY"'  # `create or replace table <green> copy <blue>`


class EmulatorGap(Exception):
    """The emulator refused a statement the platform runs on BigQuery, with the error quoted."""


def refused(run, quote: str) -> None:
    """Raise EmulatorGap if ``run()`` fails with an error quoting ``quote``; anything else fails the test."""
    try:
        run()
    except (GoogleAPIError, DbtFailed) as error:
        assert quote in str(error), f"the emulator failed otherwise than expected: {error}"
        raise EmulatorGap(quote) from error


class DbtFailed(Exception):
    pass


def gs_uri(landing, path: str) -> str:
    """The file's name in the bucket (the plan accepts gs:// only; the test loads the local file)."""
    return "gs://landing/" + path.removeprefix(str(landing) + "/")


def stage(client: bigquery.Client, plan, local_file: str) -> int:
    """The plan's load job, from the local file, with the plan's schema and CSV options."""
    with open(local_file, "rb") as data:
        job = client.load_table_from_file(data, plan.staging, job_config=plan.load_config)
    job.result(timeout=120)
    return int(job.output_rows)


def query(client: bigquery.Client, sql: str, job_config=None) -> list:
    return [tuple(row) for row in client.query(sql, job_config=job_config).result(timeout=120)]


@pytest.fixture(scope="module")
def raw(emulator, tmp_path_factory):
    """Day 1 of every raw table, through ingest's plans: load job, key and event-time checks, the
    swap of a state table (`create or replace`), the record of the day. An event table's day is
    written by an insert of the plan's select: the emulator writes no row through the plan's
    partition decorator (below)."""
    landing = tmp_path_factory.mktemp("landing")
    generate_day(str(landing), 1, scale=0.05)
    client = emulator.client()
    for table in source_catalogue().loaded:
        local = day_file(str(landing), table, day_date(1))
        events = table.history == "events"
        plan = plan_bigquery_load(emulator.project, table, [gs_uri(landing, local)], DAY if events else None)
        client.create_dataset(plan.dataset, exists_ok=True)
        rows = stage(client, plan, local)
        assert query(client, plan.duplicate_key_sql) == []
        if not events:
            query(client, plan.swap_sql)
            continue
        assert query(client, plan.event_time_sql) == [] if plan.event_time_sql else True
        query(client, plan.create_sql)
        assert query(client, plan.loaded_elsewhere_sql) == []
        query(client, f"insert into `{plan.target}` {plan.swap_sql}")
        count = bigquery.ScalarQueryParameter("row_count", "INT64", rows)
        for sql in plan.record_sql:
            query(client, sql, bigquery.QueryJobConfig(query_parameters=[count]) if "@row_count" in sql else None)
    return landing, client


def dbt(emulator, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """A dbt command of the repo's project on the `emulator` target."""
    project = REPO / "dbt"
    env = scrubbed_env(BIGQUERY_API_ENDPOINT=emulator.endpoint, BIGQUERY_PROJECT=emulator.project,
                       PLATFORM_PARTITIONS_START=day_date(1).isoformat())
    return subprocess.run([dbt_executable(), *args, "--project-dir", str(project), "--profiles-dir", str(project),
                           "--target", "emulator", "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
                          env=env, capture_output=True, text=True, timeout=600)


def dbt_ok(emulator, tmp_path, *args: str) -> subprocess.CompletedProcess:
    result = dbt(emulator, tmp_path, *args)
    if result.returncode != 0:
        raise DbtFailed(result.stdout[-4000:])
    return result


WINDOW = microbatch_window_args(datetime.combine(DAY, time(), UTC), datetime.combine(DAY, time(), UTC) + timedelta(days=1))


def test_a_state_table_loads_checks_and_swaps(raw):
    _, client = raw
    customers = source_catalogue().get("shop", "customers")
    [(count, loaded)] = query(client, "select count(*), countif(_loaded_at is not null) from raw_shop.customers")
    assert count == loaded > 0
    assert {f.name for f in client.get_table("local-proj.raw_shop.customers").schema} >= set(customers.bigquery_columns)


def test_an_event_table_holds_its_day_and_the_day_is_recorded(raw):
    _, client = raw
    assert query(client, "select distinct _export_date from raw_shop.orders") == [(DAY,)]
    recorded = query(client, "select source_table, partition_day, row_count from ingest_log.loaded_partitions "
                             "where source_table = 'shop.orders'")
    assert [(t, d) for t, d, _ in recorded] == [("shop.orders", DAY)] and recorded[0][2] > 0
    partitioning = client.get_table("local-proj.raw_shop.orders").time_partitioning
    assert partitioning is not None and partitioning.field == "_export_date"


@pytest.mark.xfail(strict=True, raises=EmulatorGap,
                   reason="bqemulator: a query job into the partition decorator `orders$20260102` succeeds and writes no row")
def test_an_event_days_overwrite_through_the_partition_decorator(raw, emulator):
    """Day 2 of orders as ingest writes it on BigQuery: WRITE_TRUNCATE into `orders$20260102`."""
    landing, client = raw
    table = source_catalogue().get("shop", "orders")
    generate_day(str(landing), 2, scale=0.05)
    local = day_file(str(landing), table, day_date(2))
    plan = plan_bigquery_load(emulator.project, table, [gs_uri(landing, local)], day_date(2))
    loaded = stage(client, plan, local)
    query(client, plan.swap_sql, plan.swap_config)
    by_day = dict(query(client, "select _export_date, count(*) from raw_shop.orders group by 1"))
    if day_date(2) not in by_day and by_day.get(DAY):
        raise EmulatorGap(f"the job succeeded; day 2 holds no row, day 1 still {by_day[DAY]}")
    assert by_day[day_date(2)] == loaded


def test_dbt_source_freshness_runs(raw, emulator, tmp_path):
    result = dbt_ok(emulator, tmp_path, "source", "freshness")
    sources = json.loads((tmp_path / "target" / "sources.json").read_text())["results"]
    assert {r["unique_id"] for r in sources} >= {"source.warehouse.shop.orders", "source.warehouse.erp.products"}
    assert all(r["status"] == "pass" for r in sources), [(r["unique_id"], r["status"]) for r in sources]
    assert "ERROR" not in result.stdout


def test_staging_views_snapshots_and_source_tests_build(raw, emulator, tmp_path):
    result = dbt_ok(emulator, tmp_path, "build", "--select", "source:shop", "stg_shop__customers", "stg_shop__orders",
                    "customers_snapshot", *WINDOW)
    assert "ERROR=0" in result.stdout and "PASS=" in result.stdout, result.stdout[-3000:]
    _, client = raw
    assert query(client, "select count(*) from sales_snapshots.customers_snapshot")[0][0] == \
        query(client, "select count(*) from raw_shop.customers")[0][0]


def test_a_microbatch_models_first_day_builds_on_a_day_partitioned_table(raw, emulator, tmp_path):
    dbt_ok(emulator, tmp_path, "build", "--select", "+int_stock_movements_summed_to_days", "--exclude", "source:*",
           "--full-refresh", *WINDOW)
    _, client = raw
    table = client.get_table("local-proj.inventory_staging.int_stock_movements_summed_to_days")
    assert table.time_partitioning is not None and table.time_partitioning.field == "moved_on"
    assert table.num_rows > 0


@pytest.mark.xfail(strict=True, raises=EmulatorGap, reason=f"bqemulator: {INSERT_OVERWRITE!r} (dynamic insert_overwrite)")
def test_a_microbatch_models_day_rebuilt_replaces_its_partition(raw, emulator, tmp_path):
    dbt_ok(emulator, tmp_path, "run", "--select", "+int_stock_movements_summed_to_days", "--full-refresh", *WINDOW)
    refused(lambda: dbt_ok(emulator, tmp_path, "run", "--select", "int_stock_movements_summed_to_days", *WINDOW),
            INSERT_OVERWRITE)


@pytest.mark.xfail(strict=True, raises=EmulatorGap, reason=f"bqemulator: {CONTRACT!r} (a contract's column list)")
def test_a_contracted_public_model_builds(raw, emulator, tmp_path):
    refused(lambda: dbt_ok(emulator, tmp_path, "build", "--select", "+products", "--exclude", "source:*", *WINDOW),
            CONTRACT)


@pytest.mark.xfail(strict=True, raises=EmulatorGap, reason=f"bqemulator: {COPY!r} (the publish's copy)")
def test_a_mart_built_in_blue_is_published_to_green(raw, emulator, tmp_path):
    """stock_levels (no contract) builds into inventory_blue; the publish copies it to inventory."""
    _, client = raw

    def build():
        try:
            dbt_ok(emulator, tmp_path, "run", "--select", "+stock_levels", "--full-refresh", *WINDOW)
        finally:
            assert query(client, "select count(*) from inventory_blue.stock_levels")[0][0] > 0
    refused(build, COPY)
