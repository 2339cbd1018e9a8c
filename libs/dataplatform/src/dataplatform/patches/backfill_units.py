"""Patch ``backfill_units`` (dataplatform.patches): a domain's op is one run of a backfill.

Dagster holds back a non-subsettable op until all of its assets are ready, but treats a subsettable
op's assets one by one: a "Materialize all" would start a domain's models that read only ingest as
soon as ingest is done, and its models that read another domain's public model in a second run
once that domain is. A domain's op must stay subsettable (its trigger rebuilds only what changed, a
retry only what failed, the critical tests' job runs checks alone). An asset tagged
``dataplatform.keys.BACKFILL_UNIT_TAG`` waits, in a backfill only, until every input from outside
its unit that the backfill targets is built (or failed), so the unit's assets are ready together
and become one run. A failed input counts as built unless the instance will retry its run
(``dagster/will_retry``): then the unit waits for the retry. Triggers, retries and subsets of the op
are untouched.

Dagster requests a backfill's roots on its first pass only: a root held there (a domain model whose
only parent is a source another tool loads, which no backfill targets) would never be looked at
again, so each pass also reconsiders the roots not requested yet. Installed by the instance's run
coordinator (``dataplatform.run_coordinator``), in the daemon. Delete it once Dagster backfills a
subsettable op in one run.
"""

import functools
from collections.abc import Callable, Iterable

from dagster import AssetKey

from dataplatform.keys import BACKFILL_UNIT_TAG
from dataplatform.patches.fit import DoesNotFit, called_in, private_function

_CANDIDATES = "_get_candidate_asset_graph_subset"
_CANDIDATES_PARAMETERS = ["asset_backfill_data", "asset_graph_view", "materialized_asset_graph_subset",
                          "failed_asset_graph_subset"]
_FILTER = "_should_backfill_atomic_asset_graph_subset_unit"
_FILTER_PARAMETERS = ["asset_graph_view", "candidate_asset_graph_subset_unit", "asset_graph_subset_matched_so_far",
                      "target_subset", "requested_subset", "materialized_subset", "failed_and_downstream_subset", "logger"]


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


def awaiting_retry(instance, key: AssetKey) -> bool:
    """Whether the run of ``key``'s newest planned materialization has not ended, or failed and the
    instance will retry it (``dagster/will_retry``, retry not launched yet): its failure is not
    final, so a unit that reads ``key`` waits for the retry rather than go on in a second run."""
    info = instance.get_latest_planned_materialization_info(key)
    run = instance.get_run_by_id(info.run_id) if info else None
    return run is not None and (not run.is_finished or run.is_complete_and_waiting_to_retry)


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
                subset = lambda of: asset_graph_view.get_entity_subset_from_asset_graph_subset(of, key)  # noqa: E731
                not_built = subset(target_subset).compute_difference(subset(materialized_subset))
                if not not_built.compute_difference(subset(failed_and_downstream_subset)).is_empty:
                    return False
                # Failed: done, unless the instance will retry it (its unit waits for the retry).
                return not_built.is_empty or not awaiting_retry(asset_graph_view.instance, key)

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


def fits(asset_backfill=None) -> None:
    """The two functions it wraps are still module globals with the same parameters, still called by
    the backfill, and a backfill's data still names its roots (``asset_backfill``: a stand-in in tests)."""
    if asset_backfill is None:
        from dagster._core.execution import asset_backfill
    for name, parameters in ((_CANDIDATES, _CANDIDATES_PARAMETERS), (_FILTER, _FILTER_PARAMETERS)):
        private_function(asset_backfill, name, parameters)
        called_in(asset_backfill, name)
    if not callable(getattr(getattr(asset_backfill, "AssetBackfillData", None), "get_target_root_asset_graph_subset", None)):
        raise DoesNotFit("AssetBackfillData.get_target_root_asset_graph_subset is gone")
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView

    if not isinstance(getattr(AssetGraphView, "instance", None), property):
        raise DoesNotFit("AssetGraphView.instance is gone (the hold asks the instance which failures will be retried)")


def apply() -> None:
    from dagster._core.execution import asset_backfill

    get_candidates = getattr(asset_backfill, _CANDIDATES)
    if not getattr(get_candidates, "reconsiders_held_roots", False):
        setattr(asset_backfill, _CANDIDATES, _reconsider_held_roots(get_candidates))
    should_backfill = getattr(asset_backfill, _FILTER)
    if not getattr(should_backfill, "holds_incomplete_units", False):
        setattr(asset_backfill, _FILTER, _hold_incomplete_units(should_backfill))
