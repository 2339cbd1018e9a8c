"""The platform's BigQuery SQL, executed: ingest's load plans and the dbt project's `emulator`
target (the prod adapter and macros) against bqemulator, on day 1 of the platform's test project
(tests/fixtures/subscriptions): its source tables (billing's accounts, invoices and invoice lines,
whose key is two columns; support's tickets; crm's contacts, which Fivetran loads) and its models,
from a scratch copy of the fixture workspace's dbt project.

What the emulator cannot run is an expected failure (strict: it fails the tier once the emulator
runs it) that quotes the emulator's error; README "BigQuery: what is verified where" lists both.
The files come from the local landing zone: with no GCS here, a load job reads the file from the
test (`load_table_from_file`) with the plan's own job config, instead of the plan's gs:// URI.
"""

import csv
import json
import subprocess
from datetime import date
from pathlib import Path

import pytest
from fixtures.subscriptions.landing import FIRST_ACCOUNTS, land_day
from google.api_core.exceptions import GoogleAPIError
from google.cloud import bigquery
from support import day, scrubbed_env

from dataplatform.dbt.op import microbatch_window_args
from dataplatform.dbt.project import dbt_executable
from dataplatform.landing import day_file
from dataplatform.partitions import partitions_start
from devsupport.dbt import copy_dbt_project
from shared_ingest.bigquery_loader import plan_bigquery_load
from shared_ingest.catalogue import load_catalogue
from shared_ingest.errors import IngestError
from shared_ingest.row_checks import run_row_checks

DAY, DAY_2 = date.fromisoformat(day(1)), date.fromisoformat(day(2))
# What the emulator answers to the statements it cannot run (the expected failures below).
INSERT_OVERWRITE = "Required keyword: 'this' missing"  # sqlglot on dbt-bigquery's `array_agg(distinct ... ignore nulls)`
CONTRACT = 'syntax error at or near "AS"'  # `create or replace table t (<columns>) OPTIONS() as (select ...)`
COPY = 'syntax error at or near "COPY"'  # `create or replace table <green> copy <blue>`
CLONE = 'syntax error at or near "CLONE"'  # `create or replace table <blue> clone <green>`
# Marts built where consumers read them, not in their blue schema and then published (the publish's
# copy is an expected failure of its own, below): what `--vars '{blue_green: false}'` is for.
IN_PLACE = ["--vars", "{blue_green: false}"]


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
def project(fixture_root, tmp_path_factory):
    """A scratch copy of the fixture workspace's dbt project, its vendored package installed
    (`dbt deps`, a local package: no network)."""
    project = copy_dbt_project(tmp_path_factory.mktemp("emulator") / "dbt", fixture_root / "dbt")
    subprocess.run([dbt_executable(), "deps", "--quiet", "--project-dir", str(project), "--profiles-dir", str(project)],
                   env=scrubbed_env(), check=True, capture_output=True, text=True, timeout=300)
    return project


@pytest.fixture(scope="module")
def catalogue(project):
    """The source tables the test project declares (its sources YAML, as ingest reads it)."""
    return load_catalogue(project)


@pytest.fixture(scope="module")
def raw(emulator, catalogue, tmp_path_factory):
    """Day 1 of every raw table, through ingest's plans: load job, key and event-time checks, the
    swap of a state table (`create or replace`), the record of the day. An event table's day is
    written by an insert of the plan's select: the emulator writes no row through the plan's
    partition decorator (below). And crm's contacts, as Fivetran loads them (just synced)."""
    landing = tmp_path_factory.mktemp("landing")
    land_day(landing, partitions_start(), 1)
    client = emulator.client()
    for table in catalogue.loaded:
        local = day_file(str(landing), table, DAY)
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
    [contacts] = catalogue.observed
    client.create_dataset(f"{emulator.project}.{contacts.schema}", exists_ok=True)
    query(client, f"create or replace table {contacts.schema}.{contacts.name} "
                  "(account_id INT64, email STRING, _fivetran_synced TIMESTAMP)")
    values = ", ".join(f"({a}, 'owner{a}@example.com', current_timestamp())" for a in range(1, FIRST_ACCOUNTS + 2))
    query(client, f"insert into {contacts.schema}.{contacts.name} values {values}")
    return landing, client


