"""The factory every domain location calls: its dbt slice, snapshots, jobs and schedules."""


import functools
import json
import signal
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetObservation,
    AssetsDefinition,
    AssetSelection,
    BackfillPolicy,
    Definitions,
    Failure,
    FreshnessPolicy,
    MetadataValue,
    Output,
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
    define_asset_job,
)
from dagster_dbt import DagsterDbtCliRuntimeError, DbtCliInvocation, DbtCliResource, DbtProject, dbt_assets

from dataplatform.dbt_project import dbt_cli, get_dbt_project, prepare_manifest
from dataplatform.execution import RETRY_FROM_ASSET_FAILURE, platform_executor, schedule_status
from dataplatform.failures import explain_missing_relations, relation_owners
from dataplatform.keys import snapshot_pool
from dataplatform.partitions import daily_partitions
from dataplatform.settings import Settings, resolve_settings
from dataplatform.translator import PlatformTranslator, is_blue_green


def domain_selection(domain: str) -> str:
    """dbt selection of a domain's models (and their tests): its dbt group, snapshots excluded."""
    return f"group:{domain}"


def domain_snapshot_selection(domain: str) -> str:
    """dbt selection of a domain's snapshots: the intersection of its group and snapshots."""
    return f"group:{domain},resource_type:snapshot"


@dataclass(frozen=True)
class DomainSlices:
    """A domain's models split into the two ops that build them, as explicit dbt selections.

    ``events``: the models that declare an ``event_time`` (event-grain views and the incremental
    models built one day at a time), the event sources they read, and so the tests on those
    sources (dbt runs a test when all its parents are selected). ``models``: the other models
    (dimensions, cumulative marts), the sources they read, and by name the tests that read both
    slices (they can run only after the events are built). Explicit selections, not excludes:
    dagster-dbt evaluates an ``--exclude`` eagerly and would drop those tests from its checks.
    """

    events: list[str]
    models: list[str]


def _source_selector(source: Mapping[str, Any]) -> str:
    return f"source:{source['source_name']}.{source['name']}"


def _model_selector(node: Mapping[str, Any]) -> str:
    """A model by name; a version of a versioned model by its full fqn. dagster-dbt evaluates
    selections on a shim of the manifest in which ``order_items`` or ``order_items.v1`` match no
    versioned node (dbt's CLI matches both), so its asset would lack the version dbt builds."""
    return node["name"] if node.get("version") is None else "fqn:" + ".".join(node["fqn"])


def domain_slices(manifest: Mapping[str, Any], domain: str) -> DomainSlices:
    """The domain's two model slices, read from the manifest (see DomainSlices)."""
    nodes, sources = manifest["nodes"], manifest["sources"]
    owned = [n for n in nodes.values() if n["resource_type"] == "model" and n.get("config", {}).get("group") == domain]
    event_ids = {n["unique_id"] for n in owned if n.get("config", {}).get("event_time")}

    def read_sources(unique_ids: set[str]) -> set[str]:
        return {p for i in unique_ids for p in nodes[i]["depends_on"]["nodes"] if p.startswith("source.")}

    model_ids = {n["unique_id"] for n in owned} - event_ids
    event_side = event_ids | read_sources(event_ids)
    model_side = model_ids | read_sources(model_ids)
    both = [
        n["name"] for n in nodes.values()
        if n["resource_type"] == "test" and (parents := set(n["depends_on"]["nodes"]))
        and parents & event_side and parents & model_ids
    ]
    def selectors(models: set[str], side: set[str]) -> list[str]:
        return sorted(_model_selector(nodes[i]) for i in models) + sorted(_source_selector(sources[s]) for s in side - models)

    return DomainSlices(events=selectors(event_ids, event_side), models=selectors(model_ids, model_side) + sorted(both))


def event_time_args(context: AssetExecutionContext) -> list[str]:
    """dbt's microbatch window for the run's partition or range of partitions (whole UTC days).

    dagster-dbt passes no such flags itself, and ``--vars`` would not do: without these flags
    dbt runs every batch since the model's ``begin``.
    """
    window = context.partition_time_window
    return [
        "--event-time-start", window.start.strftime("%Y-%m-%dT%H:%M:%S"),
        "--event-time-end", window.end.strftime("%Y-%m-%dT%H:%M:%S"),
    ]


