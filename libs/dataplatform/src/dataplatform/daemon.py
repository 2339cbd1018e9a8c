"""A fix for asset backfills that span code locations, installed by the instance's run coordinator.

"Materialize all" on the global asset graph launches an asset backfill. For unpartitioned
assets, Dagster's backfill daemon (1.13) puts every asset that is ready in the same iteration
into one run (``build_run_requests_with_backfill_policies``: "non partitioned assets will be
backfilled in a single run"), even when those assets live in different code locations. Once
ingest is done, sales' and inventory's models are ready together; the run goes to one location,
which does not define the other's assets, and the backfill fails with
``Failed to target asset selection ... after retrying``.

The fix splits such a run request into one per code location, which is what Dagster already does
for partitioned assets (``_build_run_requests_from_partitions_def_mapping``). It is installed by
``SplittingQueuedRunCoordinator``, Dagster's queued run coordinator under another name: every
dagster.yaml of the platform names it, and the daemon loads the run coordinator when it starts,
so the stock ``dagster-daemon run``, ``dagster dev``, ``dg dev`` and the Helm chart's daemon all
run with the fix. Checked against dagster 1.13; delete it when Dagster splits these requests.
"""

import functools
import inspect
from collections.abc import Callable, Sequence

from dagster import AssetKey, QueuedRunCoordinator, RunRequest

from dataplatform.upstream import private_function, unfit_error


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


class BackfillFixError(RuntimeError):
    """Dagster's backfill internals are not what the fix was written for."""


_BUILDER = "build_run_requests_with_backfill_policies"
_BUILDER_PARAMETERS = ["asset_partitions", "asset_graph", "dynamic_partitions_store"]


def _names_called(code) -> set[str]:
    """Global names a function's code (and the functions defined in it) looks up."""
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _names_called(const)
    return names


def check_backfill_internals(asset_backfill) -> None:
    """Fail in one line, naming the Dagster version, unless the patched function is still what the
    backfill daemon calls: a module global of ``asset_backfill`` with the same parameters."""
    unfit = unfit_error(BackfillFixError, "backfill fix", "daemon.py")
    private_function(asset_backfill, _BUILDER, _BUILDER_PARAMETERS, unfit)
    callers = [f for f in vars(asset_backfill).values()
               if inspect.isfunction(f) and f.__module__ == asset_backfill.__name__ and _BUILDER in _names_called(f.__code__)]
    if not callers:
        raise unfit(f"the backfill daemon no longer calls {_BUILDER} from dagster._core.execution.asset_backfill")


def install_backfill_fix() -> None:
    """Patch the backfill daemon's run request builder (idempotent); BackfillFixError if it cannot."""
    from dagster._core.execution import asset_backfill

    check_backfill_internals(asset_backfill)
    build = getattr(asset_backfill, _BUILDER)
    if not getattr(build, "splits_by_code_location", False):
        setattr(asset_backfill, _BUILDER, _split_results(build))


class SplittingQueuedRunCoordinator(QueuedRunCoordinator):
    """Dagster's queued run coordinator (same config, same behaviour) that installs the backfill
    fix in the process that loads it. The daemon loads it at start, to know it must run the queue."""

    def __init__(self, *args, **kwargs) -> None:
        install_backfill_fix()
        super().__init__(*args, **kwargs)
