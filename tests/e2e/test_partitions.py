"""Days through the platform one partition at a time: the same marts as a full rebuild, reruns
that change nothing, and a corrected day that changes exactly that day.

On the platform's test project (tests/fixtures/subscriptions), a scratch copy of its dbt project.
The daily chain (ingest, snapshots, builds) runs in process for each day's partition, as the
schedules would, each day landed (and the crm synced through it) just before; the full rebuild is
the plain-dbt path the platform had before partitions.
"""

import csv
import subprocess
from decimal import Decimal

import pytest
from support import checksum, day, execute_job, fixture_platform, land_fixture_days, query, run_days

from dataplatform.dbt.project import dbt_executable
from dataplatform.partitions import partitions_start

DAYS = 3
DAY = [day(d) for d in range(1, DAYS + 1)]

# The marts and incremental models that partitions build, and the column each is dated by.
# The dimension (billing's accounts) is left out: it counts snapshot versions, and a rebuild
# that snapshots once sees fewer versions than one that snapshots every day, by design.
DATED = {
    "billing.invoices": "invoice_date",
    "billing.daily_billing": "invoice_date",
    "care.tickets": "ticket_date",
}
CUMULATIVE = ("care.account_health",)
RAW_EVENTS = ("raw_billing.invoices", "raw_billing.invoice_lines", "raw_support.tickets")


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
def platform(fixture_root, tmp_path_factory):
    """Three days, each landed and then built by the daily chain, one partition after the other;
    yields the local folder (warehouse, landing) and the scratch dbt project."""
    local = tmp_path_factory.mktemp("partitions")
    with fixture_platform(fixture_root, local, days=(1,)) as (_, project):
        for k in range(1, DAYS + 1):
            land_fixture_days(local, (k,))
            run_days(DAY[k - 1])
        yield local, project


def test_day_by_day_equals_a_full_rebuild_of_the_same_days(platform, tmp_path, monkeypatch):
    """The same raw days, rebuilt in one go by plain `dbt build --full-refresh` (the pre-partition
    path), give identical marts: row counts and checksums, day by day and whole."""
    from fixtures.subscriptions.landing import load_crm

    local, project = platform
    rebuilt = tmp_path / "rebuilt.duckdb"
    monkeypatch.setenv("DUCKDB_PATH", str(rebuilt))
    monkeypatch.setenv("PLATFORM_LOCAL_DIR", str(tmp_path))
    monkeypatch.setenv("LANDING_ROOT", str(local / "landing"))
    ingest = execute_job("shared_ingest", "ingest_sources", DAY[0], DAY[-1])
    assert ingest.success
    load_crm(rebuilt, partitions_start(), DAYS)  # what Fivetran had synced by the last day
    dbt = subprocess.run(
        [dbt_executable(), "build", "--full-refresh", "--target-path", str(tmp_path / "target"),
         "--event-time-start", DAY[0], "--event-time-end", day(DAYS + 1)],
        cwd=project, capture_output=True, text=True, timeout=600,
    )
    assert dbt.returncode == 0, dbt.stdout[-4000:]
    built, full = snapshot_of(local / "warehouse.duckdb"), snapshot_of(rebuilt)
    assert built == full
    assert all(counts[0] > 0 for relation in DATED for counts in built[relation].values())


def test_running_a_partition_twice_leaves_identical_tables(platform):
    local, _ = platform
    before = snapshot_of(local / "warehouse.duckdb")
    run_days(DAY[1])
    assert snapshot_of(local / "warehouse.duckdb") == before


def test_a_corrected_day_changes_exactly_that_day(platform):
    """Late data: day 2's invoice lines are exported again with one line of an open invoice
    corrected. Re-running partition 2 through ingest and both domains changes day 2's rows, and
    no other day's."""
    local, _ = platform
    database = local / "warehouse.duckdb"
    before = snapshot_of(database)
    landing = local / "landing" / "billing"
    status = {row["invoice_id"]: row["status"] for row in csv.DictReader((landing / "invoices" / f"{DAY[1]}.csv").open())}
    path = landing / "invoice_lines" / f"{DAY[1]}.csv"
    rows = list(csv.DictReader(path.open()))
    corrected = next(row for row in rows if status[row["invoice_id"]] != "void")  # so its amount is billed
    corrected["quantity"] = str(int(corrected["quantity"]) + 100)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    run_days(DAY[1])

    after = snapshot_of(database)
    for relation in DATED:
        assert after[relation][DAY[0]] == before[relation][DAY[0]], relation
        assert after[relation][DAY[2]] == before[relation][DAY[2]], relation
    assert after["raw_billing.invoice_lines"][DAY[1]] != before["raw_billing.invoice_lines"][DAY[1]]
    for relation in ("raw_billing.invoices", "raw_support.tickets", "care.tickets"):
        assert after[relation] == before[relation], relation  # only invoice_lines was re-exported
    for relation in ("billing.invoices", "billing.daily_billing"):
        assert after[relation][DAY[1]][0] == before[relation][DAY[1]][0]  # same rows ...
        assert after[relation][DAY[1]] != before[relation][DAY[1]], relation  # ... one changed
    invoice = corrected["invoice_id"]
    amount = sum(int(r["quantity"]) * Decimal(r["unit_price"]) for r in rows if r["invoice_id"] == invoice)
    assert query(database, f"select invoice_amount from billing.invoices where invoice_id = {invoice}") == [(amount,)]
    billed = query(database, f"select billed_amount from billing.daily_billing where invoice_date = date '{DAY[1]}'")[0][0]
    raw_billed = query(database, "select sum(l.quantity * l.unit_price) from raw_billing.invoice_lines l "
                                 "join raw_billing.invoices i using (invoice_id) "
                                 f"where i._export_date = date '{DAY[1]}' and i.status != 'void'")[0][0]
    assert billed == raw_billed
