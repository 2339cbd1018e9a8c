"""What starts a domain's day: its data (its trigger), or its own clock (its schedule), or both.

One sensor per domain (``<domain>_on_new_data``), evaluated by the daemon in the domain's code
server, reads the instance, which every location shares, and so sees every location's assets:

- A day whose inputs are all materialized for that day, and that the domain never built: the
  whole domain for that day, one run. Contiguous days are one run over the range (a backfill of ingest alone, or the
  first start over history), one ``dbt build``.
- A day already built, one of whose inputs was materialized again (a re-ingest, a producer's
  rebuild of a public model): only the domain's assets downstream of that input.
- A deploy that changed code versions (a model, a macro it calls, its config): the changed
  assets and their dependents in the domain, for the latest day the domain built.
- A day whose inputs are not all there: nothing, and the tick says what it waits for (and, if
  an input's last run failed, which run), in the UI's Automation page.

A domain whose ``defs.yaml`` says ``start: cron`` (or ``both``) has a schedule
(``<domain>_on_cron``) that, at its cron, decides the same way with no memory of its own: every
day whose inputs are in and that the domain has not built, and what changed since it built the
others; its skipped tick says what the day waits for.

Why a sensor and not declarative automation: a domain's day is gated on inputs that most of its
assets do not read (inventory's staging does not read sales' ``order_items``, its marts do), and
conditions are per asset, over its own parents: ``eager()`` would start inventory's staging on
ingest and its marts in a second run after sales, and looks at the latest day only.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    DailyPartitionsDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    schedule,
    sensor,
)

from dataplatform.dbt.plan import DomainPlan
from dataplatform.partitions import partition_range_tags
from dataplatform.patches.internals import requested_backfills

# How many waiting days a tick names (the newest first).
WAITING_DAYS_SHOWN = 3
UNFINISHED = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
              DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


@dataclass
class Decision:
    """One tick's outcome: the runs to start, the days recorded as requested, why nothing else starts."""

    requests: list[RunRequest] = field(default_factory=list)
    requested: dict[str, int] = field(default_factory=dict)  # day -> the newest input storage id it was requested for
    waiting: list[str] = field(default_factory=list)


def _short(key: AssetKey) -> str:
    return key.to_user_string()


def busy_reason(instance: DagsterInstance, plan: DomainPlan) -> str | None:
    """Why a tick must not start anything now: a run that builds the domain has not ended yet, or
    a backfill that will. The pool would queue a second build anyway; waiting for it lets the
    next tick see what the first built, and never starts the same day twice."""
    assets = set(plan.assets)
    for run in instance.get_runs(RunsFilter(statuses=UNFINISHED)):
        if run.job_name == plan.job or assets & set(run.asset_selection or ()):
            return f"{plan.domain} is building: run {run.run_id[:8]} ({run.status.value.lower()})"
    for backfill in requested_backfills(instance):
        if assets & set(backfill.asset_selection or ()):
            return f"a backfill builds {plan.domain}: {backfill.backfill_id}"
    return None


def _latest_by_day(instance: DagsterInstance, key: AssetKey, observed: bool = False) -> Mapping[str, int]:
    """By day, the newest event that brought ``key``'s data: its materialization, or for a source
    another tool loads its observation."""
    event = DagsterEventType.ASSET_OBSERVATION if observed else DagsterEventType.ASSET_MATERIALIZATION
    return instance.get_latest_storage_id_by_partition(key, event)


def _attempt(instance: DagsterInstance, key: AssetKey, day: str | None) -> str:
    """What became of the last attempt to materialize ``key`` for ``day``, for a waiting message."""
    info = instance.get_latest_planned_materialization_info(key, day)
    run = instance.get_run_by_id(info.run_id) if info else None
    if run is None:
        return "not materialized"
    return f"run {run.run_id[:8]} {run.status.value.lower()}"


def decide(instance: DagsterInstance, plan: DomainPlan, days: Sequence[str], requested: Mapping[str, int],
           code_versions: Mapping[AssetKey, str | None]) -> Decision:
    """What the domain's trigger starts, given the partition keys ``days`` (oldest first), the days
    it already requested (``requested``, its cursor) and the assets' current ``code_versions``."""
    arrived = {i.key: _latest_by_day(instance, i.key, i.observed) for i in plan.inputs}
    built = {reader: _latest_by_day(instance, reader) for reader in {r for i in plan.inputs for r in i.readers}}
    valid = set(days)
    candidates = sorted({day for stamps in arrived.values() for day in stamps if day in valid} | set(days[-1:]))

    decision = Decision()
    whole_days: list[tuple[str, int]] = []
    for day in candidates:
        if any(day not in stamps for stamps in arrived.values()):
            decision.waiting.append(day)
            continue
        stamp = max((stamps[day] for stamps in arrived.values()), default=0)
        if day not in requested and not any(day in built[r] for r in built):
            whole_days.append((day, stamp))
            continue
        # Built before: only what reads an input that changed since (and was not rebuilt since).
        changed = [i.key for i in plan.inputs if arrived[i.key][day] > requested.get(day, 0)
                   and not all(built[r].get(day, 0) > arrived[i.key][day] for r in i.readers)]
        if selection := plan.dependents(plan.readers_of(changed)):
            decision.requests.append(RunRequest(
                run_key=f"{day}@{stamp}", partition_key=day, asset_selection=sorted(selection, key=str)))
            decision.requested[day] = stamp

    for run_days in _contiguous(whole_days, days):
        first, last = run_days[0][0], run_days[-1][0]
        stamp = max(s for _, s in run_days)
        tags = partition_range_tags(first, last) if first != last else {}
        decision.requests.append(RunRequest(run_key=f"{first}..{last}@{stamp}",
                                            partition_key=first if first == last else None, tags=tags))
        decision.requested.update(dict(run_days))

    if not whole_days and (rebuild := code_rebuild(instance, plan, built, code_versions)):
        decision.requests.append(rebuild)
    observed = {i.key for i in plan.inputs if i.observed}
    decision.waiting = [_waiting(instance, day, arrived, observed) for day in decision.waiting[-WAITING_DAYS_SHOWN:]]
    return decision


