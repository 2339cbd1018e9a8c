"""Daily partitions of the event tables through the real ingest assets on a real DuckDB.

On the platform's test project (tests/fixtures/subscriptions): the tables its sources YAML
declares (billing's accounts, a state table; billing's invoices and invoice lines and support's
tickets, event tables), its exports landed as its landing.py writes them. A partition is one day's
export: loading it replaces that day's rows and nothing else, so a day can be re-run, or re-landed
corrected, without touching the others; a range of days is one run.
"""

import csv
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import duckdb
import pytest
from dagster import build_schedule_context, materialize
from fixtures.subscriptions.landing import land_day
from support import checksum, day, fill_disk, fixture_catalogue, query, small_disk

from dataplatform.landing import partition_file
from dataplatform.partitions import partition_range_tags, partitions_start
from dataplatform.settings import resolve_settings
from shared_ingest.components import build_definitions

DAYS = [day(d) for d in (1, 2, 3)]
CATALOGUE = fixture_catalogue()
EVENT_TABLES = [f"{t.schema}.{t.name}" for t in CATALOGUE.loaded if t.history == "events"]


def day_date(k: int) -> date:
    return date.fromisoformat(day(k))


@pytest.fixture(scope="module")
def project(fixture_root) -> Path:
    """The test project's dbt folder in its workspace: the sources ingest loads."""
    return fixture_root / "dbt"


def definitions(local: Path, project: Path, warehouse: Path | None = None):
    return build_definitions(resolve_settings(
        {"PLATFORM_ENV": "dev", "PLATFORM_LOCAL_DIR": str(local), "PLATFORM_SCHEDULES": "stopped",
         "DBT_PROJECT_DIR": str(project), **({"DUCKDB_PATH": str(warehouse)} if warehouse else {})}))


def ingest(local: Path, first: str, last: str | None = None, raise_on_error: bool = True, warehouse: Path | None = None):
    """Every ingest asset for the partition ``first`` (or the range ``first..last``, one run), on
    the test project's sources (``local / "dbt"``, see the ``local`` fixture), into ``warehouse``
    (by default ``local / "warehouse.duckdb"``)."""
    defs = definitions(local, local / "dbt", warehouse)
    tags = partition_range_tags(first, last or first)
    return materialize(defs.assets, resources=defs.resources, tags=tags, raise_on_error=raise_on_error)


def by_day(database: Path) -> dict[tuple[str, str], tuple]:
    """Row count and hash of each export day's rows of each event table, the load time left out
    (it is when, not what)."""
    return {(table, day): checksum(database, table, f"_export_date = date '{day}'", exclude=("_loaded_at",))
            for table in EVENT_TABLES for day in DAYS}


def csv_rows(path: Path) -> int:
    with path.open() as file:
        return sum(1 for _ in file) - 1


@pytest.fixture(scope="module")
def three_days_landed(tmp_path_factory) -> Path:
    """Three days landed, nothing loaded."""
    local = tmp_path_factory.mktemp("landed")
    for k in (1, 2, 3):
        land_day(local / "landing", partitions_start(), k)
    return local


@pytest.fixture
def local(three_days_landed, project, tmp_path) -> Path:
    """A copy of the three landed days, beside a link to the test project's dbt folder (``dbt``)."""
    shutil.copytree(three_days_landed, tmp_path / "local")
    (tmp_path / "local" / "dbt").symlink_to(project)
    return tmp_path / "local"


@pytest.fixture
def loaded(local) -> Path:
    """The three days loaded one partition at a time, as the daily schedule would."""
    for key in DAYS:
        ingest(local, key)
    return local


def test_a_partition_loads_exactly_its_days_export(local):
    """Partition 2 alone: each event table holds exactly day 2's file, stamped with day 2."""
    ingest(local, DAYS[1])
    for table in CATALOGUE.loaded:
        if table.history == "events":
            export = Path(partition_file(str(local / "landing"), table, DAYS[1]))
            days = query(local / "warehouse.duckdb", f"select _export_date, count(*) from {table.schema}.{table.name} "
                                                     "group by all")
            assert days == [(day_date(2), csv_rows(export))], table.qualified_name


