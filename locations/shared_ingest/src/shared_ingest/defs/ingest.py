"""The ingest assets (one per source table), their daily schedule and, in dev, the source simulation."""

import dagster as dg

from dataplatform.alerts import location_alerts
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
    """Ingest assets, the daily ingest schedule, the alerts and, in dev, the source-system simulation."""
    settings = settings or resolve_settings()
    warehouse, warehouse_kind = warehouse_loader(settings)
    assets = build_ingest_assets(warehouse_kind)
    # One daily run: the day's partition of the event tables, and the state tables (unpartitioned,
    # loaded once per run from their newest export). A range of days is one run too (a backfill).
    ingest = dg.define_asset_job(
        "ingest_sources",
        selection=dg.AssetSelection.assets(*assets),
        tags=RETRY_FROM_ASSET_FAILURE,
    )
    jobs = [ingest]
    # At 05:00 UTC, yesterday's partition: the day that ended, exported by the source systems overnight.
    schedules = [
        dg.build_schedule_from_partitioned_job(
            ingest, name="ingest_sources_daily", hour_of_day=5, minute_of_hour=0,
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
        sensors=location_alerts("shared_ingest", settings),
        resources={
            "landing": LandingZone(root=settings.landing_root),
            "warehouse": warehouse,
        },
        executor=platform_executor(settings),
    )


@dg.definitions
def ingest() -> dg.Definitions:
    return build_definitions()
