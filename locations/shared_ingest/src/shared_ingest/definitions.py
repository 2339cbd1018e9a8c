"""The shared_ingest code location: one ingest asset per source table, and their schedule."""

import dagster as dg
from dataplatform.execution import RETRY_FROM_ASSET_FAILURE, platform_executor, schedule_status
from dataplatform.settings import Settings, resolve_settings

from shared_ingest.assets import LandingZone, build_ingest_assets
from shared_ingest.loaders import BigQueryLoader, DuckDBLoader, WarehouseLoader
from shared_ingest.simulation import simulate_source_day, simulation_schedule


def warehouse_loader(settings: Settings) -> tuple[WarehouseLoader, str]:
    """The loader for this environment's warehouse, and its name for the assets' kinds badge."""
    if settings.bigquery is not None:
        bq = settings.bigquery
        keyfile = bq.keyfile if bq.method == "service-account" else None
        return BigQueryLoader(project=bq.project, location=bq.location, keyfile=keyfile), "bigquery"
    return DuckDBLoader(database=str(settings.duckdb_path)), "duckdb"


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """Ingest assets, the daily ingest schedule and, in dev, the source-system simulation."""
    settings = settings or resolve_settings()
    warehouse, warehouse_kind = warehouse_loader(settings)
    assets = build_ingest_assets(warehouse_kind)
    ingest = dg.define_asset_job(
        "ingest_sources", selection=dg.AssetSelection.assets(*assets), tags=RETRY_FROM_ASSET_FAILURE
    )
    jobs = [ingest]
    schedules = [
        dg.ScheduleDefinition(
            name="ingest_sources_daily",
            job=ingest,
            cron_schedule="0 5 * * *",
            execution_timezone="UTC",
            default_status=schedule_status(settings),
        )
    ]
    if settings.env == "dev":
        jobs.append(simulate_source_day)
        schedules.append(simulation_schedule(schedule_status(settings)))
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        schedules=schedules,
        resources={
            "landing": LandingZone(root=settings.landing_root),
            "warehouse": warehouse,
        },
        executor=platform_executor(settings),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
