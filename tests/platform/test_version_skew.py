"""Version skew, as independent deploys make it: sales runs commit N+1, inventory and ingest still
run commit N, in one workspace.

Commit N is this repo and its environment. Commit N+1 is a second working tree in which sales
ships v2 of its public `order_items` beside a deprecated v1, installed alone into an environment
of its own (`uv sync --package sales`), as sales' image would be. Each location is its own
`dagster api grpc` server, as deployed, with its own tree's dbt project; the stock
`dagster-webserver` and `dagster-daemon run` read a workspace of the three servers.

The webserver draws one graph: no key twice, no "defined in multiple code locations" collision,
v2 beside v1, inventory's `days_of_supply` still on v1. "Materialize all" of three days (an asset
backfill across the three locations, with the domains' triggers on, as in production) completes in
dependency order, each location's days in one run (3 runs), the triggers start nothing
beside it, and inventory built on v1 while sales built both versions. The run coordinator that
deploy/dev/dagster.yaml names installs the backfill fixes in the stock daemon (dataplatform/daemon.py).
"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, DagsterRunStatus, RunsFilter
from platform_support import dev_instance_home, materialized_keys, run_window, start_platform, stop_platform
from support import REPO, add_order_items_v2, free_port, query, scalar, scrubbed_env

from dataplatform.partitions import RANGE_END_TAG, RANGE_START_TAG
from devsupport.environments import install_location
from sourcesim.days import day_date
from sourcesim.generator import generate_day

DAYS = [day_date(d).isoformat() for d in (1, 2, 3)]
LOCATIONS = ("shared_ingest", "sales", "inventory")
BIN = Path(sys.executable).parent
TREE_FILES = ("pyproject.toml", "uv.lock", "workspace.yaml", "dg.toml")


def second_tree(root: Path) -> Path:
    """Commit N+1: a copy of the repo's code and dbt project, sales' order_items v2 added."""
    tree = root / "n+1"
    ignore = shutil.ignore_patterns(".venv", "__pycache__", "*.egg-info", "target", "logs")
    for folder in ("libs", "locations", "dbt"):
        shutil.copytree(REPO / folder, tree / folder, ignore=ignore)
    for name in TREE_FILES:
        shutil.copyfile(REPO / name, tree / name)
    add_order_items_v2(tree / "dbt")
    return tree


@pytest.fixture(scope="module")
def skewed(tmp_path_factory):
    root = tmp_path_factory.mktemp("skew")
    tree = second_tree(root)
    sales_bin = install_location("sales", root / "sales-venv", tree)  # as sales' image installs it
    local = root / "local"
    for day in (1, 2, 3):
        generate_day(str(local / "landing"), day, scale=0.05)
    home = dev_instance_home(local)
    servers = {  # location -> (its environment's bin, its tree's dbt project)
        "shared_ingest": (BIN, REPO / "dbt"),
        "sales": (sales_bin, tree / "dbt"),
        "inventory": (BIN, REPO / "dbt"),
    }
    ports = {location: free_port() for location in servers}
    workspace = root / "workspace.yaml"
    workspace.write_text(yaml.safe_dump({"load_from": [
        {"grpc_server": {"host": "127.0.0.1", "port": ports[location], "location_name": location}} for location in servers]}))
    env = scrubbed_env(PLATFORM_LOCAL_DIR=str(local), PLATFORM_SCHEDULES="stopped", DAGSTER_HOME=str(home))
    for bin_dir, project in ((BIN, REPO / "dbt"), (sales_bin, tree / "dbt")):  # as each image's build parses
        subprocess.run([bin_dir / "python", "-m", "dataplatform.dbt_project", "prepare"], check=True,
                       env={**env, "DBT_PROJECT_DIR": str(project)}, cwd=root, capture_output=True)

    def processes(port: int) -> list[str]:
        """One `dagster api grpc` per location (its environment, its project), the daemon, the webserver."""
        servers_started = " ".join(
            f"DBT_PROJECT_DIR='{project}' '{bin_dir}/dagster' api grpc -m {location}.definitions "
            f"-h 127.0.0.1 -p {ports[location]} &" for location, (bin_dir, project) in servers.items())
        ready = " ".join(f"until '{BIN}/dagster' api grpc-health-check -h 127.0.0.1 -p {p} >/dev/null 2>&1; "
                         f"do sleep 1; done;" for p in ports.values())
        return ["bash", "-c", f"{servers_started} {ready} '{BIN}/dagster-daemon' run -w '{workspace}' & "
                              f"exec '{BIN}/dagster-webserver' -w '{workspace}' -h 127.0.0.1 -p {port}"]

    platform = start_platform(local, command=processes,
                              extra_env={"DAGSTER_HOME": str(home), "PLATFORM_TRIGGER_INTERVAL_SECONDS": "3"})
    yield platform, tree
    stop_platform(platform)


def keys_of(nodes: list[dict]) -> list[str]:
    return ["/".join(n["assetKey"]["path"]) for n in nodes]


def test_the_webserver_draws_one_graph_with_v2_beside_v1(skewed):
    platform, _ = skewed
    nodes = platform.graphql("{ assetNodes { assetKey { path } repository { location { name } } "
                             "dependencyKeys { path } } }")["assetNodes"]
    keys = keys_of(nodes)
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    location = {"/".join(n["assetKey"]["path"]): n["repository"]["location"]["name"] for n in nodes}
    assert location["sales/order_items_v2"] == location["sales/order_items"] == "sales"
    collisions = platform.graphql(
        """query($keys: [AssetKeyInput!]!) { assetNodeDefinitionCollisions(assetKeys: $keys) {
             assetKey { path } repositories { name location { name } } } }""",
        {"keys": [{"path": n["assetKey"]["path"]} for n in nodes]})["assetNodeDefinitionCollisions"]
    assert collisions == []
    days_of_supply = next(n for n in nodes if keys_of([n]) == ["inventory/days_of_supply"])
    assert "sales/order_items" in keys_of([{"assetKey": k} for k in days_of_supply["dependencyKeys"]])
    assert "sales/order_items_v2" not in keys_of([{"assetKey": k} for k in days_of_supply["dependencyKeys"]])


def test_materialize_all_of_three_days_runs_in_order_and_inventory_keeps_reading_v1(skewed):
    """With the domains' triggers on, as in production: the backfill builds the domains, and the
    triggers, which see it, start nothing of their own."""
    platform, _ = skewed
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
    # Each location builds its days in ONE run (BackfillPolicy.single_run): a range, not a run per
    # day. Inventory's models that read ingest only wait, with days_of_supply, for sales' order_items
    # (the backfill fix's units, dataplatform/daemon.py), so inventory too is one run.
    ranges = [(r.remote_job_origin.location_name, r.tags.get(RANGE_START_TAG),
               r.tags.get(RANGE_END_TAG)) for r in runs]
    assert sorted(ranges) == sorted((location, DAYS[0], DAYS[-1]) for location in LOCATIONS)
    # Dependency order across locations: ingest, then sales, then inventory's mart on sales' order_items.
    ingest_end = max(window[1] for window, _ in by_location["shared_ingest"])
    sales_start = min(window[0] for window, _ in by_location["sales"])
    order_items_end = next(w[1] for w, built in by_location["sales"] if "sales/order_items" in built)
    days_of_supply_start = next(w[0] for w, built in by_location["inventory"] if "inventory/days_of_supply" in built)
    assert ingest_end <= sales_start
    assert order_items_end <= days_of_supply_start
    print(f"\n3-day backfill of everything: {len(runs)} runs {sorted(location for location, *_ in ranges)}")
    # Sales, on commit N+1, built both versions; inventory, on commit N, read v1.
    built = {key for _, runs_built in by_location["sales"] for key in runs_built}
    assert {"sales/order_items", "sales/order_items_v2"} <= built
    columns = {t: [c for (c, *_) in query(platform.warehouse, f"describe sales.{t}")] for t in ("order_items", "order_items_v2")}
    assert "line_amount" in columns["order_items"] and "amount" in columns["order_items_v2"]
    assert query(platform.warehouse, "select distinct order_date from sales.daily_revenue order by 1") == [
        (day_date(d),) for d in (1, 2, 3)]
    assert scalar(platform.warehouse, "select count(*) from inventory.days_of_supply") > 0
    time.sleep(10)  # a few of the triggers' ticks after the backfill: they see the days built
    with platform.instance() as instance:
        assert not instance.get_runs(RunsFilter(tags={"dagster/sensor_name": "sales_on_new_data"}))
        assert not instance.get_runs(RunsFilter(tags={"dagster/sensor_name": "inventory_on_new_data"}))
