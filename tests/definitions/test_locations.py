"""Each location loads on its own; together they own every dbt node exactly once.

Every location is loaded in a fresh interpreter, as its code server would be, so a location
that silently imports another one fails here. The checks every workspace must pass run over this
workspace's own locations and dbt project, whatever domains it declares; the platform's machinery
that needs particular models is shown on its test project (tests/fixtures/subscriptions, brought
into a copy of the repository: ``fixture_root``).
"""

from pathlib import Path

import pytest
from support import (
    DOMAINS,
    FIXTURE_LOCATIONS,
    LOCATIONS,
    REPO,
    describe_fixture_locations,
    describe_location,
    dev_simulations,
)

from dataplatform.dbt.plan import plan_domain
from dataplatform.keys import loaded_elsewhere, source_asset_key

pytestmark = pytest.mark.usefixtures("platform_env")


def by_location(names):
    """``names`` as parameters, each carrying its location's marker (`-m billing`)."""
    return [pytest.param(name, marks=getattr(pytest.mark, name)) for name in names]


@pytest.fixture(scope="module")
def described(dev_env):
    """The workspace's locations, each loaded alone."""
    return {name: describe_location(name, dev_env) for name in LOCATIONS}


@pytest.fixture(scope="module")
def fixture_described(fixture_root, dev_env):
    """The test project's locations (shared_ingest, billing, care), each loaded alone."""
    return describe_fixture_locations(fixture_root, dev_env)


def building(domain: str, manifest: dict) -> bool:
    """Whether the domain's dbt group owns a model (a domain just created owns none: it loads, and
    defines no asset until models are added)."""
    return plan_domain(manifest, domain, "0 7 * * *") is not None


def defined_keys(described: dict) -> dict[str, str]:
    """Every asset key the locations define (built or observed), with the location defining it."""
    return {key: name for name, location in described.items() for key in [*location["assets"], *location["observed"]]}


# The checks of the whole workspace, written once and run on this workspace and the test project.


def assert_no_key_defined_twice(described: dict) -> None:
    seen = {}
    for name, location in described.items():
        for key in [*location["assets"], *location["observed"]]:
            assert key not in seen, f"{key} is defined by both {seen[key]} and {name} (dagster#18534)"
            seen[key] = name


def assert_every_dbt_node_owned_once(described: dict, manifest: dict, domains) -> None:
    owned = {domain: {a["dbt_unique_id"] for a in described[domain]["assets"].values()} for domain in domains}
    for domain in domains:
        for other in domains:
            assert domain == other or not owned[domain] & owned[other], (domain, other, owned[domain] & owned[other])
    dbt_nodes = {uid for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "snapshot")}
    assert set().union(*owned.values()) == dbt_nodes
    for domain in domains:
        for uid in owned[domain]:
            assert manifest["nodes"][uid]["config"]["group"] == domain


def assert_every_source_defined_by_ingest(described: dict, manifest: dict) -> None:
    """A source the platform loads is an ingest asset (materialized by shared_ingest); one another
    tool loads (its ``loader``) is an observed asset of shared_ingest, never materialized."""
    sources = manifest["sources"].values()
    loaded = {source_asset_key(s["source_name"], s["name"]).to_user_string() for s in sources if not loaded_elsewhere(s.get("loader"))}
    observed = {source_asset_key(s["source_name"], s["name"]).to_user_string() for s in sources if loaded_elsewhere(s.get("loader"))}
    assert loaded == set(described["shared_ingest"]["assets"])
    assert observed == set(described["shared_ingest"]["observed"])


def assert_no_dependency_undefined(described: dict) -> None:
    defined = defined_keys(described)
    for name, location in described.items():
        for key, asset in location["assets"].items():
            missing = set(asset["deps"]) - set(defined)
            assert not missing, f"{name}: {key} depends on undefined {missing}"


def assert_one_daily_partitioning(described: dict) -> None:
    """Every asset (built or observed) is partitioned by day, with one and the same definition in
    every location (so a day maps to the same day across them); every built one builds a range of
    days in one run."""
    assets = [asset for location in described.values() for asset in location["assets"].values()]
    observed = [asset for location in described.values() for asset in location["observed"].values()]
    assert {a["backfill_policy"] for a in assets} == {"BackfillPolicyType.SINGLE_RUN"}
    [definition] = {a["partitions"] for a in [*assets, *observed]}
    assert "timezone='UTC'" in definition and "cron_schedule='0 0 * * *'" in definition  # daily, UTC


