"""Patch ``backfill_split`` (dataplatform.patches): one backfill run request per code location.

"Materialize all" on the global asset graph launches an asset backfill. For unpartitioned assets,
Dagster's backfill daemon (1.13) puts every asset that is ready in the same iteration into one run
(``build_run_requests_with_backfill_policies``: "non partitioned assets will be backfilled in a
single run"), even when those assets live in different code locations; the run goes to one
location, which does not define the other's assets, and the backfill fails with ``Failed to target
asset selection ... after retrying``. The patch splits such a run request into one per location,
which is what Dagster already does for partitioned assets. Installed by the instance's run
coordinator (``dataplatform.run_coordinator``), in the daemon. Delete it once Dagster splits them.
"""

import functools
from collections.abc import Callable, Sequence

from dagster import AssetKey, RunRequest

from dataplatform.patches.fit import called_in, private_function

_BUILDER = "build_run_requests_with_backfill_policies"
_BUILDER_PARAMETERS = ["asset_partitions", "asset_graph", "dynamic_partitions_store"]


def split_run_requests_by_code_location(run_requests: Sequence[RunRequest], asset_graph) -> list[RunRequest]:
    """One run request per code location for unpartitioned requests that span several.

    A check goes with the location that defines it: the dbt source tests are checks on the
    ingest assets but run inside a domain's dbt build, so a request for the ingest assets alone
    drops them (the domain's own build runs them before it builds on the source).
    """
    split: list[RunRequest] = []
    for request in run_requests:
        if request.partition_key is not None:
            split.append(request)
            continue
        keys = {*(request.asset_selection or []), *(request.asset_check_keys or [])}
        groups = [g for g in asset_graph.split_entity_keys_by_repository(keys) if any(isinstance(k, AssetKey) for k in g)]
        if len(groups) == 1 and groups[0] == keys:
            split.append(request)
            continue
        for group in groups:
            split.append(request.with_replaced_attrs(
                asset_selection=sorted(k for k in group if isinstance(k, AssetKey)),
                asset_check_keys=[c for c in request.asset_check_keys or [] if c in group],
            ))
    return split


def _split_results(build: Callable) -> Callable:
    @functools.wraps(build)
    def build_and_split(asset_partitions, asset_graph, dynamic_partitions_store):
        requests = build(
            asset_partitions=asset_partitions,
            asset_graph=asset_graph,
            dynamic_partitions_store=dynamic_partitions_store,
        )
        return split_run_requests_by_code_location(requests, asset_graph)

    build_and_split.splits_by_code_location = True
    return build_and_split


def fits(asset_backfill=None) -> None:
    """The builder it wraps is still a module global with the same parameters, still called by the
    backfill (``asset_backfill``: a stand-in in tests)."""
    if asset_backfill is None:
        from dagster._core.execution import asset_backfill
    private_function(asset_backfill, _BUILDER, _BUILDER_PARAMETERS)
    called_in(asset_backfill, _BUILDER)


def apply() -> None:
    from dagster._core.execution import asset_backfill

    build = getattr(asset_backfill, _BUILDER)
    if not getattr(build, "splits_by_code_location", False):
        setattr(asset_backfill, _BUILDER, _split_results(build))