def tests_outside_selection(context: AssetExecutionContext, tests: Mapping[str, Mapping[str, Any]],
                            unique_ids: Mapping[AssetKey, str]) -> list[str]:
    """``--select`` of the tests of the run's planned checks that read a node the run does not build.

    In a subset (each run of a backfill, a retry, checks alone) dagster-dbt selects the models and
    leaves their tests to dbt's ``cautious`` indirect selection, which never picks a test reading a
    source or a model of another run: a planned check dbt does not run, shown as skipped. By name
    they run, reading what the run does not build where consumers read it.
    """
    built = {unique_ids.get(key) for key in context.selected_asset_keys}
    names = sorted(key.name for key in context.selected_asset_check_keys
                   if key.name in tests and not set(tests[key.name]["depends_on"]["nodes"]) <= built)
    return ["--select", " ".join(names)] if names else []


def report_unplanned_checks(context: AssetExecutionContext, events: Iterator[Any]) -> Iterator[Any]:
    """A dbt test result the run did not plan is an observation, not a check result.

    In a subset dagster-dbt also runs the tests on the sources the selected models read, so a bad
    source still stops the build, and yields them as results of checks the run never selected
    (Dagster: "... is not selected. Letting it through."). As dagster-dbt reports any other test
    run outside the check selection, they become observations of the source.
    """
    planned = context.selected_asset_check_keys
    for event in events:
        if isinstance(event, AssetCheckResult) and AssetCheckKey(event.asset_key, event.check_name) not in planned:
            yield AssetObservation(
                asset_key=event.asset_key,
                description=f"dbt test {event.check_name} {'passed' if event.passed else 'failed'} (not a check of this run)",
                metadata={**event.metadata, "dbt test": event.check_name, "passed": event.passed},
            )
        else:
            yield event


def count_nodes(manifest: Mapping[str, Any], domain: str, resource_type: str) -> int:
    """How many dbt nodes of one type the domain owns."""
    return sum(
        1
        for node in manifest["nodes"].values()
        if node["resource_type"] == resource_type and node.get("config", {}).get("group") == domain
    )


def build_dbt_assets(
    name: str,
    project: DbtProject,
    manifest: Mapping[str, Any],
    select: str,
    translator: PlatformTranslator | None = None,
    exclude: str | None = None,
    pool: str | None = None,
    partitioned: bool = False,
) -> AssetsDefinition:
    """One ``dbt build`` over a selection; its dbt tests become asset checks.

    A partitioned one builds the days of its partition (or range) in ONE dbt invocation: a
    90-day backfill is one run and one ``dbt build`` with 90 batches, not 90 runs. Ops that
    share a ``translator`` share its resolved asset specs.
    """

    translator = translator or PlatformTranslator(project=project)
    blue_relations = {translator.get_asset_key(node): node["relation_name"] for node in manifest["nodes"].values()
                      if is_blue_green(node)}
    owners = relation_owners(manifest, translator)
    tests = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "test"}  # a check is named after its test
    unique_ids = {translator.get_asset_key(n): uid for uid, n in manifest["nodes"].items()
                  if n["resource_type"] in ("model", "snapshot", "seed")}
    tables = {key: uid for key, uid in unique_ids.items() if manifest["nodes"][uid]["config"].get("materialized") in COUNTED}

    @dbt_assets(
        manifest=manifest,
        project=project,
        select=select,
        exclude=exclude,
        name=name,
        dagster_dbt_translator=translator,
        pool=pool,
        partitions_def=daily_partitions() if partitioned else None,
        backfill_policy=BackfillPolicy.single_run() if partitioned else None,
    )
    def _dbt(context: AssetExecutionContext, dbt: DbtCliResource):
        # A run of checks alone (the critical tests' job) has no partition: its tests read every day.
        windowed = partitioned and (context.has_partition_key or context.has_partition_key_range)
        args = ["build", *(event_time_args(context) if windowed else []), *tests_outside_selection(context, tests, unique_ids)]
        invocation = dbt.cli(args, context=context)
        row_counts: dict[str, int] = {}
        try:
            events = report_unplanned_checks(context, asset_events(invocation, row_counts))
            yield from report_publishing(context, events, blue_relations, tables, row_counts)
        except DagsterDbtCliRuntimeError as error:
            if hint := explain_missing_relations(str(error), owners):
                raise Failure(description=f"{hint}\n\n{error}") from error
            raise
        finally:
            end_dbt_process(context, invocation.process)

    return _dbt


