"""Two rules every reader of the manifest shares, decided here once: which domain owns a dbt node,
and which dbt nodes become assets (a test becomes an asset check, a source is ingest's asset)."""

from collections.abc import Mapping
from typing import Any

ASSET_TYPES = ("model", "seed", "snapshot")


def owner(node: Mapping[str, Any]) -> str | None:
    """The domain that owns a dbt node: its dbt group, which dbt_project.yml gives every node under a
    domain's folders (a domain's location is named as its group)."""
    return node.get("config", {}).get("group") or node.get("group")


def is_asset(node: Mapping[str, Any]) -> bool:
    """Whether a dbt node becomes an asset of its domain's location."""
    return node.get("resource_type") in ASSET_TYPES
