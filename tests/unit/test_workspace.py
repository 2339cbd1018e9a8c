"""The repo's two workspaces agree, and the runtime library stands below the locations.

dg.toml is what `dg dev` and `dg check defs` load; workspace.yaml is what the deployment and
Dagster's own commands (`dagster dev`, `dagster-webserver`, `dagster-daemon`) load.
"""

import ast
from pathlib import Path

import yaml
from support import LOCATIONS, REPO, dg_workspace, locations_of


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