def test_the_raw_columns_are_the_catalogues_then_the_stamps(loaded):
    database = loaded / "warehouse.duckdb"
    for table in CATALOGUE.loaded:
        columns = [c for (c, *_) in query(database, f"describe {table.schema}.{table.name}")]
        stamps = ["_loaded_at", "_export_date"] if table.history == "events" else ["_loaded_at"]
        assert columns == [*table.columns, *stamps], table.qualified_name


def test_running_a_partition_twice_leaves_identical_tables(loaded):
    database = loaded / "warehouse.duckdb"
    before = by_day(database)
    ingest(loaded, DAYS[1])
    assert by_day(database) == before


def test_a_corrected_export_changes_exactly_its_day(loaded):
    """Late data: day 2's invoices are exported again with one invoice's status corrected and one
    invoice gone. Re-running partition 2 makes day 2 equal the new file; every other day is as it was."""
    database = loaded / "warehouse.duckdb"
    before = by_day(database)
    path = loaded / "landing" / "billing" / "invoices" / f"{DAYS[1]}.csv"
    rows = list(csv.DictReader(path.open()))
    corrected = {**rows[0], "status": "void" if rows[0]["status"] != "void" else "paid"}
    new_rows = [corrected, *rows[2:]]
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(new_rows)

    ingest(loaded, DAYS[1])

    after = by_day(database)
    changed = {key for key in before if after[key] != before[key]}
    assert changed == {("raw_billing.invoices", DAYS[1])}
    loaded_day = query(database, f"select invoice_id, status from raw_billing.invoices where _export_date = date '{DAYS[1]}' "
                                 "order by invoice_id")
    assert loaded_day == sorted((int(r["invoice_id"]), r["status"]) for r in new_rows)


def test_a_range_of_days_is_one_run_that_loads_each_day(local):
    result = ingest(local, DAYS[0], DAYS[-1])
    database = local / "warehouse.duckdb"
    for table in EVENT_TABLES:
        assert [d for (d,) in query(database, f"select distinct _export_date from {table} order by 1")] == [
            day_date(d) for d in (1, 2, 3)], table
    materialized = {(e.asset_key.to_user_string(), e.partition) for e in result.get_asset_materialization_events()}
    assert {("raw/billing/invoices", key) for key in DAYS} <= materialized
    # A state table: loaded once per run, from its newest export, and recorded for each day of the range.
    assert {("raw/billing/accounts", key) for key in DAYS} <= materialized


def test_a_range_that_fails_on_a_day_keeps_the_days_before_it(local):
    """Day 2's invoices export is missing: the run fails naming it; day 1 stays loaded and is
    recorded as materialized, day 3 is not loaded."""
    (local / "landing" / "billing" / "invoices" / f"{DAYS[1]}.csv").unlink()
    result = ingest(local, DAYS[0], DAYS[-1], raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE"
                   and e.step_key == "raw__billing__invoices")
    assert f"billing/invoices/{DAYS[1]}.csv" in failure.step_failure_data.error.cause.message
    database = local / "warehouse.duckdb"
    assert query(database, "select distinct _export_date from raw_billing.invoices") == [(day_date(1),)]
    materialized = {(e.asset_key.to_user_string(), e.partition) for e in result.get_asset_materialization_events()}
    assert {p for key, p in materialized if key == "raw/billing/invoices"} == {DAYS[0]}


