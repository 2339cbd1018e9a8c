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

A second patch keeps a domain's op in one run of a backfill. Dagster holds back a
non-subsettable op until all of its assets are ready, but treats a subsettable op's assets one
by one: a "Materialize all" would start inventory's models that read only ingest as soon as
ingest is done, and ``days_of_supply``, which reads sales' ``order_items``, in a second run once
sales is. An asset tagged ``BACKFILL_UNIT_TAG`` waits, in a backfill only, until every input
from outside its unit that the backfill targets is built (or failed), so the unit's assets are
ready together and become one run. Triggers, retries and subsets of the op are untouched.
"""

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence

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


BACKFILL_UNIT_TAG = "dataplatform/backfill_unit"  # the same value on every asset of one op: built in one run


def inputs_to_wait_for(asset_graph, targeted: Iterable[AssetKey],
                       is_done: Callable[[AssetKey], bool]) -> dict[str, list[tuple[AssetKey, AssetKey]]]:
    """By unit, the (input, reader) pairs that hold it back: an input of one of the unit's targeted
    assets, from outside the unit, that the backfill targets and has not built or failed yet.

    An input that itself reads the unit is not waited for: that would hold both forever.
    """
    targeted = set(targeted)
    units: dict[str, set[AssetKey]] = {}
    for key in targeted:
        if (unit := asset_graph.get(key).tags.get(BACKFILL_UNIT_TAG)) is not None:
            units.setdefault(unit, set()).add(key)
    return {unit: sorted({(parent, member) for member in members for parent in asset_graph.get(member).parent_keys
                          if parent in targeted and parent not in members and not is_done(parent)
                          and not members & asset_graph.get_ancestor_asset_keys(parent)})
            for unit, members in units.items()}


def _hold_incomplete_units(should_backfill: Callable) -> Callable:
    # (an iteration's state objects, its waits by unit): computed once per BFS, not per candidate. One
    # tuple read and replaced whole, so that backfills evaluated in threads never mix two states.
    last_waits: list = [None]

    @functools.wraps(should_backfill)
    def should_backfill_whole_units(asset_graph_view, candidate_asset_graph_subset_unit, asset_graph_subset_matched_so_far,
                                    target_subset, requested_subset, materialized_subset, failed_and_downstream_subset, logger):
        result = should_backfill(
            asset_graph_view=asset_graph_view,
            candidate_asset_graph_subset_unit=candidate_asset_graph_subset_unit,
            asset_graph_subset_matched_so_far=asset_graph_subset_matched_so_far,
            target_subset=target_subset,
            requested_subset=requested_subset,
            materialized_subset=materialized_subset,
            failed_and_downstream_subset=failed_and_downstream_subset,
            logger=logger,
        )
        passed = result.passed_asset_graph_subset
        if passed.is_empty:
            return result
        state = (asset_graph_view, target_subset, materialized_subset, failed_and_downstream_subset)
        memo = last_waits[0]
        if memo is None or any(a is not b for a, b in zip(memo[0], state, strict=True)):

            def is_done(key: AssetKey) -> bool:
                remaining = asset_graph_view.get_entity_subset_from_asset_graph_subset(target_subset, key)
                for done in (materialized_subset, failed_and_downstream_subset):
                    remaining = remaining.compute_difference(asset_graph_view.get_entity_subset_from_asset_graph_subset(done, key))
                return remaining.is_empty

            memo = (state, inputs_to_wait_for(asset_graph_view.asset_graph, target_subset.asset_keys, is_done))
            last_waits[0] = memo
        graph, waits_by_unit = asset_graph_view.asset_graph, memo[1]
        waits = sorted({pair for key in passed.asset_keys
                        for pair in waits_by_unit.get(graph.get(key).tags.get(BACKFILL_UNIT_TAG), [])})
        if not waits:
            return result
        reason = "held so that its op is one run: waits for " + ", ".join(
            f"{parent.to_user_string()} (read by {reader.to_user_string()})" for parent, reader in waits)
        return result._replace(passed_asset_graph_subset=passed - passed,
                               excluded_asset_graph_subsets_and_reasons=[*result.excluded_asset_graph_subsets_and_reasons,
                                                                          (passed, reason)])

    should_backfill_whole_units.holds_incomplete_units = True
    return should_backfill_whole_units


def _reconsider_held_roots(get_candidates: Callable) -> Callable:
    """Each pass of a backfill also considers its roots not requested yet.

    Dagster requests a backfill's roots (targeted assets with no targeted parent) on its first pass
    only, and later passes look at the children of what was built or failed. A root held back on the
    first pass so that its op is one run (a domain model whose only parent is a source another tool
    loads, which no backfill targets) would never be looked at again, and what reads it would wait
    for ever: the backfill ends failed with those assets never requested.
    """

    @functools.wraps(get_candidates)
    def candidates(asset_backfill_data, asset_graph_view, materialized_asset_graph_subset, failed_asset_graph_subset):
        found = get_candidates(asset_backfill_data, asset_graph_view, materialized_asset_graph_subset, failed_asset_graph_subset)
        roots = asset_backfill_data.get_target_root_asset_graph_subset(asset_graph_view)
        return found | (roots - asset_backfill_data.requested_subset)

    candidates.reconsiders_held_roots = True
    return candidates


class BackfillFixError(RuntimeError):
    """Dagster's backfill internals are not what the fix was written for."""


