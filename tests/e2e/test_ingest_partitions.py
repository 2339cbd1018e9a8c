"""Daily partitions of the event tables through the real ingest assets on a real DuckDB.

A partition is one day's export: loading it replaces that day's rows and nothing else, so a day
can be re-run, or re-landed corrected, without touching the others; a range of days is one run.
"""

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from dagster import build_schedule_context, materialize
from support import checksum, query, source_catalogue

from dataplatform.partitions import partition_range_tags
from dataplatform.settings import resolve_settings
from shared_ingest.components import build_definitions
from shared_ingest.landing import partition_file
from sourcesim.days import day_date
from sourcesim.generator import generate_day

DAYS = [day_date(d).isoformat() for d in (1, 2, 3)]
EVENT_TABLES = [f"{t.schema}.{t.name}" for t in source_catalogue().loaded if t.history == "events"]


def definitions(local: Path):
    return build_definitions(resolve_settings(
        {"PLATFORM_ENV": "dev", "PLATFORM_LOCAL_DIR": str(local), "PLATFORM_SCHEDULES": "stopped"}))


def ingest(local: Path, first: str, last: str | None = None, raise_on_error: bool = True):
    """Every ingest asset for the partition ``first`` (or the range ``first..last``, one run)."""
    defs = definitions(local)
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
    for day in (1, 2, 3):
        generate_day(str(local / "landing"), day, scale=0.05)
    return local


@pytest.fixture
def local(three_days_landed, tmp_path) -> Path:
    shutil.copytree(three_days_landed, tmp_path / "local")
    return tmp_path / "local"


@pytest.fixture
def loaded(local) -> Path:
    """The three days loaded one partition at a time, as the daily schedule would."""
    for day in DAYS:
        ingest(local, day)
    return local


def test_a_partition_loads_exactly_its_days_export(local):
    """Partition 2 alone: each event table holds exactly day 2's file, stamped with day 2."""
    ingest(local, DAYS[1])
    for table in source_catalogue().loaded:
        if table.history == "events":
            export = Path(partition_file(str(local / "landing"), table, DAYS[1]))
            days = query(local / "warehouse.duckdb", f"select _export_date, count(*) from {table.schema}.{table.name} "
                                                     "group by all")
            assert days == [(day_date(2), csv_rows(export))], table.qualified_name


def test_the_raw_columns_are_the_catalogues_then_the_stamps(loaded):
    database = loaded / "warehouse.duckdb"
    for table in source_catalogue().loaded:
        columns = [c for (c, *_) in query(database, f"describe {table.schema}.{table.name}")]
        stamps = ["_loaded_at", "_export_date"] if table.history == "events" else ["_loaded_at"]
        assert columns == [*table.columns, *stamps], table.qualified_name


def test_running_a_partition_twice_leaves_identical_tables(loaded):
    database = loaded / "warehouse.duckdb"
    before = by_day(database)
    ingest(loaded, DAYS[1])
    assert by_day(database) == before


def test_a_corrected_export_changes_exactly_its_day(loaded):
    """Late data: day 2's orders are exported again with one order's status corrected and one
    order gone. Re-running partition 2 makes day 2 equal the new file; every other day is as it was."""
    database = loaded / "warehouse.duckdb"
    before = by_day(database)
    path = loaded / "landing" / "shop" / "orders" / f"{DAYS[1]}.csv"
    rows = list(csv.DictReader(path.open()))
    corrected = {**rows[0], "status": "returned" if rows[0]["status"] != "returned" else "completed"}
    new_rows = [corrected, *rows[2:]]
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(new_rows)

    ingest(loaded, DAYS[1])

    after = by_day(database)
    changed = {key for key in before if after[key] != before[key]}
    assert changed == {("raw_shop.orders", DAYS[1])}
    loaded_day = query(database, f"select order_id, status from raw_shop.orders where _export_date = date '{DAYS[1]}' "
                                 "order by order_id")
    assert loaded_day == sorted((int(r["order_id"]), r["status"]) for r in new_rows)


def test_a_range_of_days_is_one_run_that_loads_each_day(local):
    result = ingest(local, DAYS[0], DAYS[-1])
    database = local / "warehouse.duckdb"
    for table in EVENT_TABLES:
        assert [day for (day,) in query(database, f"select distinct _export_date from {table} order by 1")] == [
            day_date(d) for d in (1, 2, 3)], table
    materialized = {(e.asset_key.to_user_string(), e.partition) for e in result.get_asset_materialization_events()}
    assert {("raw/shop/orders", day) for day in DAYS} <= materialized
    # A state table: loaded once per run, from its newest export, and recorded for each day of the range.
    assert {("raw/shop/customers", day) for day in DAYS} <= materialized


