"""The workspace's lists agree, and the runtime library stands below the locations.

dg.toml is what `dg dev` and `dg check defs` load; workspace.yaml is what the deployment and
Dagster's own commands (`dagster dev`, `dagster-webserver`, `dagster-daemon`) load; the root
pyproject.toml installs every location, the Helm values deploy each, and dbt_project.yml places
each domain's models. `python3 tasks.py new-domain` writes all of them (devsupport.workspace).
"""

import ast
import tomllib
from pathlib import Path
from string import Template

import yaml
from support import DOMAINS, LOCATIONS, REPO, dg_workspace, locations_of

from devsupport.workspace import TEMPLATES, clock_values, locations


def test_workspace_yaml_lists_the_locations_of_the_dg_workspace():
    deployed = yaml.safe_load((REPO / "workspace.yaml").read_text())["load_from"]
    assert locations_of(deployed) == locations_of(dg_workspace(REPO))
    assert [name for name, _ in locations_of(deployed)] == list(LOCATIONS)


def test_dg_runs_every_project_with_the_uv_workspace_environment():
    """dg's default is a .venv per project; locations/*/.env points each at the root's."""
    for entry in dg_workspace(REPO):
        assert Path(entry["python_module"]["executable_path"]).resolve() == (REPO / ".venv" / "bin" / "python").resolve()


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    return {name.split(".")[0] for name in names}


def test_no_file_of_the_runtime_library_imports_a_location():
    """Every location image installs dataplatform; an import of a location from it would break
    the images that lack that location (and make the library depend on what depends on it)."""
    files = sorted((REPO / "libs" / "dataplatform" / "src").rglob("*.py"))
    assert files
    offenders = {str(f.relative_to(REPO)): sorted(imported_modules(f) & set(LOCATIONS)) for f in files}
    assert {f: m for f, m in offenders.items() if m} == {}


def test_every_list_names_the_locations_dg_toml_names():
    packages = {location.name: location.package(REPO) for location in locations(REPO)}
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert set(packages.values()) <= {d.split("[")[0] for d in pyproject["project"]["dependencies"]}
    assert set(packages.values()) <= set(pyproject["tool"]["uv"]["sources"])
    helm = yaml.safe_load((REPO / "deploy" / "helm" / "values.yaml").read_text())
    deployments = helm["dagster-user-deployments"]["deployments"]
    assert [(d["name"], d["dagsterApiGrpcArgs"]) for d in deployments] == [
        (package, ["-m", f"{name}.definitions"]) for name, package in packages.items()]


def test_every_domain_has_its_group_and_its_block_in_dbt_project_yml():
    dbt_project = yaml.safe_load((REPO / "dbt" / "dbt_project.yml").read_text())
    project = dbt_project["name"]
    assert DOMAINS == tuple(name for name in LOCATIONS if name != "shared_ingest")
    for domain in DOMAINS:
        assert dbt_project["models"][project][domain]["+group"] == domain
        assert dbt_project["snapshots"][project][domain]["+group"] == domain
        group = yaml.safe_load((REPO / "dbt" / "models" / domain / f"_{domain}__group.yml").read_text())
        assert [g["name"] for g in group["groups"]] == [domain]
    assert set(dbt_project["models"][project]) - {"+batch_size", "+begin", "+access"} == set(DOMAINS)


def test_each_domain_location_is_what_new_domain_makes():
    """A domain's package is the command's template with its name, nothing written by hand: so a
    domain removed and created again is the same code."""
    for domain in DOMAINS:
        root = REPO / "locations" / domain
        declared = yaml.safe_load((root / "src" / domain / "defs" / "dbt_domain" / "defs.yaml").read_text())
        attributes = declared["attributes"]
        values = {"name": domain, "package": domain.replace("_", "-"), **attributes,
                  **clock_values(attributes["start"], attributes.get("cron"))}
        for path, template in {"pyproject.toml": "pyproject.toml.tmpl", ".env": "env.tmpl",
                               f"src/{domain}/definitions.py": "definitions.py.tmpl",
                               f"src/{domain}/defs/dbt_domain/defs.yaml": "defs.yaml.tmpl"}.items():
            expected = Template((TEMPLATES / template).read_text()).substitute(values, owner_name="", owner_email="",
                                                                              description="")
            assert (root / path).read_text() == expected, f"locations/{domain}/{path} is not new-domain's template"
