"""The runtime library's folders are its floors (dataplatform/__init__.py): a module imports its own
folder or the floors below, never up and never sideways, lazy imports included. And the example's
simulated sources stand beside ingest, not on it: both read the landing layout from the library."""

import ast
from pathlib import Path

import pytest
from support import REPO

LIBRARY = REPO / "libs" / "dataplatform" / "src" / "dataplatform"

# Each part of dataplatform (a module, or a folder of them) and its floor; 0 is the ground.
FLOORS = {
    "settings": 0, "keys": 0, "publishing": 0,
    "patches": 1, "runs": 1,
    "partitions": 2, "run_coordinator": 2, "location": 2,
    "landing": 3, "dbt": 3,
    "automation": 4,
    "domain": 5,
    "components": 6,
}


def imports(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    tree = ast.parse(path.read_text(), str(path))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module and not node.level}


def part_of(module: str) -> str | None:
    """The part of dataplatform a dotted module name is in (None outside the library)."""
    top, _, rest = module.partition(".")
    return rest.split(".")[0] if top == "dataplatform" and rest else None


def library_files() -> list[Path]:
    return sorted(path for path in LIBRARY.rglob("*.py") if path.name != "__init__.py" or path.parent != LIBRARY)


def test_every_part_of_the_library_has_its_floor():
    parts = {path.relative_to(LIBRARY).parts[0].removesuffix(".py") for path in library_files()}
    assert parts == set(FLOORS)


@pytest.mark.parametrize("path", library_files(), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_a_module_imports_only_its_own_folder_and_the_floors_below(path):
    own = path.relative_to(LIBRARY).parts[0].removesuffix(".py")
    upward = sorted(module for module in imports(path)
                    if (part := part_of(module)) and part != own and FLOORS[part] >= FLOORS[own])
    assert upward == [], f"{own} (floor {FLOORS[own]}) imports from its own floor or above"


def test_the_simulated_sources_and_ingest_do_not_import_each_other():
    simulator = {m.split(".")[0] for p in (REPO / "libs" / "sourcesim" / "src").rglob("*.py") for m in imports(p)}
    ingest = {m.split(".")[0] for p in (REPO / "locations" / "shared_ingest" / "src").rglob("*.py") for m in imports(p)}
    assert "shared_ingest" not in simulator and "sourcesim" not in ingest