def assert_dbt_tests_are_checks(described: dict, manifest: dict, domains) -> set[str]:
    checks = {c for d in domains for c in described[d]["checks"]}
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    assert len(checks) == len(tests)
    return checks


def declared_start(root: Path, domain: str) -> dict:
    """What a domain's defs.yaml says starts its day (``start``, ``cron``)."""
    import yaml

    declared = yaml.safe_load((root / "locations" / domain / "src" / domain / "defs" / "dbt_domain" / "defs.yaml").read_text())
    return {"start": "data", **declared["attributes"]}


def assert_clocks_are_ingests_and_the_domains_own(described: dict, manifest: dict, root: Path) -> None:
    """shared_ingest's clocks: the daily ingest, the observation of the sources other tools load
    (if any), and in dev the simulated source systems installed here (the example's). A domain
    has a schedule only if its defs.yaml gives it a clock of its own (``start: cron`` or ``both``)."""
    simulations, _ = dev_simulations()
    observes = any(loaded_elsewhere(s.get("loader")) for s in manifest["sources"].values())
    expected = {"ingest_sources_daily", *(["observe_sources_every_15_minutes"] if observes else []), *simulations}
    own = {name: {f"{name}_on_cron"} if declared_start(root, name)["start"] != "data" and building(name, manifest) else set()
           for name in described if name != "shared_ingest"}
    assert {name: set(loc["schedules"]) for name, loc in described.items()} == {"shared_ingest": expected, **own}


# This workspace's locations and dbt project.


@pytest.mark.parametrize("name", by_location(LOCATIONS))
def test_a_location_loads_without_the_others(described, manifest, name):
    others = {m.split(".")[0] for m in described[name]["modules"]} - {name}
    assert not others, f"{name} imported {others}"
    assert f"{name}.definitions" in described[name]["modules"]
    if name not in DOMAINS or building(name, manifest):
        assert described[name]["assets"], f"{name} defines no asset"


def test_no_asset_key_is_defined_twice(described):
    assert_no_key_defined_twice(described)


def test_every_dbt_node_is_owned_by_exactly_one_domain(described, manifest):
    assert_every_dbt_node_owned_once(described, manifest, DOMAINS)


def test_every_dbt_source_is_an_ingest_asset_or_an_observed_one(described, manifest):
    assert_every_source_defined_by_ingest(described, manifest)


def test_no_asset_depends_on_a_key_nobody_defines(described):
    assert_no_dependency_undefined(described)


@pytest.mark.parametrize("domain", by_location(DOMAINS))
def test_a_domain_is_one_op_in_its_snapshot_pool(described, manifest, domain):
    """Snapshots, models and their tests: one op, one dbt build, in the pool that keeps two of the
    domain's snapshots from running at once."""
    assets = described[domain]["assets"].values()
    if building(domain, manifest):
        assert {a["pool"] for a in assets} == {f"{domain}_snapshots"}
    snapshots = {uid for uid, n in manifest["nodes"].items()
                 if n["resource_type"] == "snapshot" and n["config"]["group"] == domain}
    assert snapshots <= {a["dbt_unique_id"] for a in assets}


@pytest.mark.parametrize("domain", by_location(DOMAINS))
def test_groups_and_owners_follow_the_dbt_group(described, manifest, domain):
    [group] = [g for g in manifest["groups"].values() if g["name"] == domain]
    for key, asset in described[domain]["assets"].items():
        assert key.startswith(f"{domain}/")
        assert asset["group"] == domain
        assert asset["owners"] == [group["owner"]["email"]]


def test_dbt_tests_are_asset_checks(described, manifest):
    assert_dbt_tests_are_checks(described, manifest, DOMAINS)


def test_assets_share_one_daily_partitioning_across_locations(described):
    assert_one_daily_partitioning(described)


def test_incremental_models_are_microbatch_from_the_partitions_start(manifest):
    incremental = [n for n in manifest["nodes"].values() if n["config"].get("materialized") == "incremental"]
    for node in incremental:
        config = node["config"]
        assert (config["incremental_strategy"], config["batch_size"]) == ("microbatch", "day"), node["name"]
        assert config["event_time"] and str(config["begin"]).startswith("2026-01-01"), node["name"]


def test_the_clocks_are_ingests_and_the_domains_own(described, manifest):
    assert_clocks_are_ingests_and_the_domains_own(described, manifest, REPO)


