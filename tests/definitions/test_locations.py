"""Each location loads on its own; together they own every dbt node exactly once.

Every location is loaded in a fresh interpreter, as its code server would be, so a location
that silently imports another one fails here.
"""

import pytest
from support import DOMAINS, LOCATIONS

pytestmark = pytest.mark.usefixtures("platform_env")


@pytest.fixture(scope="module")
def described(dev_locations):
    return dev_locations


@pytest.mark.parametrize("name", LOCATIONS)
def test_a_location_loads_without_the_others(described, name):
    others = {m.split(".")[0] for m in described[name]["modules"]} - {name}
    assert not others, f"{name} imported {others}"
    assert described[name]["assets"], f"{name} defines no asset"


def test_no_asset_key_is_defined_twice(described):
    seen = {}
    for name, location in described.items():
        for key in location["assets"]:
            assert key not in seen, f"{key} is defined by both {seen[key]} and {name} (dagster#18534)"
            seen[key] = name


def test_every_dbt_node_is_owned_by_exactly_one_domain(described, manifest):
    owned = {
        domain: {a["dbt_unique_id"] for a in described[domain]["assets"].values()} for domain in DOMAINS
    }
    assert not owned["sales"] & owned["inventory"]
    dbt_nodes = {uid for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "snapshot")}
    assert owned["sales"] | owned["inventory"] == dbt_nodes
    for domain in DOMAINS:
        for uid in owned[domain]:
            assert manifest["nodes"][uid]["config"]["group"] == domain


def test_every_dbt_source_is_an_ingest_asset(described, manifest):
    source_keys = {f"raw/{s['source_name']}/{s['name']}" for s in manifest["sources"].values()}
    assert source_keys == set(described["shared_ingest"]["assets"])


def test_no_asset_depends_on_a_key_nobody_defines(described):
    defined = {key for location in described.values() for key in location["assets"]}
    for name, location in described.items():
        for key, asset in location["assets"].items():
            missing = set(asset["deps"]) - defined
            assert not missing, f"{name}: {key} depends on undefined {missing}"