def end_dbt_process(context: AssetExecutionContext, process: subprocess.Popen, grace_seconds: float = 30) -> None:
    """Stop the op's dbt if it still runs, and wait for it, before the step ends.

    dagster-dbt forwards only Dagster's own interrupt to dbt. If anything else raises while the
    op reads dbt's events (the stream, the publishing report, the failure hint), or Dagster closes
    the op, dbt would build on until the run's process ends, and the run's next step would start a
    second dbt beside it (on DuckDB: a lock error; on BigQuery: two builds at once). SIGINT first,
    so dbt cancels its queries and closes its connections; SIGKILL if it does not stop.
    """
    if process.poll() is not None:
        return
    context.log.warning(f"the step ends while its dbt (pid {process.pid}) still runs: stopping it")
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    context.log.info(f"dbt (pid {process.pid}) stopped with exit code {process.returncode}")


# Materializations whose rows dbt counts at the end of an invocation (dbt/macros/row_counts.sql).
COUNTED = ("table", "incremental", "snapshot")
ROW_COUNTS_LOG_PREFIX = "row counts: "


def asset_events(invocation: DbtCliInvocation, row_counts: dict[str, int]) -> Iterator[Any]:
    """dagster-dbt's events of a dbt invocation (what ``invocation.stream()`` yields), and the row
    counts that dbt's on-run-end hook logs, collected into ``row_counts`` by dbt unique id. They
    come from dbt's own connection: no second dbt adapter in the run process."""
    for event in invocation.stream_raw_events():
        info = event.raw_event["info"]
        if info["name"] == "JinjaLogInfo" and info["msg"].startswith(ROW_COUNTS_LOG_PREFIX):
            row_counts.update(json.loads(info["msg"].removeprefix(ROW_COUNTS_LOG_PREFIX)))
            continue
        yield from event.to_default_asset_events(
            manifest=invocation.manifest, dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=invocation.context, target_path=invocation.target_path, project=invocation.project,
        )


def report_publishing(context: AssetExecutionContext, events: Iterator[Any], blue_relations: Mapping[AssetKey, str],
                      tables: Mapping[AssetKey, str], row_counts: Mapping[str, int]) -> Iterator[Any]:
    """Report blue/green marts as materialized only once dbt has published them, and every table
    with the row count dbt reports at the end (``dagster/row_count``).

    dbt publishes an invocation's marts at its very end, and only if every model and test was
    clean (dbt/macros/publishing.sql). So their materializations are held until dbt exits: a clean
    invocation reports them with ``published: true``; a failed one reports none (Dagster records
    the marts as failed to materialize) and observes each with ``published: false`` and the blue
    relation that holds the rejected build. The other tables (snapshots) are held for their row
    counts; everything else (checks, views) passes at once. ``tables`` maps a table's asset key to
    its dbt unique id, the key of ``row_counts``, which is filled while ``events`` runs.
    """
    def key_of(event: Any) -> AssetKey | None:
        if isinstance(event, Output):
            return context.asset_key_for_output(event.output_name)
        return event.asset_key if isinstance(event, AssetMaterialization) else None

    held = []
    try:
        for event in events:
            if (key := key_of(event)) in blue_relations or key in tables:
                held.append(event)
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


# dbt tests tagged so are the domain's critical tests: its reconciliations of marts against raw
# data and the keys of its public models. They also run in every build; their own job re-runs them
# on their own schedule without rebuilding anything.
CRITICAL_TESTS_TAG = "critical"


def tagged_check_keys(manifest: Mapping[str, Any], assets: list[AssetsDefinition], tag: str) -> list[AssetCheckKey]:
    """The asset checks of ``assets`` whose dbt test carries ``tag`` (a check is named after its test)."""
    tagged = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test" and tag in n.get("tags", [])}
    return sorted((key for a in assets for key in a.check_keys if key.name in tagged), key=str)


def daily_time(cron: str) -> tuple[int, int]:
    """Hour and minute of a daily cron (``M H * * *``)."""
    minute, hour = (int(part) for part in cron.split()[:2])
    return hour, minute


def marts_freshness(build_cron: str, allowed: timedelta = timedelta(hours=2)) -> FreshnessPolicy:
    """Freshness that follows the domain's daily build: each mart is expected to have been
    materialized between the build's scheduled time and ``allowed`` after it, every day."""
    hour, minute = daily_time(build_cron)
    deadline = datetime(2000, 1, 1, hour, minute) + allowed
    return FreshnessPolicy.cron(deadline_cron=f"{deadline.minute} {deadline.hour} * * *", lower_bound_delta=allowed)