def test_each_location_has_its_trigger_and_its_alerts(described, manifest):
    for name, loc in described.items():
        by_data = name in DOMAINS and building(name, manifest) and declared_start(REPO, name)["start"] != "cron"
        trigger = [f"{name}_on_new_data"] if by_data else []
        assert loc["sensors"] == sorted([f"{name}_alert_on_run_failure", f"{name}_alert_on_stale_marts", *trigger])


@pytest.mark.parametrize("domain", by_location(DOMAINS))
def test_the_marts_and_only_they_carry_the_freshness_policy_of_their_defs_yaml(domain, manifest):
    """A mart is expected built in the three hours before its domain's ``marts_fresh_by``, every day."""
    from datetime import timedelta

    from dataplatform.domain import build_domain_definitions

    defs = build_domain_definitions(domain, marts_fresh_by="30 7 * * *")
    policies = {spec.key.path[-1]: spec.freshness_policy for spec in defs.resolve_all_asset_specs() if spec.freshness_policy}
    marts = {n["name"] for n in manifest["nodes"].values()
             if n["resource_type"] == "model" and n["config"]["group"] == domain and "marts" in n["fqn"]}
    assert set(policies) == marts
    expected = {("30 7 * * *", timedelta(hours=3))} if marts else set()  # a domain with no model yet has none
    assert {(p.deadline_cron, p.lower_bound_delta) for p in policies.values()} == expected


# The test project's locations: the same checks, and what its models make visible.


def test_the_test_projects_locations_load_each_without_the_others(fixture_described):
    for name in FIXTURE_LOCATIONS:
        others = {m.split(".")[0] for m in fixture_described[name]["modules"]} - {name}
        assert not others, f"{name} imported {others}"
        assert f"{name}.definitions" in fixture_described[name]["modules"]
        assert fixture_described[name]["assets"], f"{name} defines no asset"


def test_the_test_projects_locations_pass_the_workspace_checks(fixture_described, fixture_manifest, fixture_root):
    assert_no_key_defined_twice(fixture_described)
    assert_every_dbt_node_owned_once(fixture_described, fixture_manifest, ("billing", "care"))
    assert_no_dependency_undefined(fixture_described)
    assert_one_daily_partitioning(fixture_described)
    assert_clocks_are_ingests_and_the_domains_own(fixture_described, fixture_manifest, fixture_root)


@pytest.mark.shared_ingest
def test_a_source_another_tool_loads_is_an_observed_asset_of_shared_ingest(fixture_described, fixture_manifest):
    """crm.contacts (loader: fivetran) is defined once, by shared_ingest, as an observable source
    asset: never materializable (no ingest asset, no domain's), observed by its own job, daily
    partitioned like every asset; and every other source of the test project is an ingest asset."""
    ingest = fixture_described["shared_ingest"]
    assert set(ingest["observed"]) == {"raw/crm/contacts"}
    assert ingest["observed"]["raw/crm/contacts"]["group"] == "raw_crm"
    assert defined_keys(fixture_described)["raw/crm/contacts"] == "shared_ingest"
    assert not [name for name, location in fixture_described.items() if "raw/crm/contacts" in location["assets"]]
    assert "observe_sources" in ingest["jobs"]
    assert set(ingest["assets"]) == {"raw/billing/accounts", "raw/billing/invoices", "raw/billing/invoice_lines",
                                     "raw/support/tickets"}
    assert_every_source_defined_by_ingest(fixture_described, fixture_manifest)
    assert "raw/crm/contacts" in fixture_described["care"]["assets"]["care/stg_crm__contacts"]["deps"]


def test_care_reads_billings_public_models(fixture_described):
    assert {"billing/accounts", "billing/invoices"} <= set(fixture_described["care"]["assets"]["care/account_health"]["deps"])


def test_a_domain_is_one_op_in_its_snapshot_pool_with_its_snapshots(fixture_described):
    for domain in ("billing", "care"):
        assert {a["pool"] for a in fixture_described[domain]["assets"].values()} == {f"{domain}_snapshots"}
    snapshot = fixture_described["billing"]["assets"]["billing/accounts_snapshot"]
    assert (snapshot["dbt_unique_id"], snapshot["pool"]) == ("snapshot.warehouse.accounts_snapshot", "billing_snapshots")


def test_groups_and_owners_follow_the_test_projects_dbt_groups(fixture_described):
    for domain in ("billing", "care"):
        for key, asset in fixture_described[domain]["assets"].items():
            assert key.startswith(f"{domain}/") and asset["group"] == domain
            assert asset["owners"] == [f"{domain}-data@example.com"]


