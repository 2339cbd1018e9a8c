"""dbt failures a person can act on: when dbt fails because a table is missing, say whose asset
it is and which code location makes it, instead of leaving dbt's catalog error to be decoded."""

import re
from collections.abc import Mapping
from typing import Any

from dagster import AssetKey

from dataplatform.dbt.nodes import is_asset, owner
from dataplatform.keys import INGEST_LOCATION, RAW_KEY_PREFIX, loaded_elsewhere
from dataplatform.publishing import green_schema
from dataplatform.dbt.translator import PlatformTranslator

# dbt's message when a relation it reads does not exist, per warehouse.
_MISSING_RELATION = (
    re.compile(r'Table with name "?([\w.]+?)"? does not exist'),  # DuckDB
    re.compile(r"Not found: Table [\w.-]+:([\w.]+)"),  # BigQuery: project:dataset.table
)


def relation_owners(manifest: Mapping[str, Any], translator: PlatformTranslator) -> dict[str, tuple[AssetKey, str]]:
    """``schema.table`` of every relation the project reads or builds: its asset and who makes it
    (a code location, or the tool that loads a source the platform only observes)."""
    owners = {
        f"{s['schema']}.{s['identifier']}".lower(): (
            translator.get_asset_key(s), s["loader"] if loaded_elsewhere(s.get("loader")) else INGEST_LOCATION)
        for s in manifest["sources"].values()
    }
    for node in manifest["nodes"].values():
        if is_asset(node):
            owners[f"{green_schema(node)}.{node['alias']}".lower()] = (translator.get_asset_key(node), owner(node))
    return owners


def explain_missing_relations(message: str, owners: Mapping[str, tuple[AssetKey, str]]) -> str | None:
    """One line per missing relation named in dbt's error, or None if it names none we know."""
    hints = []
    for pattern in _MISSING_RELATION:
        for relation in pattern.findall(message):
            if owner := owners.get(relation.lower()):
                key, maker = owner
                if key.path[0] == RAW_KEY_PREFIX and maker != INGEST_LOCATION:  # a source another tool loads
                    hints.append(
                        f"{relation} does not exist in this warehouse: it is the source {key.to_user_string()}, loaded "
                        f"by {maker}, not by the platform. Load it with {maker} first.")
                else:
                    hints.append(
                        f"{relation} does not exist in this warehouse: it is the asset {key.to_user_string()} of code "
                        f"location {maker}, never materialized here. Materialize it there first.")
    return "\n".join(dict.fromkeys(hints)) or None
