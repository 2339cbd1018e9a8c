"""How dbt nodes become Dagster assets: the same keys, groups and owners in every environment,
and code versions that change when a model's SQL, its macros or its config change."""

import graphlib
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from dagster import AssetCheckSpec, AssetKey, AssetSpec, FreshnessPolicy
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from dataplatform.dbt.nodes import is_asset, owner
from dataplatform.keys import RAW_KEY_PREFIX, dbt_node_asset_key, source_asset_key
from dataplatform.patches.internals import DAGSTER_DBT_PROJECT_METADATA_KEY
from dataplatform.publishing import green_relation, is_blue_green, is_mart


class UngroupedNodeError(ValueError):
    """A dbt model or snapshot has no group, so no code location owns it."""


# Config that says who owns or finds a node, not what it builds: not part of its code version.
_CONFIG_NOT_IN_CODE_VERSION = frozenset({"tags", "meta", "docs", "group", "access", "persist_docs", "grants"})


# dbt calls these to name the relation of every model, seed and snapshot. No node lists them in its
# `depends_on.macros`, yet an edit to them moves every node to another relation.
PLACEMENT_MACROS = ("generate_database_name", "generate_schema_name", "generate_alias_name")


def placement_macros(manifest: Mapping[str, Any]) -> list[str]:
    """The unique ids of the macros that place nodes: the root project's override of each, or dbt's own."""
    project = manifest.get("metadata", {}).get("project_name")
    macros = manifest.get("macros", {})
    found = []
    for name in PLACEMENT_MACROS:
        override = [uid for uid, m in macros.items() if m.get("name") == name and m.get("package_name") == project]
        found.extend(override or ([f"macro.dbt.{name}"] if f"macro.dbt.{name}" in macros else []))
    return sorted(found)