def _contiguous(marked: list[tuple[str, int]], days: Sequence[str]) -> list[list[tuple[str, int]]]:
    """``marked`` (day, stamp) pairs in runs of consecutive partition keys."""
    position = {day: n for n, day in enumerate(days)}
    groups: list[list[tuple[str, int]]] = []
    for day, stamp in marked:
        if groups and position[day] == position[groups[-1][-1][0]] + 1:
            groups[-1].append((day, stamp))
        else:
            groups.append([(day, stamp)])
    return groups


def _waiting(instance: DagsterInstance, day: str, arrived: Mapping[AssetKey, Mapping[str, int]],
             observed: set[AssetKey]) -> str:
    parts = [f"{_short(key)} ({'not observed loaded yet' if key in observed else _attempt(instance, key, day)})"
             for key, stamps in arrived.items() if day not in stamps]
    return f"{day}: waits for {', '.join(parts)}"


def code_rebuild(instance: DagsterInstance, plan: DomainPlan, built: Mapping[AssetKey, Mapping[str, int]],
                 code_versions: Mapping[AssetKey, str | None]) -> RunRequest | None:
    """The rebuild of what a deploy changed, for the latest day the domain built, or None.

    An asset whose code version differs from its latest materialization's, and its dependents in
    the domain. History stays as it was built; an explicit backfill rebuilds it.
    """
    latest_day = max((day for stamps in built.values() for day in stamps), default=None)
    if latest_day is None:
        return None
    materialized = instance.get_latest_materialization_code_versions(plan.assets)
    changed = sorted((key for key in plan.assets if materialized.get(key) is not None
                      and code_versions.get(key) is not None and materialized[key] != code_versions[key]), key=str)
    if not changed:
        return None
    digest = hashlib.sha256(json.dumps([(_short(k), code_versions[k]) for k in changed]).encode()).hexdigest()[:12]
    return RunRequest(run_key=f"code {latest_day} {digest}", partition_key=latest_day,
                      asset_selection=sorted(plan.dependents(changed), key=str),
                      tags={"dataplatform/reason": "code version changed: " + ", ".join(map(_short, changed))[:200]})


def evaluate(instance: DagsterInstance, plan: DomainPlan, partitions: DailyPartitionsDefinition, asset_graph,
             requested: Mapping[str, int]) -> Decision | SkipReason:
    """One tick of a domain's trigger or schedule: why it must not start anything now, or its decision."""
    if reason := busy_reason(instance, plan):
        return SkipReason(reason)
    versions = {key: asset_graph.get(key).code_version for key in plan.assets if asset_graph.has(key)}
    return decide(instance, plan, partitions.get_partition_keys(), requested, versions)


def domain_trigger(plan: DomainPlan, job: JobDefinition, partitions: DailyPartitionsDefinition,
                   status: DefaultSensorStatus, interval_seconds: int = 30) -> SensorDefinition:
    """The sensor that starts ``plan``'s days from its data (see the module docstring)."""

    @sensor(name=plan.trigger, job=job, minimum_interval_seconds=interval_seconds, default_status=status,
            description=f"Starts the {plan.domain} domain's day when every input it reads for that day is materialized: "
                        + ", ".join(_short(i.key) for i in plan.inputs))
    def _trigger(context: SensorEvaluationContext):
        requested = json.loads(context.cursor) if context.cursor else {}
        decision = evaluate(context.instance, plan, partitions, context.repository_def.asset_graph, requested)
        if isinstance(decision, SkipReason):
            return decision
        if decision.waiting:
            context.log.info(f"{plan.domain} " + "; ".join(decision.waiting))
        cursor = json.dumps({**requested, **decision.requested}, sort_keys=True)
        if decision.requests:
            return SensorResult(run_requests=decision.requests, cursor=cursor)
        return SensorResult(skip_reason="; ".join(decision.waiting) or f"{plan.domain} is up to date", cursor=cursor)

    return _trigger


def domain_schedule(plan: DomainPlan, job: JobDefinition, partitions: DailyPartitionsDefinition,
                    status: DefaultScheduleStatus) -> ScheduleDefinition:
    """The schedule that builds ``plan``'s days whose inputs are in, at its cron (see the module docstring)."""

    @schedule(name=plan.schedule, job=job, cron_schedule=plan.cron, execution_timezone="UTC", default_status=status,
              description=f"At {plan.cron} (UTC), builds the {plan.domain} domain's days whose inputs are in: "
                          + ", ".join(_short(i.key) for i in plan.inputs))
    def _on_cron(context: ScheduleEvaluationContext):
        decision = evaluate(context.instance, plan, partitions, context.repository_def.asset_graph, {})
        if isinstance(decision, SkipReason):
            return decision
        if decision.waiting:
            context.log.info(f"{plan.domain} " + "; ".join(decision.waiting))
        return decision.requests or SkipReason("; ".join(decision.waiting) or f"{plan.domain} is up to date")

    return _on_cron