def test_a_full_disk_under_the_warehouse_is_named_as_the_warehouses_fault_and_changes_nothing(local, tmp_path):
    """Issue 34: the disk under the warehouse fills before day 2 loads. The run fails naming the
    warehouse's path and the full disk, not the landing files; day 1's rows are unchanged and day 2
    is not recorded. Space freed, day 2 loads."""
    with small_disk(tmp_path / "disk", 64) as disk:
        warehouse = disk / "warehouse.duckdb"
        ingest(local, DAYS[0], warehouse=warehouse)
        before = by_day(warehouse)
        filler = fill_disk(disk)
        result = ingest(local, DAYS[1], raise_on_error=False, warehouse=warehouse)
        assert not result.success
        failures = [e.step_failure_data.error.cause.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        assert failures and all(f"The warehouse {warehouse} could not be written" in message
                                and "No space left on device" in message and "landing files are not at fault" in message
                                and ".csv" not in message for message in failures), failures
        assert by_day(warehouse) == before
        filler.unlink()
        assert ingest(local, DAYS[1], warehouse=warehouse).success
        loaded = by_day(warehouse)
        assert {key: value for key, value in loaded.items() if key[1] == DAYS[0]} == \
               {key: value for key, value in before.items() if key[1] == DAYS[0]}
        assert all(loaded[(table, DAYS[1])][0] > 0 for table in EVENT_TABLES)


def test_a_warehouse_locked_by_another_process_is_named_as_the_warehouses_fault(local, tmp_path):
    """Another process (a DuckDB shell left open) holds the warehouse's lock: day 2's run fails
    naming the warehouse and the lock, not the landing files, and day 1's rows are unchanged."""
    warehouse = tmp_path / "warehouse.duckdb"
    ingest(local, DAYS[0], warehouse=warehouse)
    before = by_day(warehouse)
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(warehouse)!r}); "
                               "print('held', flush=True); sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = ingest(local, DAYS[1], raise_on_error=False, warehouse=warehouse)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not result.success
    failures = [e.step_failure_data.error.cause.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures and all(f"The warehouse {warehouse} could not be written" in message and "lock" in message
                            and ".csv" not in message for message in failures), failures
    assert by_day(warehouse) == before


def test_each_loaded_partition_is_recorded_with_its_row_count_and_an_empty_day_is_told_apart(local):
    """A day whose export holds no rows (a header only) loads and is recorded with 0 rows; a day
    whose load failed is not recorded: the record commits with the day's rows or not at all."""
    invoices = local / "landing" / "billing" / "invoices"
    (invoices / f"{DAYS[2]}.csv").write_text((invoices / f"{DAYS[2]}.csv").read_text().splitlines(keepends=True)[0])
    (invoices / f"{DAYS[1]}.csv").write_text((invoices / f"{DAYS[1]}.csv").read_text() + "not,a,row\n")
    assert not ingest(local, DAYS[0], DAYS[-1], raise_on_error=False).success

    database = local / "warehouse.duckdb"
    recorded = query(database, "select source_table, cast(partition_day as varchar), row_count "
                               "from ingest_log.loaded_partitions order by 1, 2")
    loaded = query(database, "select 'billing.invoices', cast(_export_date as varchar), count(*) "
                             "from raw_billing.invoices group by all")
    assert [r for r in recorded if r[0] == "billing.invoices"] == loaded == [("billing.invoices", DAYS[0], loaded[0][2])]
    lines = local / "landing" / "billing" / "invoice_lines" / f"{DAYS[1]}.csv"
    assert ("billing.invoice_lines", DAYS[1], csv_rows(lines)) in recorded

    (invoices / f"{DAYS[1]}.csv").write_text((invoices / f"{DAYS[2]}.csv").read_text())  # corrected: no invoices that day
    assert ingest(local, DAYS[1], DAYS[2]).success
    assert query(database, "select cast(partition_day as varchar), row_count from ingest_log.loaded_partitions "
                           "where source_table = 'billing.invoices' order by 1") == [
        (DAYS[0], loaded[0][2]), (DAYS[1], 0), (DAYS[2], 0)]


def test_the_dev_calendar_chains_like_production(local):
    """At 05:00 UTC the ingest schedule requests yesterday's partition, whose exports the source
    systems (here the test project's, as billing and support drop them) landed overnight; the
    run loads that day, which is then there, and no other."""
    repo = definitions(local, local / "dbt").get_repository_def()
    ingest_job = repo.get_job("ingest_sources")
    today = datetime.combine(day_date(5), time(5), tzinfo=UTC)
    [load] = repo.get_schedule_def("ingest_sources_daily").evaluate_tick(
        build_schedule_context(scheduled_execution_time=today)).run_requests
    assert load.partition_key == day(4)

    land_day(local / "landing", partitions_start(), 4)
    assert ingest_job.execute_in_process(partition_key=load.partition_key).success
    for table in EVENT_TABLES:
        assert query(local / "warehouse.duckdb", f"select distinct _export_date from {table}") == [(day_date(4),)], table


def test_a_raw_table_from_before_daily_partitions_is_refused_naming_it(loaded):
    """A warehouse loaded before partitions has no _export_date: its rows have no day to be
    replaced by, so a partition's load fails naming the table instead of mixing the two."""
    database = loaded / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("alter table raw_billing.invoices drop column _export_date")
    result = ingest(loaded, DAYS[1], raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.cause.message
    assert "raw_billing.invoices: the raw table has the columns" in message
    assert "drop it and load every day again" in message
