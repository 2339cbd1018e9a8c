"""The one rule that names raw tables and their asset keys.

An ingest asset in shared_ingest and the dbt source it feeds must be the same node in the
asset graph, so both take their key from here. Its names are read by the platform's tools too,
which need no Dagster: Dagster is imported where a key is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster import AssetKey

RAW_KEY_PREFIX = "raw"
# The code location that defines every source's asset (a domain location is named as its dbt group).
INGEST_LOCATION = "shared_ingest"


def source_asset_key(source_name: str, table_name: str) -> AssetKey:
    """Key of a source-system table: the ingest asset that loads it and the dbt source that reads it."""
    from dagster import AssetKey

    return AssetKey([RAW_KEY_PREFIX, source_name, table_name])


def loaded_elsewhere(loader: str | None) -> bool:
    """Whether a dbt source's ``loader`` names another tool (an EL tool such as Fivetran) than the
    platform's ingest: such a source is observed, never written (shared_ingest.observed)."""
    return bool(loader) and loader != INGEST_LOCATION


def dbt_node_asset_key(group: str, name: str) -> AssetKey:
    """Key of a dbt model or snapshot: its owning domain, then its name."""
    from dagster import AssetKey

    return AssetKey([group, name])


# Every asset of one domain op carries its op's name under this tag: a backfill builds them in one run
# (the backfill_units patch, dataplatform.patches).
BACKFILL_UNIT_TAG = "dataplatform/backfill_unit"


def snapshot_pool(domain: str) -> str:
    """Concurrency pool that keeps one domain's dbt snapshots from running at the same time."""
    return f"{domain}_snapshots"
