"""The dg component shared_ingest's ``defs/ingest/defs.yaml`` declares: the ingest assets (one per
source table), the daily ingest job and its schedule, the observed sources other tools load, the
alerts and, in dev, the source simulation.

The times it runs at are declared in that file, as each domain declares its own in its
``defs.yaml``; nothing here knows a clock time. The tables it loads are the dbt project's sources
(shared_ingest.catalogue).
"""

from pathlib import Path

import dagster as dg
import yaml
from pydantic import Field

from dataplatform.automation.alerts import location_alerts
from dataplatform.automation.status import schedule_status
from dataplatform.components import DailyCron
from dataplatform.landing import LandingZone
from dataplatform.partitions import daily_cron_time
from dataplatform.runs import RUN_TAGS, platform_executor
from dataplatform.settings import Settings, resolve_settings
from shared_ingest.assets import build_ingest_assets
from shared_ingest.bigquery_loader import BigQueryLoader
from shared_ingest.catalogue import load_catalogue
from shared_ingest.dev_sources import dev_sources
from shared_ingest.duckdb_loader import DuckDBLoader
from shared_ingest.loading import WarehouseLoader
from shared_ingest.observed import build_observed_asset, observe_job, observe_schedule

DEFS_YAML = Path(__file__).parent / "defs" / "ingest" / "defs.yaml"


def warehouse_loader(settings: Settings) -> tuple[WarehouseLoader, str]:
    """The loader for this environment's warehouse, and its name for the assets' kinds badge."""
    if settings.bigquery is not None:
        bq = settings.bigquery
        keyfile = bq.keyfile if bq.method == "service-account" else None
        return BigQueryLoader(project=bq.project, location=bq.location, keyfile=keyfile), "bigquery"
    return DuckDBLoader(database=str(settings.duckdb_path)), "duckdb"


class SourceIngest(dg.Component, dg.Model, dg.Resolvable):
    """The source systems' raw data, loaded day by day into the warehouse's raw schemas."""

    loads_at: DailyCron = Field(description="Daily cron (UTC) of the ingest schedule: it loads yesterday's partition, "
                          "once the source systems have exported it overnight.")
    simulates_at: DailyCron | None = Field(default=None, description="Dev only: daily cron (UTC) at which the "
                                           "simulated source systems, if installed, export yesterday, before loads_at.")

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return self.definitions(resolve_settings())

    def definitions(self, settings: Settings) -> dg.Definitions:
        """Ingest assets (one per source table the dbt sources declare), the daily ingest schedule,
        the alerts and, in dev, the source-system simulation."""
        warehouse, warehouse_kind = warehouse_loader(settings)
        catalogue = load_catalogue(settings.require_dbt_project())
        assets = build_ingest_assets(catalogue, warehouse_kind)
        observed = [build_observed_asset(table) for table in catalogue.observed]
        loads_at = daily_cron_time(self.loads_at, "loads_at")
        jobs, schedules = [], []
        if assets:
            # One daily run: the day's partition of every table (the state tables load their newest
            # export). A range of days is one run too (a backfill).
            ingest = dg.define_asset_job("ingest_sources", selection=dg.AssetSelection.assets(*assets),
                                         tags=RUN_TAGS)
            jobs.append(ingest)
            schedules.append(dg.build_schedule_from_partitioned_job(
                ingest, name="ingest_sources_daily", hour_of_day=loads_at.hour, minute_of_hour=loads_at.minute,
                default_status=schedule_status(settings),
            ))
        if observed:
            jobs.append(observe_job(observed))
            schedules.append(observe_schedule(jobs[-1], schedule_status(settings)))
        if not assets and not observed:
            dg.get_dagster_logger().warning(
                f"no source table to load: the dbt project at {settings.dbt_project_dir} declares none "
                "(docs/adopt.md: bring your own sources)")
        if settings.env == "dev" and self.simulates_at:
            for simulation in dev_simulations(self.simulates_at, settings):
                jobs.append(simulation.job)
                schedules.append(simulation)
        return dg.Definitions(
            assets=[*assets, *observed],
            jobs=jobs,
            schedules=schedules,
            sensors=location_alerts("shared_ingest", settings),
            resources={
                "landing": LandingZone(root=settings.landing_root),
                "warehouse": warehouse,
            },
            executor=platform_executor(settings),
        )


def dev_simulations(cron: str, settings: Settings) -> list[dg.ScheduleDefinition]:
    """In dev, the daily export of each simulated source system installed here (shared_ingest.dev_sources):
    the example's in the workspace, none in a location image or once the example is removed."""
    return [source.schedule(cron, schedule_status(settings)) for source in dev_sources()]


def declared_ingest() -> SourceIngest:
    """The component as ``defs/ingest/defs.yaml`` declares it (for tests that build its
    definitions on settings of their own)."""
    return SourceIngest(**yaml.safe_load(DEFS_YAML.read_text())["attributes"])


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The location's definitions as declared, on ``settings`` (default: this environment's)."""
    return declared_ingest().definitions(settings or resolve_settings())