def daily_schedule(job, cron: str, status, partitioned: bool) -> ScheduleDefinition:
    """A job's daily schedule (UTC); a partitioned job runs yesterday's partition, the day that
    ended and was exported before the schedule fires."""
    hour, minute = daily_time(cron)
    if partitioned:
        return build_schedule_from_partitioned_job(
            job, name=f"{job.name}_daily", hour_of_day=hour, minute_of_hour=minute, default_status=status
        )
    return ScheduleDefinition(
        name=f"{job.name}_daily", job=job, cron_schedule=cron, execution_timezone="UTC", default_status=status
    )


def build_domain_definitions(
    domain: str,
    *,
    build_cron: str,
    snapshot_cron: str,
    critical_tests_cron: str,
    settings: Settings | None = None,
) -> Definitions:
    """Everything a domain location defines, from its dbt group and three cron strings."""
    settings = settings or resolve_settings()
    settings.export_dbt_env()
    project = get_dbt_project(settings.require_dbt_project(), settings.dbt_target)
    manifest_file = prepare_manifest(project).stat()
    return _domain_definitions(domain, build_cron, snapshot_cron, critical_tests_cron, settings, project,
                               (manifest_file.st_mtime_ns, manifest_file.st_size))


@functools.lru_cache(maxsize=4)
def _domain_definitions(domain: str, build_cron: str, snapshot_cron: str, critical_tests_cron: str, settings: Settings,
                        project: DbtProject, manifest_version: tuple[int, int]) -> Definitions:
    """Built once per domain, settings and manifest version. A code server calls a location's
    ``@definitions`` function twice at start (once for its load context, then for the repository):
    the second call gets the first's definitions, not a second copy of the domain's specs."""
    manifest = json.loads(project.manifest_path.read_text())
    if count_nodes(manifest, domain, "model") == 0:
        raise ValueError(f"dbt group {domain!r} owns no model in {project.project_dir}")

    # Three ops. Events: the models with an event_time, daily-partitioned, built a day (or a range
    # of days) at a time. Models: everything else (dimensions, cumulative marts), rebuilt whole
    # after the events. Snapshots: a separate op in the domain's pool: an op has one pool, and
    # models must not wait for another run's snapshot. Snapshots and event models read sources
    # only, so the ops never form a cycle. The two model ops carry the tests on the sources they
    # read: dbt build runs them first, and a failing one (stale or broken raw data) skips every
    # model built on that source.
    slices = domain_slices(manifest, domain)
    # One translator for the two model ops: each spec is resolved once for both.
    models_translator = PlatformTranslator(source_tests_as_checks=True, marts_freshness=marts_freshness(build_cron),
                                           project=project)
    assets = [
        build_dbt_assets(f"{domain}_dbt_{name}", project, manifest, " ".join(select), models_translator,
                         partitioned=name == "events")
        for name, select in [("events", slices.events), ("models", slices.models)]
        if select
    ]
    # One daily build: the day's partition of the event models, then the unpartitioned models.
    build = define_asset_job(
        f"{domain}_build",
        selection=AssetSelection.assets(*assets) | AssetSelection.checks(*(c for a in assets for c in a.check_keys)),
        tags=RETRY_FROM_ASSET_FAILURE,
    )
    # Each job is paired with its cron where it is defined: a domain may have critical tests and no snapshots.
    scheduled = [(build, build_cron)]
    if count_nodes(manifest, domain, "snapshot"):
        snapshots = build_dbt_assets(
            f"{domain}_dbt_snapshots", project, manifest, domain_snapshot_selection(domain), pool=snapshot_pool(domain)
        )
        assets.append(snapshots)
        snapshots_job = define_asset_job(
            f"{domain}_snapshots", selection=AssetSelection.assets(snapshots), tags=RETRY_FROM_ASSET_FAILURE
        )
        scheduled.append((snapshots_job, snapshot_cron))
    if critical := tagged_check_keys(manifest, assets, CRITICAL_TESTS_TAG):
        # Checks only: dagster-dbt runs just these tests (`dbt build --select <tests>`), no model.
        critical_job = define_asset_job(f"{domain}_critical_tests", selection=AssetSelection.checks(*critical))
        scheduled.append((critical_job, critical_tests_cron))
    jobs = [job for job, _ in scheduled]
    schedules = [
        daily_schedule(job, cron, schedule_status(settings), partitioned=job.partitions_def is not None)
        for job, cron in scheduled
    ]
    return Definitions(
        assets=assets,
        jobs=jobs,
        schedules=schedules,
        resources={"dbt": dbt_cli(project)},
        executor=platform_executor(settings),
    )
