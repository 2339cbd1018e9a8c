"""Sources another tool loads (a dbt source whose ``loader`` is, say, Fivetran): observed, never written.

Each such table is an observable source asset of shared_ingest, keyed by the same rule as the
tables the platform loads (``raw/<source>/<table>``), so that lineage runs through it and the
domains' triggers wait for it like any input. Its partitions are the platform's days: day D is
observed once the tool has loaded a row after D ended (its ``loaded_at_field``, the column dbt's
freshness reads), each with that load time as its data version. An observation records only the
days not observed before, so its cost stays flat as history grows.

The ``observe_sources`` job observes them all; its schedule runs it every 15 minutes (a run, so
that on DuckDB it queues with the writers instead of meeting their lock).
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, time, timedelta

from dagster import (
    AssetsDefinition,
    BetaWarning,
    DagsterEventType,
    DataVersion,
    DataVersionsByPartition,
    DefaultScheduleStatus,
    JobDefinition,
    ScheduleDefinition,
    define_asset_job,
    observable_source_asset,
)

from dataplatform.partitions import daily_partitions, partition_day
from shared_ingest.catalogue import ObservedTable
from shared_ingest.loading import WarehouseLoader

OBSERVE_JOB = "observe_sources"
OBSERVE_EVERY = "*/15 * * * *"


def days_loaded(partition_keys: list[str], newest_load: datetime | None) -> list[str]:
    """The days a load at ``newest_load`` covers: every day that had ended by then (UTC)."""
    if newest_load is None:
        return []
    return [key for key in partition_keys
            if datetime.combine(partition_day(key) + timedelta(days=1), time(), tzinfo=UTC) <= newest_load]


def build_observed_asset(table: ObservedTable) -> AssetsDefinition:
    """The observable source asset of a table ``table.loader`` loads. (Dagster marks observable
    source assets and partitioned data versions beta: they are what it offers for this.)"""
    partitions = daily_partitions()

    def observe(context) -> DataVersionsByPartition:
        warehouse: WarehouseLoader = context.resources.warehouse
        newest = warehouse.newest_load(table.schema, table.name, table.loaded_at_field)
        seen = context.instance.get_latest_storage_id_by_partition(table.asset_key, DagsterEventType.ASSET_OBSERVATION)
        new = [day for day in days_loaded(partitions.get_partition_keys(), newest) if day not in seen]
        context.log.info(f"{table.qualified_name}: newest load by {table.loader} at {newest}; "
                         f"{len(new)} day(s) newly in: {', '.join(new[-5:]) or 'none'}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BetaWarning)
            return DataVersionsByPartition({day: DataVersion(newest.isoformat()) for day in new})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        return observable_source_asset(
            key=table.asset_key,
            group_name=table.schema,
            description=f"{table.description} Loaded by {table.loader}: observed, not loaded, by the platform.".strip(),
            partitions_def=partitions,
            required_resource_keys={"warehouse"},
            tags={"source_system": table.source, "loaded_by": table.loader},
        )(observe)


def observe_job(assets: list[AssetsDefinition]) -> JobDefinition:
    return define_asset_job(OBSERVE_JOB, selection=[asset.key for asset in assets],
                            description="Observes the sources other tools load: which days they have loaded.")


def observe_schedule(job: JobDefinition, status: DefaultScheduleStatus) -> ScheduleDefinition:
    return ScheduleDefinition(name=f"{OBSERVE_JOB}_every_15_minutes", job=job, cron_schedule=OBSERVE_EVERY,
                              execution_timezone="UTC", default_status=status)