_BUILDER = "build_run_requests_with_backfill_policies"
_BUILDER_PARAMETERS = ["asset_partitions", "asset_graph", "dynamic_partitions_store"]
_CANDIDATES = "_get_candidate_asset_graph_subset"
_CANDIDATES_PARAMETERS = ["asset_backfill_data", "asset_graph_view", "materialized_asset_graph_subset",
                          "failed_asset_graph_subset"]
_FILTER = "_should_backfill_atomic_asset_graph_subset_unit"
_FILTER_PARAMETERS = ["asset_graph_view", "candidate_asset_graph_subset_unit", "asset_graph_subset_matched_so_far",
                      "target_subset", "requested_subset", "materialized_subset", "failed_and_downstream_subset", "logger"]


def _names_called(code) -> set[str]:
    """Global names a function's code (and the functions defined in it) looks up."""
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _names_called(const)
    return names


def check_backfill_internals(asset_backfill) -> None:
    """Fail in one line, naming the Dagster version, unless each patched function is still what the
    backfill daemon calls: a module global of ``asset_backfill`` with the same parameters."""
    unfit = unfit_error(BackfillFixError, "backfill fix", "daemon.py")
    for name, parameters in ((_BUILDER, _BUILDER_PARAMETERS), (_CANDIDATES, _CANDIDATES_PARAMETERS),
                             (_FILTER, _FILTER_PARAMETERS)):
        private_function(asset_backfill, name, parameters, unfit)
        callers = [f for f in vars(asset_backfill).values()
                   if inspect.isfunction(f) and f.__module__ == asset_backfill.__name__ and name in _names_called(f.__code__)]
        if not callers:
            raise unfit(f"the backfill daemon no longer calls {name} from dagster._core.execution.asset_backfill")
    if not callable(getattr(getattr(asset_backfill, "AssetBackfillData", None), "get_target_root_asset_graph_subset", None)):
        raise unfit("AssetBackfillData.get_target_root_asset_graph_subset is gone")


def install_backfill_fix() -> None:
    """Patch the backfill daemon's run request builder, its candidates and its filter of what is
    ready (idempotent); BackfillFixError if it cannot."""
    from dagster._core.execution import asset_backfill

    check_backfill_internals(asset_backfill)
    build = getattr(asset_backfill, _BUILDER)
    if not getattr(build, "splits_by_code_location", False):
        setattr(asset_backfill, _BUILDER, _split_results(build))
    get_candidates = getattr(asset_backfill, _CANDIDATES)
    if not getattr(get_candidates, "reconsiders_held_roots", False):
        setattr(asset_backfill, _CANDIDATES, _reconsider_held_roots(get_candidates))
    should_backfill = getattr(asset_backfill, _FILTER)
    if not getattr(should_backfill, "holds_incomplete_units", False):
        setattr(asset_backfill, _FILTER, _hold_incomplete_units(should_backfill))


class SplittingQueuedRunCoordinator(QueuedRunCoordinator):
    """Dagster's queued run coordinator (same config, same behaviour) that installs the backfill
    fix in the process that loads it. The daemon loads it at start, to know it must run the queue."""

    def __init__(self, *args, **kwargs) -> None:
        install_backfill_fix()
        super().__init__(*args, **kwargs)
