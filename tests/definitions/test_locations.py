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
def test_snapshots_are_in_the_domain_pool_and_models_in_none(described, domain):
    for key, asset in described[domain]["assets"].items():
        is_snapshot = asset["dbt_unique_id"].startswith("snapshot.")
        assert asset["pool"] == (f"{domain}_snapshots" if is_snapshot else None), key
        if is_snapshot:  # snapshots read sources only, so the snapshot op never waits on the model op
            assert all(dep.startswith("raw/") for dep in asset["deps"]), key
    assert any(a["dbt_unique_id"].startswith("snapshot.") for a in described[domain]["assets"].values())


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
    """The four event tables and every dbt model with an event_time are partitioned, with one and
    the same daily definition in all three locations (so a day maps to the same day across them);
    the dbt ones build a range of days in one run. Everything else is unpartitioned."""
    event_sources = {f"raw/{s['source_name']}/{s['name']}" for s in manifest["sources"].values()
                     if s["config"].get("event_time")}
    assert event_sources == {"raw/shop/orders", "raw/shop/order_items", "raw/shop/payments", "raw/erp/stock_movements"}
    event_models = {uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "model" and n["config"].get("event_time")}
    definitions = set()
    for location in described.values():
        for key, asset in location["assets"].items():
            partitioned = key in event_sources or asset["dbt_unique_id"] in event_models
            assert (asset["partitions"] is not None) == partitioned, key
            if partitioned:
                definitions.add(asset["partitions"])
            if asset["dbt_unique_id"] in event_models:
                assert asset["backfill_policy"] == "BackfillPolicyType.SINGLE_RUN", key
    [definition] = definitions
    assert "timezone='UTC'" in definition and "cron_schedule='0 0 * * *'" in definition  # daily, UTC


def test_incremental_models_are_microbatch_from_the_partitions_start(manifest):
    incremental = [n for n in manifest["nodes"].values() if n["config"].get("materialized") == "incremental"]
    assert {n["name"] for n in incremental} >= {"orders", "order_items", "daily_revenue", "int_stock_movements_summed_to_days"}
    for node in incremental:
        config = node["config"]
        assert (config["incremental_strategy"], config["batch_size"]) == ("microbatch", "day"), node["name"]
        assert config["event_time"] and str(config["begin"]).startswith("2026-01-01"), node["name"]


def test_each_location_has_its_own_schedules(described):
    schedules = {name: set(loc["schedules"]) for name, loc in described.items()}
    for domain in DOMAINS:
        assert schedules[domain] == {f"{domain}_{job}_daily" for job in ("build", "snapshots", "critical_tests")}
    assert "ingest_sources_daily" in schedules["shared_ingest"]
    all_names = [s for loc in described.values() for s in loc["schedules"]]
    assert len(all_names) == len(set(all_names))


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_marts_and_only_they_carry_a_freshness_policy_that_follows_the_build(domain, manifest):
    """A mart is expected built between its domain's build time and two hours later, every day."""
    from datetime import timedelta

    from dataplatform.domain import build_domain_definitions

    defs = build_domain_definitions(domain, build_cron="30 5 * * *", snapshot_cron="15 5 * * *", critical_tests_cron="0 7 * * *")
    policies = {spec.key.path[-1]: spec.freshness_policy for spec in defs.resolve_all_asset_specs() if spec.freshness_policy}
    marts = {n["name"] for n in manifest["nodes"].values()
             if n["resource_type"] == "model" and n["config"]["group"] == domain and "marts" in n["fqn"]}
    assert set(policies) == marts
    assert {(p.deadline_cron, p.lower_bound_delta) for p in policies.values()} == {("30 7 * * *", timedelta(hours=2))}


# A domain loaded the way `dagster api grpc` loads it, counting the factory and the dbt ops it builds.
LOAD_AS_CODE_SERVER = r"""
import json, sys
import dataplatform.domain as domain
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
    load context, then for the repository; dagster 1.13). The domain's dbt ops, its specs and
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
    assert sorted(loaded["ops_built"]) == sorted(set(loaded["ops_built"])), loaded["ops_built"]
    assert len(loaded["ops_built"]) >= 2
