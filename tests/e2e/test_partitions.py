"""Days through the platform one partition at a time: the same marts as a full rebuild, reruns
that change nothing, and a corrected day that changes exactly that day.

The daily chain (ingest, snapshots, builds) runs in process for each day's partition, as the
schedules would; the full rebuild is the plain-dbt path the platform had before partitions.
"""

import csv
import subprocess

import pytest
from support import REPO, checksum, execute_job, point_platform_at, query, run_days

from dataplatform.dbt_project import dbt_executable
from sourcesim.days import day_date
from sourcesim.generator import generate_day

SCALE, DAYS = 0.1, 3
DAY = [day_date(d).isoformat() for d in range(1, DAYS + 1)]

# The marts and incremental models that partitions build, and the column each is dated by.
# The dimensions (customers, products) are left out: they count snapshot versions, and a rebuild
# that snapshots once sees fewer versions than one that snapshots every day, by design.
DATED = {
    "sales.orders": "order_date",
    "sales.order_items": "order_date",
    "sales.daily_revenue": "order_date",
    "inventory_staging.int_stock_movements_summed_to_days": "moved_on",
}
CUMULATIVE = ("inventory.stock_levels", "inventory.days_of_supply")
RAW_EVENTS = ("raw_shop.orders", "raw_shop.order_items", "raw_shop.payments", "raw_erp.stock_movements")


def content(relation: str) -> dict:
    """How ``relation`` is compared: every column but a raw table's load time (when, not what)."""
    return {"exclude": ("_loaded_at",)} if relation.startswith("raw_") else {}


def per_day(database, relation: str, column: str) -> dict[str, tuple]:
    return {day: checksum(database, relation, f"{column} = date '{day}'", **content(relation)) for day in DAY}


def snapshot_of(database) -> dict:
    """Every dated relation per day, and the cumulative marts whole."""
    dated = {**DATED, **{raw: "_export_date" for raw in RAW_EVENTS}}
    return {
        **{relation: per_day(database, relation, column) for relation, column in dated.items()},
        **{relation: checksum(database, relation, **content(relation)) for relation in CUMULATIVE},
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Three days landed; each built by the daily chain, one partition after the other."""
    mp = pytest.MonkeyPatch()
    local = tmp_path_factory.mktemp("partitions")
    point_platform_at(mp, local)
    for day in range(1, DAYS + 1):
        generate_day(str(local / "landing"), day, scale=SCALE)
        run_days(DAY[day - 1])
    yield local
    mp.undo()


def test_day_by_day_equals_a_full_rebuild_of_the_same_days(warehouse, tmp_path, monkeypatch):
    """The same raw days, rebuilt in one go by plain `dbt build --full-refresh` (the pre-partition
    path), give identical marts: row counts and checksums, day by day and whole."""
    rebuilt = tmp_path / "rebuilt.duckdb"
    monkeypatch.setenv("DUCKDB_PATH", str(rebuilt))
    monkeypatch.setenv("PLATFORM_LOCAL_DIR", str(tmp_path))
    monkeypatch.setenv("LANDING_ROOT", str(warehouse / "landing"))
    ingest = execute_job("shared_ingest", "ingest_sources", DAY[0], DAY[-1])
    assert ingest.success
    dbt = subprocess.run(
        [dbt_executable(), "build", "--full-refresh", "--target-path", str(tmp_path / "target"),
         "--event-time-start", DAY[0], "--event-time-end", day_date(DAYS + 1).isoformat()],
        cwd=REPO / "dbt", capture_output=True, text=True, timeout=600,
    )
    assert dbt.returncode == 0, dbt.stdout[-4000:]
    built, full = snapshot_of(warehouse / "warehouse.duckdb"), snapshot_of(rebuilt)
    assert built == full
    assert all(counts[0] > 0 for relation in DATED for counts in built[relation].values())


def test_running_a_partition_twice_leaves_identical_tables(warehouse):
    before = snapshot_of(warehouse / "warehouse.duckdb")
    run_days(DAY[1])
    assert snapshot_of(warehouse / "warehouse.duckdb") == before


def test_a_corrected_day_changes_exactly_that_day(warehouse):
    """Late data: day 2's order lines are exported again with one line corrected. Re-running
    partition 2 through ingest and both domains changes day 2's rows, and no other day's."""
    database = warehouse / "warehouse.duckdb"
    before = snapshot_of(database)
    path = warehouse / "landing" / "shop" / "order_items" / f"{DAY[1]}.csv"
    rows = list(csv.DictReader(path.open()))
    rows[0]["quantity"] = str(int(rows[0]["quantity"]) + 100)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    run_days(DAY[1])

    after = snapshot_of(database)
    for relation in DATED:
        assert after[relation][DAY[0]] == before[relation][DAY[0]], relation
        assert after[relation][DAY[2]] == before[relation][DAY[2]], relation
    assert after["raw_shop.order_items"][DAY[1]] != before["raw_shop.order_items"][DAY[1]]
    for relation in ("raw_shop.orders", "raw_shop.payments", "raw_erp.stock_movements"):
        assert after[relation] == before[relation], relation  # only order_items was re-exported
    for relation in ("sales.order_items", "sales.orders", "sales.daily_revenue"):
        assert after[relation][DAY[1]][0] == before[relation][DAY[1]][0]  # same rows ...
        assert after[relation][DAY[1]] != before[relation][DAY[1]], relation  # ... one changed
    line = query(database, f"select quantity from sales.order_items where order_item_id = {rows[0]['order_item_id']}")
    assert line == [(int(rows[0]["quantity"]),)]
    units = query(database, f"select unit_count from sales.daily_revenue where order_date = date '{DAY[1]}'")[0][0]
    raw_units = query(database, f"select sum(quantity) from raw_shop.order_items where _export_date = date '{DAY[1]}'")[0][0]
    assert units == raw_units
