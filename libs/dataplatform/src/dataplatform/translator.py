"""How dbt nodes become Dagster assets: the same keys, groups and owners in every environment."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from dataplatform.keys import dbt_node_asset_key, source_asset_key


class UngroupedNodeError(ValueError):
    """A dbt model or snapshot has no group, so no code location owns it."""


class PlatformTranslator(DagsterDbtTranslator):
    """Sources take the ingest key rule; models and snapshots are keyed and grouped by domain.

    With ``source_tests_as_checks`` the dbt tests on a source (fresh, not_null, unique on keys)
    become asset checks on the ingest asset; only one op per domain may carry them, or the
    same check would be defined twice.
    """

    def __init__(self, source_tests_as_checks: bool = False) -> None:
        super().__init__(DagsterDbtTranslatorSettings(
            enable_asset_checks=True, enable_source_tests_as_checks=source_tests_as_checks
        ))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return source_asset_key(dbt_resource_props["source_name"], dbt_resource_props["name"])
        return dbt_node_asset_key(self.get_group_name(dbt_resource_props), dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None  # a source is an ingest asset; shared_ingest owns it and names its group
        group = dbt_resource_props.get("config", {}).get("group")
        if not group:
            raise UngroupedNodeError(
                f"dbt {dbt_resource_props['resource_type']} {dbt_resource_props['unique_id']} "
                f"({dbt_resource_props.get('original_file_path')}) has no group: put it under "
                "models/<domain>/ or snapshots/<domain>/"
            )
        return group
