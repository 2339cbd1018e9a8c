"""Dagster's own processes over the repo's files, as a Dagster user starts them by habit.

`dagster-webserver -w workspace.yaml` and a plain `dagster-daemon run -w workspace.yaml`, the
instance configured by a copy of deploy/dev/dagster.yaml, each process starting its own code servers:
"Materialize all" of three days (an asset backfill across the three locations) completes, in
dependency order, each location's days in one run (inventory's in two), and the domains' triggers,
switched on, start nothing beside it. The run coordinator that dagster.yaml names
installs the backfill fix in the stock daemon (dataplatform/daemon.py); `dg dev` starts the same
daemon (`python -m dagster._daemon run`) on the same instance config.
"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter
from platform_support import materialized_keys, run_window, start_platform, stop_platform
from support import REPO, query, scalar

from shared_ingest.generator import generate_day
from shared_ingest.landing import day_date

BIN = Path(sys.executable).parent
DAYS = [day_date(d).isoformat() for d in (1, 2, 3)]
LOCATIONS = ("shared_ingest", "sales", "inventory")


def stock_processes(port: int) -> list[str]:
    """The webserver and the daemon, nothing of the platform's own: a shell starts both."""
    return ["bash", "-c", f"'{BIN}/dagster-daemon' run -w workspace.yaml & "
                          f"exec '{BIN}/dagster-webserver' -w workspace.yaml -h 127.0.0.1 -p {port}"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    local = tmp_path_factory.mktemp("stock")
    for day in (1, 2, 3):
        generate_day(str(local / "landing"), day, scale=0.2)
    home = local / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "deploy" / "dev" / "dagster.yaml", home / "dagster.yaml")
    # Two processes creating a fresh SQLite storage at the same moment race on its migration.
    with DagsterInstance.from_config(str(home)):
        pass
    subprocess.run([sys.executable, "-m", "dataplatform.dbt_project", "prepare"], check=True, cwd=REPO)
    platform = start_platform(local, command=stock_processes,
                              extra_env={"DAGSTER_HOME": str(home), "PLATFORM_TRIGGER_INTERVAL_SECONDS": "3"})
    yield platform
    stop_platform(platform)


def test_materialize_all_of_three_days_runs_ingest_then_sales_then_inventory(platform):
    """With the domains' triggers on, as in production: the backfill builds the domains, and the
    triggers, which see it, start nothing of their own."""
    keys = platform.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
    for domain in ("sales", "inventory"):
        platform.set_sensor(domain, f"{domain}_on_new_data", running=True)
    backfill, runs = platform.wait_for_backfill(platform.materialize_all(DAYS))
    assert backfill.status.value == "COMPLETED_SUCCESS", (backfill.status, backfill.failure_count)
    assert runs and all(r.status == DagsterRunStatus.SUCCESS for r in runs), [(r.job_name, r.status) for r in runs]
    assert {r.remote_job_origin.location_name for r in runs} == set(LOCATIONS)
    with platform.instance() as instance:
        never = [k for k in keys if instance.get_latest_materialization_event(AssetKey(k["assetKey"]["path"])) is None]
        by_location = {}
        for run in runs:
            location = run.remote_job_origin.location_name
            by_location.setdefault(location, []).append((run_window(instance, run.run_id), materialized_keys(instance, run.run_id)))
    assert not never, f"never materialized: {never}"
    # Each location builds its days in one run (BackfillPolicy.single_run): a range, not a run per
    # day. Inventory in two: its models that read ingest only start with ingest's end, and
    # days_of_supply, on sales' order_items, once sales is done.
    ranges = [(r.remote_job_origin.location_name, r.tags.get("dagster/asset_partition_range_start"),
               r.tags.get("dagster/asset_partition_range_end")) for r in runs]
    assert sorted(ranges) == sorted([*((location, DAYS[0], DAYS[-1]) for location in LOCATIONS),
                                     ("inventory", DAYS[0], DAYS[-1])])
    assert query(platform.warehouse, "select distinct order_date from sales.daily_revenue order by 1") == [
        (day_date(d),) for d in (1, 2, 3)]
    # Dependency order across locations: ingest, then sales, then inventory's mart on sales' order_items.
    ingest_end = max(window[1] for window, _ in by_location["shared_ingest"])
    sales_start = min(window[0] for window, _ in by_location["sales"])
    order_items_end = next(w[1] for w, keys in by_location["sales"] if "sales/order_items" in keys)
    days_of_supply_start = next(w[0] for w, keys in by_location["inventory"] if "inventory/days_of_supply" in keys)
    assert ingest_end <= sales_start
    assert order_items_end <= days_of_supply_start
    assert scalar(platform.warehouse, "select count(*) from inventory.days_of_supply") > 0
    print(f"\n3-day backfill of everything: {len(runs)} runs {sorted(location for location, *_ in ranges)}")
    time.sleep(10)  # a few of the triggers' ticks after the backfill: they see the days built
    with platform.instance() as instance:
        assert not instance.get_runs(RunsFilter(tags={"dagster/sensor_name": "sales_on_new_data"}))
        assert not instance.get_runs(RunsFilter(tags={"dagster/sensor_name": "inventory_on_new_data"}))
