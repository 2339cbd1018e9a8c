"""A domain whose lineage is deeper than Python's recursion limit still loads.

dagster-dbt resolves a node's asset spec by recursing into its parents; a chain of 1,500 models
(the generated 2,000-model benchmark project has one of 1,003) would raise RecursionError while
the location loads, unless the specs are resolved parents first (PlatformTranslator). Shown on the
platform's test project (tests/fixtures/subscriptions), a chain added to billing.
"""

import copy
import sys

from dagster import AssetKey

from dataplatform.dbt.op import build_dbt_assets
from dataplatform.dbt.plan import plan_domain
from dataplatform.dbt.project import get_dbt_project

DEPTH = 1500


def with_a_chain(manifest: dict, depth: int) -> dict:
    """The manifest plus ``depth`` billing models, each reading the one before it."""
    deep = copy.deepcopy(manifest)
    base = deep["nodes"]["model.warehouse.stg_billing__accounts"]
    parent = base["unique_id"]
    for i in range(depth):
        uid = f"model.warehouse.chain_{i}"
        deep["nodes"][uid] = {**copy.deepcopy(base), "unique_id": uid, "name": f"chain_{i}", "alias": f"chain_{i}",
                              "fqn": [*base["fqn"][:-1], f"chain_{i}"], "depends_on": {"nodes": [parent], "macros": []}}
        deep["parent_map"][uid] = [parent]
        deep["child_map"].setdefault(parent, []).append(uid)
        deep["child_map"][uid] = []
        parent = uid
    return deep


def test_a_chain_deeper_than_the_recursion_limit_loads(platform_env, fixture_manifest, fixture_root):
    assert DEPTH > sys.getrecursionlimit()
    project = get_dbt_project(fixture_root / "dbt", platform_env.dbt_target)
    deep = with_a_chain(fixture_manifest, DEPTH)
    assets = build_dbt_assets(plan_domain(deep, "billing", "0 7 * * *"), project, deep)
    last = AssetKey(["billing", f"chain_{DEPTH - 1}"])
    assert last in assets.keys
    assert assets.asset_deps[last] == {AssetKey(["billing", f"chain_{DEPTH - 2}"])}
