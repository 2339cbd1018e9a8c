"""Adding a domain, as the README's "Add a domain" does it, in a scratch copy of the repo: a dbt
folder owned by a new group, and a project folder whose one defs.yaml declares the slice. `dg`
then loads four locations, and the new one has its assets, jobs and trigger."""

import json
import subprocess
import sys
from pathlib import Path

import yaml
from support import copy_dbt_project, dg_workspace, locations_of, scratch_repo, scrubbed_env

DG = str(Path(sys.executable).parent / "dg")

DEFS_YAML = """\
type: dataplatform.components.DbtDomain

attributes:
  group: returns
  marts_fresh_by: "0 8 * * *"
"""


def add_dbt_group(dbt: Path) -> None:
    (dbt / "models" / "returns").mkdir()
    (dbt / "models" / "returns" / "items_per_order.sql").write_text(
        "select order_id, count(*) as items from {{ source('shop', 'order_items') }} group by order_id\n")
    # A critical test and no snapshot: the critical tests' job exists without a snapshot in the domain.
    (dbt / "models" / "returns" / "_returns__models.yml").write_text(
        "models:\n  - name: items_per_order\n    columns:\n      - name: order_id\n"
        "        data_tests:\n          - unique:\n              config: {tags: [critical]}\n")
    project = yaml.safe_load((dbt / "dbt_project.yml").read_text())
    project["models"]["warehouse"]["returns"] = {"+group": "returns", "+schema": "returns", "+materialized": "table"}
    (dbt / "dbt_project.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    groups = yaml.safe_load((dbt / "models" / "groups.yml").read_text())
    groups["groups"].append({"name": "returns", "owner": {"name": "Returns", "email": "returns-data@example.com"}})
    (dbt / "models" / "groups.yml").write_text(yaml.safe_dump(groups, sort_keys=False))


def add_project(root: Path) -> Path:
    """locations/returns: inventory's pyproject.toml, .env and definitions.py renamed, and a defs.yaml."""
    template, project = root / "locations" / "inventory", root / "locations" / "returns"
    package = project / "src" / "returns"
    (package / "defs" / "dbt_domain").mkdir(parents=True)
    for name in ("pyproject.toml", ".env"):
        (project / name).write_text((template / name).read_text().replace("inventory", "returns"))
    (package / "definitions.py").write_text(
        (template / "src" / "inventory" / "definitions.py").read_text().replace("inventory", "returns"))
    (package / "__init__.py").write_text("")
    (package / "defs" / "__init__.py").write_text("")
    (package / "defs" / "dbt_domain" / "defs.yaml").write_text(DEFS_YAML)
    dg_toml = (root / "dg.toml").read_text().replace(
        '{ path = "locations/inventory" },', '{ path = "locations/inventory" },\n    { path = "locations/returns" },')
    (root / "dg.toml").write_text(dg_toml)
    workspace = yaml.safe_load((root / "workspace.yaml").read_text())
    workspace["load_from"].append({"python_module": {"module_name": "returns.definitions", "location_name": "returns"}})
    (root / "workspace.yaml").write_text(yaml.safe_dump(workspace, sort_keys=False))
    return package.parent


def test_a_fourth_domain_is_a_dbt_folder_and_a_project_with_one_defs_yaml(tmp_path):
    root = scratch_repo(tmp_path / "repo")
    add_dbt_group(copy_dbt_project(root / "dbt"))
    source = add_project(root)

    # The new package is not installed in the repo's environment: PYTHONPATH stands in for `uv sync`.
    env = scrubbed_env(PYTHONPATH=str(source), DBT_PROJECT_DIR=str(root / "dbt"), PLATFORM_ENV="dev",
                       PLATFORM_LOCAL_DIR=str(tmp_path / "local"), PLATFORM_SCHEDULES="stopped", NO_COLOR="1")
    check = subprocess.run([DG, "check", "defs"], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]

    listed = subprocess.run([DG, "list", "defs", "--target-path", "locations/returns", "--json"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=600)
    assert listed.returncode == 0, listed.stderr[-3000:]
    defs = json.loads(listed.stdout)
    built = {a["asset_key"]: a for a in defs["assets"] if a["is_executable"]}
    assert set(built) == {"returns/items_per_order"}
    assert built["returns/items_per_order"]["group_name"] == "returns"
    assert built["returns/items_per_order"]["dependency_keys"] == ["raw/shop/order_items"]
    assert {j["name"] for j in defs["jobs"]} == {"returns_build", "returns_critical_tests"}
    # Started by its data: a trigger and no schedule.
    assert not defs["schedules"]
    assert "returns_on_new_data" in {s["name"] for s in defs["sensors"]}
    assert locations_of(yaml.safe_load((root / "workspace.yaml").read_text())["load_from"]) == locations_of(dg_workspace(root))
