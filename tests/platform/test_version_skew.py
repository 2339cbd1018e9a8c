"""Version skew, as independent deploys make it: billing runs commit N+1, care and ingest still
run commit N, in one workspace.

On the platform's test project (tests/fixtures/subscriptions): commit N is its workspace
(`fixture_root`). Commit N+1 is a second working tree of that workspace in which billing ships v2
of its public `invoices` beside a deprecated v1 (``support.add_invoices_v2``). Billing's image is
its location installed alone from the lock (tests/deploy/test_deploy_alone.py installs the
workspace's own locations so); the test project's locations are not in uv.lock, so what stands in
for billing's image here is a process of its own: this environment's interpreter with the second
tree's billing package and dataplatform ahead of everything on its PYTHONPATH, and the second
tree's dbt project as its DBT_PROJECT_DIR (prepared there, as the image's build parses it). Each
location is its own `dagster api grpc` server, as deployed, with its own tree's code and dbt
project; the stock `dagster-webserver` and `dagster-daemon run` read a workspace of the three
servers.

The webserver draws one graph: no key twice, no "defined in multiple code locations" collision,
v2 beside v1, care's `account_health` still on v1. "Materialize all" of three days (an asset
backfill across the three locations, with the domains' triggers on, as in production) completes in
dependency order, each location's days in one run (3 runs), the triggers start nothing beside it,
and care built on v1 while billing built both versions. The run coordinator that
deploy/dev/dagster.yaml names installs the backfill fixes in the stock daemon (dataplatform.patches).
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
from support import (
    FIXTURE_LOCATIONS,
    add_invoices_v2,
    day,
    fixture_domains,
    fixture_pythonpath,
    free_port,
    land_fixture_days,
    query,
    scalar,
    scrubbed_env,
)

from dataplatform.partitions import RANGE_END_TAG, RANGE_START_TAG, partition_day

DAYS = [day(d) for d in (1, 2, 3)]
DOMAINS = tuple(fixture_domains())  # billing, care
BIN = Path(sys.executable).parent
TREE_FILES = ("pyproject.toml", "uv.lock", "workspace.yaml", "dg.toml")


def second_tree(workspace: Path, root: Path) -> Path:
    """Commit N+1: a copy of the workspace's code and dbt project, billing's invoices v2 added."""
    tree = root / "n+1"
    ignore = shutil.ignore_patterns(".venv", "__pycache__", "*.egg-info", "target", "logs", "dbt_packages")
    for folder in ("libs", "locations", "dbt"):
        shutil.copytree(workspace / folder, tree / folder, ignore=ignore)
    for name in TREE_FILES:
        shutil.copyfile(workspace / name, tree / name)
    add_invoices_v2(tree / "dbt")
    return tree


@pytest.fixture(scope="module")
def skewed(fixture_root, tmp_path_factory):
    root = tmp_path_factory.mktemp("skew")
    tree = second_tree(fixture_root, root)
    # Billing's process (commit N+1): its package and the platform's library from the second tree.
    billing_path = f"{tree / 'locations' / 'billing' / 'src'}:{tree / 'libs' / 'dataplatform' / 'src'}"
    local = root / "local"
    land_fixture_days(local, (1, 2, 3))
    home = dev_instance_home(local)
    servers = {  # location -> (its PYTHONPATH, its tree's dbt project)
        "shared_ingest": (fixture_pythonpath(fixture_root), fixture_root / "dbt"),
        "billing": (billing_path, tree / "dbt"),
        "care": (fixture_pythonpath(fixture_root), fixture_root / "dbt"),
    }
    assert set(servers) == set(FIXTURE_LOCATIONS)
    ports = {location: free_port() for location in servers}
    workspace = root / "workspace.yaml"
    workspace.write_text(yaml.safe_dump({"load_from": [
        {"grpc_server": {"host": "127.0.0.1", "port": ports[location], "location_name": location}} for location in servers]}))
    env = scrubbed_env(PLATFORM_LOCAL_DIR=str(local), PLATFORM_SCHEDULES="stopped", DAGSTER_HOME=str(home))
    for path, project in ((fixture_pythonpath(fixture_root), fixture_root / "dbt"), (billing_path, tree / "dbt")):
        # as each image's build parses its project
        subprocess.run([BIN / "python", "-m", "dataplatform.dbt.project", "prepare"], check=True,
                       env={**env, "PYTHONPATH": path, "DBT_PROJECT_DIR": str(project)}, cwd=root, capture_output=True)

    def processes(port: int) -> list[str]:
        """One `dagster api grpc` per location (its code, its project), the daemon, the webserver."""
        servers_started = " ".join(
            f"PYTHONPATH='{path}' DBT_PROJECT_DIR='{project}' '{BIN}/dagster' api grpc -m {location}.definitions "
            f"-h 127.0.0.1 -p {ports[location]} &" for location, (path, project) in servers.items())
        ready = " ".join(f"until '{BIN}/dagster' api grpc-health-check -h 127.0.0.1 -p {p} >/dev/null 2>&1; "
                         f"do sleep 1; done;" for p in ports.values())
        return ["bash", "-c", f"{servers_started} {ready} '{BIN}/dagster-daemon' run -w '{workspace}' & "
                              f"exec '{BIN}/dagster-webserver' -w '{workspace}' -h 127.0.0.1 -p {port}"]

    platform = start_platform(local, command=processes, root=fixture_root,
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
    assert location["billing/invoices_v2"] == location["billing/invoices"] == "billing"
    collisions = platform.graphql(
        """query($keys: [AssetKeyInput!]!) { assetNodeDefinitionCollisions(assetKeys: $keys) {
             assetKey { path } repositories { name location { name } } } }""",
        {"keys": [{"path": n["assetKey"]["path"]} for n in nodes]})["assetNodeDefinitionCollisions"]
    assert collisions == []
    account_health = next(n for n in nodes if keys_of([n]) == ["care/account_health"])
    assert "billing/invoices" in keys_of([{"assetKey": k} for k in account_health["dependencyKeys"]])
    assert "billing/invoices_v2" not in keys_of([{"assetKey": k} for k in account_health["dependencyKeys"]])


def test_materialize_all_of_three_days_runs_in_order_and_care_keeps_reading_v1(skewed):
    """With the domains' triggers on, as in production, and the crm (which Fivetran loads) observed
    loaded through the days, so that nothing but the backfill holds care's trigger back: the
    backfill builds the domains, and the triggers, which see it, start nothing of their own."""
    platform, _ = skewed
    [observed] = platform.wait_for_runs([platform.launch_job("shared_ingest", "observe_sources")])
    assert observed.status == DagsterRunStatus.SUCCESS
    keys = [n for n in platform.graphql("{ assetNodes { assetKey { path } isMaterializable } }")["assetNodes"]
            if n["isMaterializable"]]  # the crm is observed, never materialized
    for domain in DOMAINS:
        platform.set_sensor(domain, f"{domain}_on_new_data", running=True)
    backfill, runs = platform.wait_for_backfill(platform.materialize_all(DAYS))
    assert backfill.status.value == "COMPLETED_SUCCESS", (backfill.status, backfill.failure_count)
    assert runs and all(r.status == DagsterRunStatus.SUCCESS for r in runs), [(r.job_name, r.status) for r in runs]
    assert {r.remote_job_origin.location_name for r in runs} == set(FIXTURE_LOCATIONS)
    with platform.instance() as instance:
        never = [k for k in keys if instance.get_latest_materialization_event(AssetKey(k["assetKey"]["path"])) is None]
        by_location = {}
        for run in runs:
            location = run.remote_job_origin.location_name
            by_location.setdefault(location, []).append((run_window(instance, run.run_id), materialized_keys(instance, run.run_id)))
    assert not never, f"never materialized: {never}"
    # Each location builds its days in ONE run (BackfillPolicy.single_run): a range, not a run per
    # day. Care's models that read ingest only wait, with account_health, for billing's public
    # models (the backfill fix's units, dataplatform.patches), so care too is one run.
    ranges = [(r.remote_job_origin.location_name, r.tags.get(RANGE_START_TAG),
               r.tags.get(RANGE_END_TAG)) for r in runs]
    assert sorted(ranges) == sorted((location, DAYS[0], DAYS[-1]) for location in FIXTURE_LOCATIONS)
    # Dependency order across locations: ingest, then billing, then care's mart on billing's invoices.
    ingest_end = max(window[1] for window, _ in by_location["shared_ingest"])
    billing_start = min(window[0] for window, _ in by_location["billing"])
    invoices_end = next(w[1] for w, built in by_location["billing"] if "billing/invoices" in built)
    account_health_start = next(w[0] for w, built in by_location["care"] if "care/account_health" in built)
    assert ingest_end <= billing_start
    assert invoices_end <= account_health_start
    print(f"\n3-day backfill of everything: {len(runs)} runs {sorted(location for location, *_ in ranges)}")
    # Billing, on commit N+1, built both versions; care, on commit N, read v1.
    built = {key for _, runs_built in by_location["billing"] for key in runs_built}
    assert {"billing/invoices", "billing/invoices_v2"} <= built
    columns = {t: [c for (c, *_) in query(platform.warehouse, f"describe billing.{t}")] for t in ("invoices", "invoices_v2")}
    assert "invoice_amount" in columns["invoices"] and "amount" in columns["invoices_v2"]
    assert "invoice_amount" not in columns["invoices_v2"]
    assert query(platform.warehouse, "select distinct invoice_date from billing.daily_billing order by 1") == [
        (partition_day(d),) for d in DAYS]
    assert scalar(platform.warehouse, "select count(*) from care.account_health") > 0
    time.sleep(10)  # a few of the triggers' ticks after the backfill: they see the days built
    with platform.instance() as instance:
        for domain in DOMAINS:
            assert not instance.get_runs(RunsFilter(tags={"dagster/sensor_name": f"{domain}_on_new_data"}))