def test_the_test_projects_dbt_tests_are_asset_checks(fixture_described, fixture_manifest):
    checks = assert_dbt_tests_are_checks(fixture_described, fixture_manifest, ("billing", "care"))
    assert "billing/invoices:unique_invoices_v1_invoice_id" in checks
    assert "care/tickets:assert_tickets_match_raw_tickets" in checks
    assert "care/account_health:relationships_account_health_account_id__account_id__ref_accounts_" in checks
    # A dbt test of a source another tool loads is a check on the observed asset, run by the domain.
    assert "raw/crm/contacts:source_unique_crm_contacts_account_id" in fixture_described["care"]["checks"]


def test_the_test_projects_event_sources_and_models(fixture_manifest):
    """Event sources carry their export day as event time; the incremental models are microbatch
    from the partitions' first day. An ingest state table's day, and a dbt dimension's or
    snapshot's, is "as of that day"."""
    event_sources = {f"raw/{s['source_name']}/{s['name']}" for s in fixture_manifest["sources"].values()
                     if s["config"].get("event_time")}
    assert event_sources == {"raw/billing/invoices", "raw/billing/invoice_lines", "raw/support/tickets"}
    incremental = [n for n in fixture_manifest["nodes"].values() if n["config"].get("materialized") == "incremental"]
    assert {n["name"] for n in incremental} == {"invoices", "daily_billing", "tickets"}
    for node in incremental:
        config = node["config"]
        assert (config["incremental_strategy"], config["batch_size"]) == ("microbatch", "day"), node["name"]
        assert config["event_time"] and str(config["begin"]).startswith("2026-01-01"), node["name"]


def test_each_of_the_test_projects_locations_has_its_trigger_and_its_alerts(fixture_described):
    assert {name: loc["sensors"] for name, loc in fixture_described.items()} == {
        "shared_ingest": ["shared_ingest_alert_on_run_failure", "shared_ingest_alert_on_stale_marts"],
        "billing": ["billing_alert_on_run_failure", "billing_alert_on_stale_marts", "billing_on_new_data"],
        "care": ["care_alert_on_run_failure", "care_alert_on_stale_marts", "care_on_new_data"],
    }
    assert fixture_described["care"]["schedules"] == ["care_on_cron"]  # care: start: both (domains.toml)
    assert fixture_described["billing"]["jobs"] == ["billing_build", "billing_critical_tests"]
    assert fixture_described["care"]["jobs"] == ["care_build", "care_critical_tests"]


# A domain loaded the way `dagster api grpc` loads it, counting the factory and the dbt ops it builds.
LOAD_AS_CODE_SERVER = r"""
import json, sys
import dataplatform.domain as domain
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._grpc.server import LoadedRepositories

factory_calls, ops_built = [], []
build_domain_definitions, build_dbt_assets = domain.build_domain_definitions, domain.build_dbt_assets
domain.build_domain_definitions = lambda *a, **k: factory_calls.append(a[0]) or build_domain_definitions(*a, **k)
domain.build_dbt_assets = lambda *a, **k: ops_built.append(a[0].op) or build_dbt_assets(*a, **k)
LoadedRepositories(LoadableTargetOrigin(executable_path=sys.executable, module_name=f"{sys.argv[1]}.definitions"),
                   container_image=None, entry_point=["dagster"], container_context=None)
print(json.dumps({"factory_calls": factory_calls, "ops_built": ops_built}))
"""


@pytest.mark.parametrize("domain", by_location(DOMAINS))
def test_a_code_server_builds_a_domain_once(domain, dev_env, manifest):
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
    assert loaded["ops_built"] == ([f"{domain}_dbt"] if building(domain, manifest) else [])


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


@pytest.mark.shared_ingest
@pytest.mark.parametrize(("switch", "start"), [("all", "forkserver"), ("dialog,backfill_units", "spawn"), ("none", "spawn")])
def test_a_loaded_location_makes_its_code_server_fork_runs_unless_switched_off(switch, start, dev_env):
    """The warm_runs patch (dataplatform.patches), off with PLATFORM_PATCHES; the runs themselves:
    tests/platform/test_stock_commands.py."""
    import json
    import subprocess
    import sys

    from support import REPO

    result = subprocess.run([sys.executable, "-c", RUN_START_AFTER_LOAD, "shared_ingest"], capture_output=True, text=True,
                            env={**dev_env, "PLATFORM_PATCHES": switch}, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-4000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == start