class CodeVersions:
    """Code versions of a manifest's nodes that follow their macros (dagster#22566).

    dagster-dbt hashes a node's own SQL only, so an edited macro leaves every model built with it
    looking unchanged. Here a version hashes the node's raw code, the code of every macro it
    calls, recursively (``depends_on.macros`` in the manifest), the macros that place it
    (``PLACEMENT_MACROS``), and the config that shapes its output (materialization, incremental
    strategy, partitioning, hooks; not tags or owners).
    """

    def __init__(self, manifest: Mapping[str, Any]) -> None:
        self._macros = manifest.get("macros", {})
        self._nodes = manifest["nodes"]
        self._macro_closures: dict[str, frozenset[str]] = {}
        self._versions: dict[str, str] = {}
        self._placement = placement_macros(manifest)

    def _macro_closure(self, macro_id: str, visiting: frozenset[str] = frozenset()) -> frozenset[str]:
        """The macro and every macro it calls, directly or not."""
        if macro_id not in self._macro_closures:
            calls = self._macros.get(macro_id, {}).get("depends_on", {}).get("macros", [])
            closure = {macro_id}
            for called in calls:
                if called not in visiting:  # dbt allows mutually recursive macros
                    closure |= self._macro_closure(called, visiting | {macro_id})
            self._macro_closures[macro_id] = frozenset(closure)
        return self._macro_closures[macro_id]

    def of(self, unique_id: str) -> str:
        if unique_id not in self._versions:
            self._versions[unique_id] = self._version(self._nodes[unique_id])
        return self._versions[unique_id]

    def _version(self, node: Mapping[str, Any]) -> str:
        called = list(node.get("depends_on", {}).get("macros", []))
        if is_asset(node):
            called += self._placement
        macros = set().union(*(self._macro_closure(m) for m in called))
        config = {k: v for k, v in node.get("config", {}).items() if k not in _CONFIG_NOT_IN_CODE_VERSION}
        digest = hashlib.sha256(node.get("raw_code", "").encode())
        for macro_id in sorted(macros):
            digest.update(f"\0{macro_id}\0{self._macros.get(macro_id, {}).get('macro_sql', '')}".encode())
        digest.update(json.dumps(config, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]


def non_blocking(spec: AssetCheckSpec) -> AssetCheckSpec:
    """The same check, not blocking: built with the public constructor, every other field kept."""
    return AssetCheckSpec(spec.name, asset=spec.asset_key, description=spec.description,
                          additional_deps=spec.additional_deps, blocking=False, metadata=spec.metadata,
                          automation_condition=spec.automation_condition, partitions_def=spec.partitions_def)


class PlatformTranslator(DagsterDbtTranslator):
    """Sources take the ingest key rule; models and snapshots are keyed and grouped by domain,
    and versioned by ``CodeVersions``. With ``marts_freshness``, the marts (``publishing.is_mart``)
    carry that Dagster freshness policy, so a mart whose build stopped shows as
    stale in the UI.

    With ``source_tests_as_checks`` the dbt tests on a source (fresh, not_null, unique on keys)
    become asset checks on the ingest asset; only one op per domain may carry them, or the
    same check would be defined twice.

    Each model's spec links its ``.sql`` file (dagster-dbt's code references, the "Source code"
    link in the UI). Given the ``project``, the translator holds it itself rather than in each
    spec's metadata, where dagster-dbt puts it and the UI shows a row
    ``dagster_dbt/project [DbtProject] (unserializable)``; dagster-dbt then falls back to the dbt
    resource's project folder, the same one.
    """

    def __init__(self, source_tests_as_checks: bool = False, marts_freshness: FreshnessPolicy | None = None,
                 project: DbtProject | None = None) -> None:
        super().__init__(DagsterDbtTranslatorSettings(
            enable_asset_checks=True, enable_source_tests_as_checks=source_tests_as_checks,
            enable_code_references=project is not None,
        ))
        self.marts_freshness = marts_freshness
        self.project = project

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return source_asset_key(dbt_resource_props["source_name"], dbt_resource_props["name"])
        # A versioned model is keyed by its relation: `order_items` for the version consumers have
        # always read, `order_items_v2` for a new one built beside it.
        versioned = dbt_resource_props.get("version") is not None
        name = dbt_resource_props["alias"] if versioned else dbt_resource_props["name"]
        return dbt_node_asset_key(self.get_group_name(dbt_resource_props), name)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None  # a source is an ingest asset; shared_ingest owns it and names its group
        group = owner(dbt_resource_props)
        if not group:
            raise UngroupedNodeError(
                f"dbt {dbt_resource_props['resource_type']} {dbt_resource_props['unique_id']} "
                f"({dbt_resource_props.get('original_file_path')}) has no group: put it under "
                "models/<domain>/ or snapshots/<domain>/"
            )
        return group

    def resolve_ancestors_first(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> None:
        """Resolve the specs of a node's ancestors not yet resolved, parents before children.

        dagster-dbt resolves a node's spec by recursing into its parents' (memoized per manifest):
        a chain a few hundred models deep exceeds Python's recursion limit, and the location fails
        to load with a RecursionError. In this order each resolution finds its parents resolved.
        Only the ancestors of what the location asks for: a domain holds the specs of its own
        nodes and what they read, not of the whole project.
        """
        nodes, pending, todo = manifest["nodes"], {}, [unique_id]
        while todo:
            uid = todo.pop()
            if uid in pending or uid in self._ancestors_resolved:
                continue
            parents = nodes[uid].get("depends_on", {}).get("nodes", []) if uid in nodes else []
            pending[uid] = [p for p in parents if p not in self._ancestors_resolved]
            todo.extend(pending[uid])
        self._ancestors_resolved.update(pending)  # first: each resolution below calls back here
        for uid in graphlib.TopologicalSorter(pending).static_order():
            if uid != unique_id and (uid in nodes or uid in manifest["sources"]):
                self.get_asset_spec(manifest, uid, project)

    def get_asset_check_spec(self, asset_spec: AssetSpec, manifest: Mapping[str, Any], unique_id: str,
                             project: DbtProject | None) -> AssetCheckSpec | None:
        """A dbt test on a source is an asset check that does not block in Dagster's sense.

        dbt itself skips every model built on a failing source, inside the build that runs the test,
        and the check is evaluated in the domain's op, not in ingest's run. A blocking check on an
        ingest asset would make Dagster hold back every step that reads the source, in any
        location, behind a check that only a domain's dbt build evaluates (when a domain had a
        snapshots op and a models op, that was a cycle, and Dagster split the ops of the asset job
        into copies such as `sales_dbt_models_2`).
        """
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is not None and spec.blocking and spec.asset_key.path[0] == RAW_KEY_PREFIX:
            return non_blocking(spec)
        return spec

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> AssetSpec:
        if getattr(self, "_ancestors_resolved_of", None) is not manifest:
            self._ancestors_resolved_of, self._ancestors_resolved = manifest, set()
        project = project or self.project
        if unique_id not in self._ancestors_resolved:
            self.resolve_ancestors_first(manifest, unique_id, project)
        spec = super().get_asset_spec(manifest, unique_id, project)
        if DAGSTER_DBT_PROJECT_METADATA_KEY in spec.metadata:
            spec = spec.replace_attributes(
                metadata={k: v for k, v in spec.metadata.items() if k != DAGSTER_DBT_PROJECT_METADATA_KEY})
        if not unique_id.startswith(("model.", "snapshot.", "seed.")):
            return spec
        if getattr(self, "_code_versions_of", None) is not manifest:
            self._code_versions_of, self._code_versions = manifest, CodeVersions(manifest)
        spec = spec.replace_attributes(code_version=self._code_versions.of(unique_id))
        node = manifest["nodes"][unique_id]
        if self.marts_freshness and is_mart(node):
            spec = spec.replace_attributes(freshness_policy=self.marts_freshness)
        if is_blue_green(node):
            spec = spec.merge_attributes(metadata={"dagster/table_name": green_relation(node)})  # shown in the UI
        return spec