def dbt(emulator, project, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """A dbt command of the test project (a scratch copy) on the `emulator` target."""
    env = scrubbed_env(BIGQUERY_API_ENDPOINT=emulator.endpoint, BIGQUERY_PROJECT=emulator.project,
                       PLATFORM_PARTITIONS_START=DAY.isoformat())
    return subprocess.run([dbt_executable(), *args, "--project-dir", str(project), "--profiles-dir", str(project),
                           "--target", "emulator", "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
                          env=env, capture_output=True, text=True, timeout=600)


def dbt_ok(emulator, project, tmp_path, *args: str) -> subprocess.CompletedProcess:
    result = dbt(emulator, project, tmp_path, *args)
    if result.returncode != 0:
        raise DbtFailed(result.stdout[-4000:])
    return result


WINDOW = microbatch_window_args(DAY, DAY)


def test_a_state_table_loads_checks_and_swaps(raw, catalogue):
    """billing.accounts, with its boolean is_active loaded as BigQuery's BOOL."""
    landing, client = raw
    accounts = catalogue.get("billing", "accounts")
    [(count, loaded, active)] = query(client, "select count(*), countif(_loaded_at is not null), countif(is_active) "
                                              "from raw_billing.accounts")
    with open(day_file(str(landing), accounts, DAY), newline="") as export:
        rows = list(csv.DictReader(export))
    assert count == loaded == len(rows) > 0
    assert active == sum(row["is_active"] == "true" for row in rows) > 0
    schema = {f.name: f.field_type for f in client.get_table("local-proj.raw_billing.accounts").schema}
    assert schema.keys() >= set(accounts.bigquery_columns)
    assert schema["is_active"] == "BOOLEAN"  # BOOL, as the REST API names it in a table's schema


def test_an_event_table_holds_its_day_and_the_day_is_recorded(raw):
    _, client = raw
    assert query(client, "select distinct _export_date from raw_billing.invoices") == [(DAY,)]
    recorded = query(client, "select source_table, partition_day, row_count from ingest_log.loaded_partitions "
                             "where source_table = 'billing.invoices'")
    assert [(t, d) for t, d, _ in recorded] == [("billing.invoices", DAY)] and recorded[0][2] > 0
    partitioning = client.get_table("local-proj.raw_billing.invoices").time_partitioning
    assert partitioning is not None and partitioning.field == "_export_date"


def test_a_key_of_two_columns_is_checked_as_one_key(raw, emulator, catalogue):
    """invoice_lines' key is (invoice_id, line_number): the plan's checks, run on the emulator the
    way the loader runs them, refuse day 2 with a pair repeated in the file, then with a pair day 1
    already holds, naming each offending line and both columns; the raw table keeps day 1 only."""
    landing, client = raw
    table = catalogue.get("billing", "invoice_lines")
    land_day(landing, partitions_start(), 2)
    local = day_file(str(landing), table, DAY_2)
    rows = Path(local).read_text().splitlines(keepends=True)
    day_1 = Path(day_file(str(landing), table, DAY)).read_text().splitlines()

    def refused_day_2(line: int, key_of: str) -> str:
        """Day 2's export with line ``line``'s key (its first two fields) replaced by ``key_of``'s."""
        edited = list(rows)
        edited[line - 1] = ",".join([*key_of.split(",")[:2], *rows[line - 1].split(",")[2:]])
        Path(local).write_text("".join(edited))
        plan = plan_bigquery_load(emulator.project, table, [gs_uri(landing, local)], DAY_2)
        stage(client, plan, local)
        with pytest.raises(IngestError) as error:
            run_row_checks(plan.checks, lambda sql: query(client, sql), table, [local], DAY_2.isoformat(),
                           before_raw_table=lambda: query(client, plan.create_sql))
        return str(error.value)

    duplicate = refused_day_2(5, rows[2])  # line 5 repeats line 3's pair
    assert f"{local}, line 5, column invoice_id, line_number: duplicate primary key " \
           f"(invoice_id=201, line_number=2) (first at {local}, line 3)" in duplicate
    loaded = refused_day_2(3, day_1[1])  # line 3 holds day 1's first pair
    assert f"{local}, line 3, column invoice_id, line_number: primary key (invoice_id=101, line_number=1) " \
           f"already loaded on {DAY}" in loaded
    assert query(client, "select distinct _export_date from raw_billing.invoice_lines") == [(DAY,)]


@pytest.mark.xfail(strict=True, raises=EmulatorGap,
                   reason="bqemulator: a query job into the partition decorator `invoices$20260102` succeeds and writes no row")
def test_an_event_days_overwrite_through_the_partition_decorator(raw, emulator, catalogue):
    """Day 2 of invoices as ingest writes it on BigQuery: WRITE_TRUNCATE into `invoices$20260102`."""
    landing, client = raw
    table = catalogue.get("billing", "invoices")
    land_day(landing, partitions_start(), 2)
    local = day_file(str(landing), table, DAY_2)
    plan = plan_bigquery_load(emulator.project, table, [gs_uri(landing, local)], DAY_2)
    loaded = stage(client, plan, local)
    query(client, plan.swap_sql, plan.swap_config)
    by_day = dict(query(client, "select _export_date, count(*) from raw_billing.invoices group by 1"))
    if DAY_2 not in by_day and by_day.get(DAY):
        raise EmulatorGap(f"the job succeeded; day 2 holds no row, day 1 still {by_day[DAY]}")
    assert by_day[DAY_2] == loaded


def test_dbt_source_freshness_runs(raw, emulator, project, tmp_path):
    """Every source's freshness, those the platform loads (_loaded_at) and the one Fivetran loads
    (_fivetran_synced)."""
    result = dbt_ok(emulator, project, tmp_path, "source", "freshness")
    sources = json.loads((tmp_path / "target" / "sources.json").read_text())["results"]
    assert {r["unique_id"] for r in sources} == {
        "source.warehouse.billing.accounts", "source.warehouse.billing.invoices", "source.warehouse.billing.invoice_lines",
        "source.warehouse.support.tickets", "source.warehouse.crm.contacts"}
    assert all(r["status"] == "pass" for r in sources), [(r["unique_id"], r["status"]) for r in sources]
    assert "ERROR" not in result.stdout


def test_staging_views_snapshots_and_source_tests_build(raw, emulator, project, tmp_path):
    """billing's and support's sources with their tests (fresh, delivered, the two-column
    unique_combination of invoice lines), the staging views and the accounts snapshot."""
    result = dbt_ok(emulator, project, tmp_path, "build", "--select", "source:billing", "source:support",
                    "stg_billing__accounts", "stg_billing__invoices", "stg_billing__invoice_lines", "stg_support__tickets",
                    "accounts_snapshot", *WINDOW)
    assert "ERROR=0" in result.stdout and "PASS=" in result.stdout, result.stdout[-3000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert any(r["unique_id"].startswith("test.warehouse.source_unique_combination_billing_invoice_lines")
               and r["status"] == "pass" for r in results), [r["unique_id"] for r in results]
    _, client = raw
    assert query(client, "select count(*) from billing_snapshots.accounts_snapshot")[0][0] == \
        query(client, "select count(*) from raw_billing.accounts")[0][0]


def test_a_microbatch_models_first_day_builds_on_a_day_partitioned_table(raw, emulator, project, tmp_path):
    """care's tickets, a microbatch mart, built in place (its publish is below)."""
    dbt_ok(emulator, project, tmp_path, "build", "--select", "+tickets", "--exclude", "source:*", "--full-refresh",
           *IN_PLACE, *WINDOW)
    _, client = raw
    table = client.get_table("local-proj.care.tickets")
    assert table.time_partitioning is not None and table.time_partitioning.field == "ticket_date"
    assert table.num_rows > 0


@pytest.mark.xfail(strict=True, raises=EmulatorGap, reason=f"bqemulator: {INSERT_OVERWRITE!r} (dynamic insert_overwrite)")
def test_a_microbatch_models_day_rebuilt_replaces_its_partition(raw, emulator, project, tmp_path):
    dbt_ok(emulator, project, tmp_path, "run", "--select", "+tickets", "--full-refresh", *IN_PLACE, *WINDOW)
    refused(lambda: dbt_ok(emulator, project, tmp_path, "run", "--select", "tickets", *IN_PLACE, *WINDOW),
            INSERT_OVERWRITE)


@pytest.mark.xfail(strict=True, raises=EmulatorGap, reason=f"bqemulator: {CONTRACT!r} (a contract's column list)")
def test_a_contracted_public_model_builds(raw, emulator, project, tmp_path):
    """billing's invoices: public, versioned, its contract enforced."""
    refused(lambda: dbt_ok(emulator, project, tmp_path, "build", "--select", "+invoices", "--exclude", "source:*",
                           *WINDOW),
            CONTRACT)


@pytest.mark.xfail(strict=True, raises=EmulatorGap, reason=f"bqemulator: {COPY!r} (the publish's copy)")
def test_a_mart_built_in_blue_is_published_to_green(raw, emulator, project, tmp_path):
    """tickets (no contract) builds into care_blue; the publish copies it to care."""
    _, client = raw

    def build():
        try:
            dbt_ok(emulator, project, tmp_path, "run", "--select", "+tickets", "--full-refresh", *WINDOW)
        finally:
            assert query(client, "select count(*) from care_blue.tickets")[0][0] > 0
    refused(build, COPY)


@pytest.mark.xfail(strict=True, raises=EmulatorGap, reason=f"bqemulator: {CLONE!r} (an incremental mart's blue from green)")
def test_an_incremental_marts_blue_starts_from_green(raw, emulator, project, tmp_path):
    """tickets, incremental, in care (built there in place: the publish's copy is the gap above);
    the next run of it starts its blue relation from green, a clone (on-run-start)."""
    dbt_ok(emulator, project, tmp_path, "run", "--select", "+tickets", "--full-refresh", *IN_PLACE, *WINDOW)
    refused(lambda: dbt_ok(emulator, project, tmp_path, "run", "--select", "tickets", *WINDOW), CLONE)
