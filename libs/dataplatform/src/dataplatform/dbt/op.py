"""The dbt op of a domain: one ``dbt build`` over a selection, and how its events reach Dagster.

Its tests become asset checks, its blue/green marts are reported only once dbt has published
them, every table carries the row count dbt reports, and a step that ends stops its dbt.
"""

import json
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from queue import SimpleQueue
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetObservation,
    AssetsDefinition,
    BackfillPolicy,
    Failure,
)
from dagster_dbt import DagsterDbtCliRuntimeError, DbtCliInvocation, DbtCliResource, DbtProject, dbt_assets

from dataplatform.dbt.failures import explain_missing_relations, relation_owners
from dataplatform.dbt.plan import DomainPlan
from dataplatform.dbt.translator import PlatformTranslator
from dataplatform.keys import BACKFILL_UNIT_TAG
from dataplatform.partitions import daily_partitions, partition_day
from dataplatform.publishing import report_publishing


def event_time_args(context: AssetExecutionContext) -> list[str]:
    """dbt's microbatch window for the run's partition or range of partitions (whole UTC days).

    dagster-dbt passes no such flags itself, and ``--vars`` would not do: without these flags
    dbt runs every batch since the model's ``begin``.
    """
    keys = context.partition_key_range
    return microbatch_window_args(partition_day(keys.start), partition_day(keys.end))


def microbatch_window_args(first: date, last: date) -> list[str]:
    """dbt's flags for the microbatch window of the days ``first`` .. ``last``: from the start of the
    first to the start of the day after the last (dbt's end is exclusive)."""
    return ["--event-time-start", f"{first.isoformat()}T00:00:00",
            "--event-time-end", f"{(last + timedelta(days=1)).isoformat()}T00:00:00"]


def tests_outside_selection(context: AssetExecutionContext, tests: Mapping[str, tuple[str, ...]],
                            unique_ids: Mapping[AssetKey, str]) -> list[str]:
    """``--select`` of the tests of the run's planned checks that read a node the run does not build.

    In a subset (each run of a backfill, a retry, checks alone) dagster-dbt selects the models and
    leaves their tests to dbt's ``cautious`` indirect selection, which never picks a test reading a
    source or a model of another run: a planned check dbt does not run, shown as skipped. By name
    they run, reading what the run does not build where consumers read it.
    """
    built = {unique_ids.get(key) for key in context.selected_asset_keys}
    names = sorted(key.name for key in context.selected_asset_check_keys
                   if key.name in tests and not set(tests[key.name]) <= built)
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


def build_dbt_assets(plan: DomainPlan, project: DbtProject, manifest: Mapping[str, Any],
                     translator: PlatformTranslator | None = None) -> AssetsDefinition:
    """The domain's op: one ``dbt build`` of its selection, daily-partitioned; its dbt tests become
    asset checks.

    It builds the days of its partition (or range) in ONE dbt invocation: a 90-day backfill is one
    run and one ``dbt build`` with 90 batches, not 90 runs. Ops that share a ``translator`` share
    its resolved asset specs. Its assets carry the op's name as their backfill unit, so that a
    backfill builds them in one run (the backfill_units patch). What it reads of the manifest while
    dbt runs is in the ``plan``, found once; only a failure's explanation reads the manifest again.
    """
    translator = translator or PlatformTranslator(project=project)

    @dbt_assets(
        manifest=manifest,
        project=project,
        select=plan.select,
        name=plan.op,
        dagster_dbt_translator=translator,
        pool=plan.pool,
        partitions_def=daily_partitions(),
        backfill_policy=BackfillPolicy.single_run(),
    )
    def _dbt(context: AssetExecutionContext, dbt: DbtCliResource):
        # A run of checks alone (the critical tests' job) has no partition: its tests read every day.
        windowed = context.has_partition_key or context.has_partition_key_range
        args = ["build", *(event_time_args(context) if windowed else []),
                *tests_outside_selection(context, plan.tests, plan.unique_ids)]
        invocation = dbt.cli(args, context=context)
        row_counts: dict[str, int] = {}
        try:
            events = report_unplanned_checks(context, read_ahead(asset_events(invocation, row_counts)))
            yield from report_publishing(context, events, plan.blue_relations, plan.tables, row_counts)
        except DagsterDbtCliRuntimeError as error:
            if hint := explain_missing_relations(str(error), relation_owners(manifest, translator)):
                raise Failure(description=f"{hint}\n\n{error}") from error
            raise
        finally:
            end_dbt_process(context, invocation.process)

    return _dbt.map_asset_specs(lambda spec: spec.merge_attributes(tags={BACKFILL_UNIT_TAG: plan.op}))


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


def read_ahead(events: Iterator[Any]) -> Iterator[Any]:
    """``events``, in their order, drawn by a thread of their own as soon as they come.

    dagster-dbt reads dbt's output in the step's thread, which also writes each event it yields to
    the instance (on SQLite, a few transactions each). dbt writes into a pipe of 64 KB, less than
    half of a domain's build output, so on a burst of results dbt waited for those writes before
    going on. Read ahead, dbt's output is drained as dbt writes it. An error of ``events`` (dbt's
    failure) is raised here, where the step reads them.
    """
    queue: SimpleQueue = SimpleQueue()
    end = object()

    def draw() -> None:
        try:
            for event in events:
                queue.put((event, None))
        except BaseException as error:  # noqa: BLE001 - raised again in the step's thread
            queue.put((end, error))
        else:
            queue.put((end, None))

    threading.Thread(target=draw, name="dbt-events", daemon=True).start()
    while True:
        event, error = queue.get()
        if event is end:
            if error is not None:
                raise error
            return
        yield event