def test_inventory_reads_sales_public_order_items(described):
    assert "sales/order_items" in described["inventory"]["assets"]["inventory/days_of_supply"]["deps"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_domain_is_one_op_in_its_snapshot_pool(described, domain):
    """Snapshots, models and their tests: one op, one dbt build, in the pool that keeps two of the
    domain's snapshots from running at once."""
    assets = described[domain]["assets"].values()
    assert {a["pool"] for a in assets} == {f"{domain}_snapshots"}
    assert any(a["dbt_unique_id"].startswith("snapshot.") for a in assets)


@pytest.mark.parametrize("domain", DOMAINS)
def test_groups_and_owners_follow_the_dbt_group(described, domain):
    for key, asset in described[domain]["assets"].items():
        assert key.startswith(f"{domain}/")
        assert asset["group"] == domain
        assert asset["owners"] == [f"{domain}-data@example.com"]


def test_dbt_tests_are_asset_checks(described, manifest):
    checks = {c for d in DOMAINS for c in described[d]["checks"]}
    assert "sales/orders:unique_orders_order_id" in checks
    assert "sales/daily_revenue:assert_daily_revenue_matches_raw_order_items" in checks
    assert "inventory/days_of_supply:relationships_days_of_supply_product_id__product_id__ref_products_" in checks
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    assert len(checks) == len(tests)


def test_event_assets_share_one_daily_partitioning_across_locations(described, manifest):
    """Every asset is partitioned by day, with one and the same definition in all three
    locations (so a day maps to the same day across them), and builds a range of days in one
    run. An ingest state table's day, and a dbt dimension's or snapshot's, is "as of that day"."""
    event_sources = {f"raw/{s['source_name']}/{s['name']}" for s in manifest["sources"].values()
                     if s["config"].get("event_time")}
    assert event_sources == {"raw/shop/orders", "raw/shop/order_items", "raw/shop/payments", "raw/erp/stock_movements"}
    assets = [asset for location in described.values() for asset in location["assets"].values()]
    assert {a["backfill_policy"] for a in assets} == {"BackfillPolicyType.SINGLE_RUN"}
    [definition] = {a["partitions"] for a in assets}
    assert "timezone='UTC'" in definition and "cron_schedule='0 0 * * *'" in definition  # daily, UTC


def test_incremental_models_are_microbatch_from_the_partitions_start(manifest):
    incremental = [n for n in manifest["nodes"].values() if n["config"].get("materialized") == "incremental"]
    assert {n["name"] for n in incremental} >= {"orders", "order_items", "daily_revenue", "int_stock_movements_summed_to_days"}
    for node in incremental:
        config = node["config"]
        assert (config["incremental_strategy"], config["batch_size"]) == ("microbatch", "day"), node["name"]
        assert config["event_time"] and str(config["begin"]).startswith("2026-01-01"), node["name"]


def test_the_only_clocks_are_ingest_and_the_simulation(described):
    """A domain's day is started by its data (its trigger), not by a schedule."""
    assert {name: loc["schedules"] for name, loc in described.items()} == {
        "shared_ingest": ["ingest_sources_daily", "simulate_source_day_daily"], "sales": [], "inventory": []}


def test_each_location_has_its_trigger_and_its_alerts(described):
    for name, loc in described.items():
        trigger = [f"{name}_on_new_data"] if name in DOMAINS else []
        assert loc["sensors"] == sorted([f"{name}_alert_on_run_failure", f"{name}_alert_on_stale_marts", *trigger])


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_marts_and_only_they_carry_the_freshness_policy_of_their_defs_yaml(domain, manifest):
    """A mart is expected built in the three hours before its domain's ``marts_fresh_by``, every day."""
    from datetime import timedelta

    from dataplatform.domain_definitions import build_domain_definitions

    defs = build_domain_definitions(domain, marts_fresh_by="30 7 * * *")
    policies = {spec.key.path[-1]: spec.freshness_policy for spec in defs.resolve_all_asset_specs() if spec.freshness_policy}
    marts = {n["name"] for n in manifest["nodes"].values()
             if n["resource_type"] == "model" and n["config"]["group"] == domain and "marts" in n["fqn"]}
    assert set(policies) == marts
    assert {(p.deadline_cron, p.lower_bound_delta) for p in policies.values()} == {("30 7 * * *", timedelta(hours=3))}


# A domain loaded the way `dagster api grpc` loads it, counting the factory and the dbt ops it builds.
LOAD_AS_CODE_SERVER = r"""
import json, sys
import dataplatform.domain_definitions as domain
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._grpc.server import LoadedRepositories

factory_calls, ops_built = [], []
build_domain_definitions, build_dbt_assets = domain.build_domain_definitions, domain.build_dbt_assets
domain.build_domain_definitions = lambda *a, **k: factory_calls.append(a[0]) or build_domain_definitions(*a, **k)
domain.build_dbt_assets = lambda *a, **k: ops_built.append(a[0]) or build_dbt_assets(*a, **k)
LoadedRepositories(LoadableTargetOrigin(executable_path=sys.executable, module_name=f"{sys.argv[1]}.definitions"),
                   container_image=None, entry_point=["dagster"], container_context=None)
print(json.dumps({"factory_calls": factory_calls, "ops_built": ops_built}))
"""


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_code_server_builds_a_domain_once(domain, dev_env):
    """Dagster's code server calls a location's `@definitions` function twice at start (for its
    load context, then for the repository; dagster 1.13). The domain's one dbt op, its specs and
    checks are built once: the second call gets the first's definitions. If the first assertion
    fails, Dagster calls it once now, and the memo in `build_domain_definitions` can go."""
    import json
    import subprocess
    import sys

    from support import REPO

    result = subprocess.run([sys.executable, "-c", LOAD_AS_CODE_SERVER, domain], capture_output=True, text=True,
                            env=dev_env, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-4000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["factory_calls"] == [domain, domain]
    assert loaded["ops_built"] == [f"{domain}_dbt"]


# A location loaded the way `dagster api grpc` loads it: how its code server then starts runs.
RUN_START_AFTER_LOAD = r"""
import json, sys
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._grpc.server import DagsterApiServer, LoadedRepositories

LoadedRepositories(LoadableTargetOrigin(executable_path=sys.executable, module_name=f"{sys.argv[1]}.definitions"),
                   container_image=None, entry_point=["dagster"], container_context=None)
context = DagsterApiServer.__dict__.get("_mp_ctx")
print(json.dumps(context.fget(None).get_start_method() if isinstance(context, property) else "spawn"))
"""


@pytest.mark.parametrize(("switch", "start"), [("on", "forkserver"), ("off", "spawn")])
def test_a_loaded_location_makes_its_code_server_fork_runs_unless_switched_off(switch, start, dev_env):
    """dataplatform.warm_runs; the runs themselves: tests/platform/test_stock_commands.py."""
    import json
    import subprocess
    import sys

    from support import REPO

    result = subprocess.run([sys.executable, "-c", RUN_START_AFTER_LOAD, "shared_ingest"], capture_output=True, text=True,
                            env={**dev_env, "PLATFORM_WARM_RUNS": switch}, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-4000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == start
