"""Each domain's slice of the manifest: what its code location reads instead of the whole project.

A domain location defines the assets of its own dbt group. It needs the nodes of that group, the
tests and unit tests on them, and enough of what they read to name its inputs (their keys, groups
and relations): not the other domains' thousands of models. At an organisation's size every location
reading the whole manifest held 300 MB and took 8-11 s to load, most of it the other domains'.

A slice is a manifest in dbt's own shape, so dagster-dbt selects and resolves in it as in the whole:
- every node the group owns (its models, snapshots, seeds, ephemeral models), whole;
- every data test and unit test that reads one of them or what they read, whole;
- what those read, from other groups or sources, as *boundary* nodes: whole but with their own
  parents cut (``depends_on.nodes`` empty), so a resolution stops there. A non-asset parent (an
  ephemeral model of another group, a metric) is kept with its parents, as dagster-dbt looks
  through it;
- the macros the owned nodes call, recursively, and the macros that place every node;
- ``child_map`` and ``parent_map`` cut to the slice; the groups, selectors and metadata whole.

``write_slices`` runs where the manifest is prepared (``dataplatform.dbt.project``: at ``tasks.py
up``, at image build), once per group, into ``target/slices/<group>.json``.
"""

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dataplatform.dbt.nodes import owner
from dataplatform.dbt.translator import placement_macros

SLICES_FOLDER = "slices"
_FINGERPRINT_FILE = "manifest.fingerprint"
# The collections that hold the graph's members (dbt's manifest.json), in dagster-dbt's lookup order.
_MEMBERS = ("nodes", "sources", "exposures", "metrics", "semantic_models", "saved_queries", "functions")
# What dagster-dbt looks through to find a node's asset parents, as its private
# ``asset_utils.is_non_asset_node`` says (tests/unit/test_internals.py holds the two equal).
NON_ASSET_RESOURCE_TYPES = ("metric", "semantic_model", "saved_query", "function")


def looked_through(node: Mapping[str, Any]) -> bool:
    """A node that is no asset: dagster-dbt follows its parents instead (an ephemeral model, a metric)."""
    resource_type = node.get("resource_type")
    return resource_type in NON_ASSET_RESOURCE_TYPES or (
        resource_type == "model" and node.get("config", {}).get("materialized") == "ephemeral")


def _collection(manifest: Mapping[str, Any], unique_id: str) -> str | None:
    return next((name for name in (*_MEMBERS, "unit_tests") if unique_id in manifest.get(name, {})), None)


def _parents(node: Mapping[str, Any]) -> list[str]:
    return node.get("depends_on", {}).get("nodes", []) or []


def domain_slice(manifest: Mapping[str, Any], domain: str) -> dict[str, Any]:
    """The slice of ``manifest`` that the location of ``domain`` reads (see the module's docstring)."""
    owned = {uid for collection in _MEMBERS for uid, node in manifest.get(collection, {}).items()
             if owner(node) == domain and node.get("resource_type") != "test"}
    read = {p for uid in owned for p in _parents(_node(manifest, uid))} - owned
    nodes = manifest["nodes"]
    tests = {uid for uid, node in nodes.items()
             if node["resource_type"] == "test" and set(_parents(node)) & (owned | read)}
    unit_tests = {uid for uid, test in manifest.get("unit_tests", {}).items() if set(_parents(test)) & owned}
    whole = owned | tests | unit_tests
    boundary: set[str] = set()
    todo = [p for uid in whole for p in _parents(_node(manifest, uid)) if p not in whole]
    while todo:
        uid = todo.pop()
        if uid in whole or uid in boundary or _collection(manifest, uid) is None:
            continue
        node = _node(manifest, uid)
        if looked_through(node):
            whole.add(uid)
            todo.extend(_parents(node))
        else:
            boundary.add(uid)
    members = whole | boundary
    cut: dict[str, dict[str, Any]] = {name: {} for name in (*_MEMBERS, "unit_tests")}
    for uid in members:
        node = _node(manifest, uid)
        if uid in boundary:
            node = {**node, "depends_on": {**node.get("depends_on", {}), "nodes": [], "macros": []}}
        cut[_collection(manifest, uid)][uid] = node
    macros = manifest.get("macros", {})
    called = _macro_closure(macros, [*placement_macros(manifest),
                                     *(m for uid in whole for m in _node(manifest, uid).get("depends_on", {}).get("macros", []))])
    return {
        **{key: value for key, value in manifest.items() if key not in (*cut, "macros", "docs", "disabled",
                                                                       "child_map", "parent_map", "group_map")},
        **{name: entries for name, entries in cut.items() if name in manifest or entries},
        "macros": {uid: macros[uid] for uid in sorted(called) if uid in macros},
        "docs": {},
        "disabled": {},
        "child_map": {uid: [c for c in manifest.get("child_map", {}).get(uid, []) if c in members] for uid in members},
        "parent_map": {uid: [p for p in manifest.get("parent_map", {}).get(uid, []) if p in members and uid not in boundary]
                       for uid in members},
        "group_map": {domain: sorted(uid for uid in owned if uid in nodes)},
    }


def _node(manifest: Mapping[str, Any], unique_id: str) -> Mapping[str, Any]:
    return manifest[_collection(manifest, unique_id)][unique_id]


def _macro_closure(macros: Mapping[str, Any], roots: Iterable[str]) -> set[str]:
    found: set[str] = set()
    todo = list(roots)
    while todo:
        uid = todo.pop()
        if uid not in found:
            found.add(uid)
            todo.extend(macros.get(uid, {}).get("depends_on", {}).get("macros", []))
    return found


def slice_path(manifest_path: Path, domain: str) -> Path:
    return manifest_path.parent / SLICES_FOLDER / f"{domain}.json"


def write_slices(manifest_path: Path, fingerprint: str) -> None:
    """Write the slice of every group the manifest declares, unless those of this manifest
    (``fingerprint``) are written. Called under the manifest's lock."""
    folder = manifest_path.parent / SLICES_FOLDER
    marker = folder / _FINGERPRINT_FILE
    if marker.is_file() and marker.read_text() == fingerprint:
        return
    manifest = json.loads(manifest_path.read_text())
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    for group in sorted({g["name"] for g in manifest.get("groups", {}).values()}):
        part = folder / f"{group}.json.tmp"
        part.write_text(json.dumps(domain_slice(manifest, group)))
        part.replace(folder / f"{group}.json")
    marker.write_text(fingerprint)