def test_a_range_that_fails_on_a_day_keeps_the_days_before_it(local):
    """Day 2's orders export is missing: the run fails naming it; day 1 stays loaded and is
    recorded as materialized, day 3 is not loaded."""
    (local / "landing" / "shop" / "orders" / f"{DAYS[1]}.csv").unlink()
    result = ingest(local, DAYS[0], DAYS[-1], raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE"
                   and e.step_key == "raw__shop__orders")
    assert f"shop/orders/{DAYS[1]}.csv" in failure.step_failure_data.error.cause.message
    database = local / "warehouse.duckdb"
    assert query(database, "select distinct _export_date from raw_shop.orders") == [(day_date(1),)]
    materialized = {(e.asset_key.to_user_string(), e.partition) for e in result.get_asset_materialization_events()}
    assert {p for key, p in materialized if key == "raw/shop/orders"} == {DAYS[0]}


def test_each_loaded_partition_is_recorded_with_its_row_count_and_an_empty_day_is_told_apart(local):
    """A day whose export holds no rows (a header only) loads and is recorded with 0 rows; a day
    whose load failed is not recorded: the record commits with the day's rows or not at all."""
    orders = local / "landing" / "shop" / "orders"
    (orders / f"{DAYS[2]}.csv").write_text((orders / f"{DAYS[2]}.csv").read_text().splitlines(keepends=True)[0])
    (orders / f"{DAYS[1]}.csv").write_text((orders / f"{DAYS[1]}.csv").read_text() + "not,a,row\n")
    assert not ingest(local, DAYS[0], DAYS[-1], raise_on_error=False).success

    database = local / "warehouse.duckdb"
    recorded = query(database, "select source_table, cast(partition_day as varchar), row_count "
                               "from ingest_log.loaded_partitions order by 1, 2")
    loaded = query(database, "select 'shop.orders', cast(_export_date as varchar), count(*) from raw_shop.orders group by all")
    assert [r for r in recorded if r[0] == "shop.orders"] == loaded == [("shop.orders", DAYS[0], loaded[0][2])]
    assert ("shop.order_items", DAYS[1], csv_rows(local / "landing" / "shop" / "order_items" / f"{DAYS[1]}.csv")) in recorded

    (orders / f"{DAYS[1]}.csv").write_text((orders / f"{DAYS[2]}.csv").read_text())  # corrected: no orders that day
    assert ingest(local, DAYS[1], DAYS[2]).success
    assert query(database, "select cast(partition_day as varchar), row_count from ingest_log.loaded_partitions "
                           "where source_table = 'shop.orders' order by 1") == [
        (DAYS[0], loaded[0][2]), (DAYS[1], 0), (DAYS[2], 0)]


def test_the_dev_calendar_chains_like_production(local):
    """At 04:30 UTC the simulated sources export yesterday; at 05:00 the ingest schedule loads
    yesterday's partition, which is then there. By hand, the simulation exports the next day."""
    repo = definitions(local).get_repository_def()
    simulation, ingest_job = repo.get_job("simulate_source_day"), repo.get_job("ingest_sources")

    def tick(schedule: str, hour: int, minute: int):
        when = datetime(2026, 1, 5, hour, minute, tzinfo=UTC)
        [request] = repo.get_schedule_def(schedule).evaluate_tick(
            build_schedule_context(scheduled_execution_time=when)).run_requests
        return request

    export = tick("simulate_source_day_daily", 4, 30)
    config = export.run_config["ops"]["export_source_day"]["config"]
    assert config == {"day": "2026-01-04"}
    small = {"ops": {"export_source_day": {"config": {**config, "scale": 0.05}}}}
    assert simulation.execute_in_process(run_config=small).success
    load = tick("ingest_sources_daily", 5, 0)
    assert load.partition_key == "2026-01-04"
    assert ingest_job.execute_in_process(partition_key=load.partition_key).success
    assert query(local / "warehouse.duckdb", "select distinct _export_date from raw_shop.orders") == [(day_date(4),)]

    by_hand = {"ops": {"export_source_day": {"config": {"scale": 0.05}}}}
    assert simulation.execute_in_process(run_config=by_hand).success
    assert (local / "landing" / "shop" / "orders" / f"{day_date(5)}.csv").is_file()


def test_a_raw_table_from_before_daily_partitions_is_refused_naming_it(loaded):
    """A warehouse loaded before partitions has no _export_date: its rows have no day to be
    replaced by, so a partition's load fails naming the table instead of mixing the two."""
    database = loaded / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("alter table raw_shop.orders drop column _export_date")
    result = ingest(loaded, DAYS[1], raise_on_error=False)
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.step_failure_data.error.cause.message
    assert "raw_shop.orders: the raw table has the columns" in message
    assert "drop it and load every day again" in message
