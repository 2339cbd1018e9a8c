"""A domain location reads its slice of the manifest (dataplatform.dbt.slices), not the whole:
what it defines from the slice is what it would define from the whole manifest. Shown on the
platform's test project (tests/fixtures/subscriptions), where care reads billing's public model, and
with a third domain added that reads care's, so a slice stops at what its domain reads.
"""

import copy
import json

import pytest

from dataplatform.dbt.nodes import owner
from dataplatform.dbt.op import build_dbt_assets
from dataplatform.dbt.plan import plan_domain
from dataplatform.dbt.project import get_dbt_project, prepare_manifest
from dataplatform.dbt.slices import domain_slice, slice_path
from dataplatform.dbt.translator import PlatformTranslator

DOMAINS = ("billing", "care")


def described(assets) -> dict:
    """What a location shows of an op's assets: per key its deps, code version, group, owners,
    tags and metadata (dagster-dbt's own manifest and translator objects left out), and its checks."""
    specs = {}
    for spec in assets.specs:
        metadata = {k: str(v) for k, v in spec.metadata.items() if k not in ("dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator")}
        specs[spec.key.to_user_string()] = (sorted(str(d.asset_key) for d in spec.deps), spec.code_version,
                                             spec.group_name, spec.owners, spec.tags, metadata)
    checks = sorted(str(key) for key in assets.check_keys)
    return {"specs": specs, "checks": checks}


@pytest.fixture
def project(platform_env, fixture_root):
    return get_dbt_project(fixture_root / "dbt", platform_env.dbt_target)


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_domain_defines_from_its_slice_what_it_defines_from_the_whole_manifest(domain, fixture_manifest, project):
    part = domain_slice(fixture_manifest, domain)
    plans = [plan_domain(m, domain, "0 7 * * *", PlatformTranslator()) for m in (fixture_manifest, part)]
    assert plans[0] == plans[1]
    whole, sliced = (described(build_dbt_assets(plans[0], project, m, PlatformTranslator(project=project)))
                     for m in (fixture_manifest, part))
    assert sliced == whole
    assert whole["specs"] and whole["checks"]


def test_a_slice_holds_its_domain_and_only_what_it_reads_of_the_others(fixture_manifest):
    """care reads billing's public model: the slice has that model, cut from its own parents, and
    no other billing model; billing's slice has of care only what a test on billing's models reads
    (dbt's eager selection runs such a test in billing's build)."""
    care = domain_slice(fixture_manifest, "care")
    billing_in_care = {uid: n for uid, n in care["nodes"].items() if owner(n) == "billing" and n["resource_type"] != "test"}
    read = {p for n in care["nodes"].values() if owner(n) == "care" for p in n["depends_on"]["nodes"]}
    assert billing_in_care and set(billing_in_care) <= read
    assert all(n["depends_on"]["nodes"] == [] for n in billing_in_care.values())
    billing = domain_slice(fixture_manifest, "billing")
    tested = {p for n in billing["nodes"].values() if n["resource_type"] == "test" for p in n["depends_on"]["nodes"]}
    care_in_billing = {uid for uid, n in billing["nodes"].items() if owner(n) == "care" and n["resource_type"] != "test"}
    assert care_in_billing <= tested
    whole = len(json.dumps(fixture_manifest))
    assert len(json.dumps(care)) < whole / 2 and len(json.dumps(billing)) < whole / 2


def test_a_third_domain_reads_only_the_model_it_reads(fixture_manifest, project):
    """A domain that reads care's model sees that model, not billing's behind it."""
    manifest = copy.deepcopy(fixture_manifest)
    care_model = next(uid for uid, n in manifest["nodes"].items() if owner(n) == "care" and n["resource_type"] == "model")
    base = manifest["nodes"][care_model]
    uid = "model.warehouse.audit_reads"
    manifest["nodes"][uid] = {**copy.deepcopy(base), "unique_id": uid, "name": "audit_reads", "alias": "audit_reads",
                              "fqn": ["warehouse", "audit", "audit_reads"],
                              "config": {**base["config"], "group": "audit"},
                              "depends_on": {"nodes": [care_model], "macros": []}}
    manifest["parent_map"][uid], manifest["child_map"][uid] = [care_model], []
    manifest["child_map"][care_model].append(uid)
    manifest["groups"]["group.warehouse.audit"] = {**next(iter(manifest["groups"].values())), "name": "audit",
                                                   "unique_id": "group.warehouse.audit"}
    audit = domain_slice(manifest, "audit")
    assert sorted(owner(n) for n in audit["nodes"].values() if n["resource_type"] != "test") == ["audit", "care"]
    plan = plan_domain(audit, "audit", "0 7 * * *", PlatformTranslator())
    assert plan == plan_domain(manifest, "audit", "0 7 * * *", PlatformTranslator())
    whole, sliced = (described(build_dbt_assets(plan, project, m, PlatformTranslator(project=project)))
                     for m in (manifest, audit))
    assert sliced == whole and list(sliced["specs"]) == ["audit/audit_reads"]


def test_the_prepared_project_has_a_slice_per_group(fixture_root, platform_env):
    """Preparing the manifest writes each group's slice beside it, as a location reads it."""
    path = prepare_manifest(get_dbt_project(fixture_root / "dbt", platform_env.dbt_target))
    manifest = json.loads(path.read_text())
    for domain in DOMAINS:
        assert json.loads(slice_path(path, domain).read_text()) == json.loads(json.dumps(domain_slice(manifest, domain)))
