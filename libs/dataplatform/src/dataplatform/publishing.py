"""Blue/green publishing, the platform's side of it: which models publish, where consumers read
them, and when a run reports them.

dbt does the publishing (dbt/macros/publishing/): a mart is built as its blue relation in its
schema's blue twin (``sales_blue.orders``) and published onto the green one consumers read
(``sales.orders``) at the end of an invocation that was clean throughout. This module reads that
from the manifest rather than deciding it again: a mart is a model whose config declares
``meta.blue_green`` (dbt_project.yml, for the ``marts`` folders), and it is built blue when dbt
gave it the blue schema (``--vars '{blue_green: false}'`` builds marts in place).
"""

from collections.abc import Iterator, Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetMaterialization, AssetObservation, MetadataValue, Output

# The suffix of a blue schema: dbt's blue_suffix() (dbt/macros/publishing/naming.sql), checked
# equal by tests/definitions/test_dbt_internals.py.
BLUE_SUFFIX = "_blue"


def is_mart(node: Mapping[str, Any]) -> bool:
    """A mart: a model whose config declares ``meta.blue_green`` (the one definition: freshness,
    the domain's plan and publishing all use it)."""
    return node["resource_type"] == "model" and bool((node.get("config", {}).get("meta") or {}).get("blue_green"))


def is_blue_green(node: Mapping[str, Any]) -> bool:
    """Whether dbt builds the mart blue and publishes it green after a clean invocation: the blue
    schema dbt's generate_schema_name gave it (so the ``blue_green`` var is honoured)."""
    return is_mart(node) and node["schema"].endswith(BLUE_SUFFIX)


def green_schema(node: Mapping[str, Any]) -> str:
    """The schema consumers read the node in: dbt's, without the blue suffix."""
    return node["schema"].removesuffix(BLUE_SUFFIX) if is_blue_green(node) else node["schema"]


def green_relation(node: Mapping[str, Any]) -> str:
    """The relation consumers read, ``database.schema.alias`` (what the UI shows as the table)."""
    return ".".join(part for part in (node.get("database"), green_schema(node), node["alias"]) if part)


def report_publishing(context: AssetExecutionContext, events: Iterator[Any], blue_relations: Mapping[AssetKey, str],
                      tables: Mapping[AssetKey, str], row_counts: Mapping[str, int]) -> Iterator[Any]:
    """Report blue/green marts as materialized only once dbt has published them, and every table
    with the row count dbt reports at the end (``dagster/row_count``).

    dbt publishes an invocation's marts at its very end, and only if every model and test was
    clean (dbt/macros/publishing/). So their materializations are held until dbt exits: a clean
    invocation reports them with ``published: true``; a failed one reports none (Dagster records
    the marts as failed to materialize) and observes each with ``published: false`` and the blue
    relation that holds the rejected build. The other tables (snapshots, intermediate tables) are
    held for their row counts, and so is every asset downstream of a held one: Dagster takes a
    multi-asset's outputs in topological order only. Everything else (views read from sources,
    checks) passes at once, so the run shows its progress. ``tables`` maps a table's asset key to
    its dbt unique id, the key of ``row_counts``, which is filled while ``events`` runs.
    """
    def key_of(event: Any) -> AssetKey | None:
        if isinstance(event, Output):
            return context.asset_key_for_output(event.output_name)
        return event.asset_key if isinstance(event, AssetMaterialization) else None

    parents = context.assets_def.asset_deps
    held, held_keys = [], set()
    try:
        for event in events:
            key = key_of(event)
            if key is not None and (key in blue_relations or key in tables or held_keys & parents.get(key, set())):
                held.append(event)
                held_keys.add(key)
            else:
                yield event
    except Exception:
        for event in held:
            key = key_of(event)
            if key in blue_relations:
                yield AssetObservation(asset_key=key, metadata={"published": False, "blue relation": blue_relations[key]})
            else:
                yield event
        raise
    for event in held:
        key = key_of(event)
        metadata = dict(event.metadata)
        if tables.get(key) in row_counts:
            metadata["dagster/row_count"] = MetadataValue.int(row_counts[tables[key]])
        if key in blue_relations:
            metadata["published"] = True
        yield event.with_metadata(metadata)
