"""The Dagster daemon, with one fix for asset backfills that span code locations.

"Materialize all" on the global asset graph launches an asset backfill. For unpartitioned
assets, Dagster's backfill daemon (1.13) puts every asset that is ready in the same iteration
into one run (``build_run_requests_with_backfill_policies``: "non partitioned assets will be
backfilled in a single run"), even when those assets live in different code locations. Once
ingest is done, sales' and inventory's models are ready together; the run goes to one location,
which does not define the other's assets, and the backfill fails with DagsterInvalidSubsetError.

The fix splits such a run request into one per code location, which is what Dagster already does
for partitioned assets (``_build_run_requests_from_partitions_def_mapping``). Start the daemon
with ``python -m dataplatform.daemon run ...`` (same arguments as ``dagster-daemon``).
"""

import functools
from collections.abc import Callable, Sequence

from dagster import AssetKey, RunRequest


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


def install_backfill_fix() -> None:
    """Patch the backfill daemon's run request builder (idempotent)."""
    from dagster._core.execution import asset_backfill

    build = asset_backfill.build_run_requests_with_backfill_policies
    if not getattr(build, "splits_by_code_location", False):
        asset_backfill.build_run_requests_with_backfill_policies = _split_results(build)


def main() -> None:
    install_backfill_fix()
    from dagster._daemon.cli import main as dagster_daemon_main

    dagster_daemon_main()


if __name__ == "__main__":
    main()
