"""The real platform: the quickstart's launcher, three code servers, the daemon and the webserver.

On a fresh warehouse, "Materialize all" (an asset backfill across the three locations) runs
ingest, then sales, then inventory. Then runs launched at the same time from every location
queue on the one-writer DuckDB and all succeed, and one domain's snapshots never overlap.
"""

import pytest
from dagster import DagsterRunStatus
from platform_support import (
    assert_snapshot_pools_have_limit_one, overlaps, run_window, start_platform, step_windows, stop_platform,
)
from support import scalar


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    platform = start_platform(tmp_path_factory.mktemp("platform"))
    yield platform
    stop_platform(platform)


def materialized_keys(instance, run_id) -> set[str]:
    return {
        r.dagster_event.asset_key.to_user_string()
        for r in instance.all_logs(run_id)
        if r.dagster_event and r.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
    }


def test_snapshot_pools_have_limit_one_before_any_run(platform):
    assert_snapshot_pools_have_limit_one(platform)


def test_one_graph_where_raw_sources_are_the_ingest_assets(platform):
    """A dbt source must not shadow the ingest asset of the same key (dagster#21760)."""
    nodes = platform.graphql("""{ assetNodes { assetKey { path } isMaterializable
        repository { location { name } } dependencyKeys { path } } }""")["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    raw = {k: n for k, n in by_key.items() if k.startswith("raw/")}
    assert len(raw) == 8
    assert {n["repository"]["location"]["name"] for n in raw.values()} == {"shared_ingest"}
    assert all(n["isMaterializable"] for n in raw.values())
    assert len(nodes) == len(by_key), "an asset key appears twice in the global graph"
    deps = lambda key: {"/".join(d["path"]) for d in by_key[key]["dependencyKeys"]}
    assert deps("sales/stg_shop__orders") == {"raw/shop/orders"}
    assert deps("inventory/stg_erp__products") == {"raw/erp/products"}
    assert "sales/order_items" in deps("inventory/days_of_supply")


def test_materialize_all_runs_ingest_then_sales_then_inventory(platform):
    backfill, runs = platform.wait_for_backfill(platform.materialize_all())
    assert backfill.status.value == "COMPLETED_SUCCESS", backfill.status
    assert all(r.status == DagsterRunStatus.SUCCESS for r in runs), [(r.run_id, r.status) for r in runs]
    with platform.instance() as instance:
        by_location = {}
        for run in runs:
            location = run.remote_job_origin.location_name
            by_location.setdefault(location, []).append((run_window(instance, run.run_id), materialized_keys(instance, run.run_id)))
    ingest_end = max(window[1] for window, _ in by_location["shared_ingest"])
    sales_start = min(window[0] for window, _ in by_location["sales"])
    order_items_end = next(w[1] for w, keys in by_location["sales"] if "sales/order_items" in keys)
    days_of_supply_start = next(w[0] for w, keys in by_location["inventory"] if "inventory/days_of_supply" in keys)
    assert ingest_end <= sales_start
    assert order_items_end <= days_of_supply_start
    every_key = {k for runs_ in by_location.values() for _, keys in runs_ for k in keys}
    assert {"raw/shop/orders", "sales/daily_revenue", "inventory/days_of_supply", "sales/customers_snapshot"} <= every_key
    assert scalar(platform.warehouse, "select count(*) from inventory.days_of_supply") > 0


def test_runs_launched_at_once_from_all_locations_queue_and_succeed(platform):
    launches = [
        ("shared_ingest", "ingest_sources"),
        ("sales", "sales_snapshots"),
        ("inventory", "inventory_build"),
        ("sales", "sales_snapshots"),
    ]
    run_ids = [platform.launch_job(location, job) for location, job in launches]
    runs = platform.wait_for_runs(run_ids)
    assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS] * len(runs)
    with platform.instance() as instance:
        windows = [run_window(instance, r) for r in run_ids]
        assert not overlaps(windows), "DuckDB runs overlapped: the run queue did not hold them"
        snapshot_steps = [
            step_windows(instance, r)["sales_dbt_snapshots"] for r, (_, job) in zip(run_ids, launches)
            if job == "sales_snapshots"
        ]
        assert len(snapshot_steps) == 2 and not overlaps(snapshot_steps)
        logs = "".join(str(rec.message) for r in run_ids for rec in instance.all_logs(r))
        assert "Could not set lock" not in logs
