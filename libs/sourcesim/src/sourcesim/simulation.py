"""Dev only: a job that plays the source systems, exporting one simulated day, and its daily schedule;
and the dev source the platform finds by entry point (``dataplatform.dev_sources``, pyproject.toml)."""

from collections.abc import Sequence
from datetime import date, timedelta

from dagster import (
    Config,
    DefaultScheduleStatus,
    OpExecutionContext,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    job,
    op,
    schedule,
)

from dataplatform.landing import LandingZone
from sourcesim.days import day_number
from sourcesim.generator import generate_day, land_days, next_day


class SimulationConfig(Config):
    scale: float = 1.0
    seed: int = 42
    # The day to export, YYYY-MM-DD; None (by hand): the next day not exported yet.
    day: str | None = None


@op
def export_source_day(context: OpExecutionContext, config: SimulationConfig, landing: LandingZone) -> None:
    """Write one day's exports of every source table to the landing zone."""
    day = day_number(date.fromisoformat(config.day)) if config.day else next_day(landing.root)
    rows = generate_day(landing.root, day, scale=config.scale, seed=config.seed)
    context.log.info(f"exported day {day}: {rows}")


@job(description="Simulate the source systems: export a day's files (dev only; by hand, the next day).")
def simulate_source_day():
    export_source_day()


def simulation_schedule(cron: str, default_status: DefaultScheduleStatus) -> ScheduleDefinition:
    """At ``cron`` (UTC, daily, declared in defs/ingest/defs.yaml), export yesterday: the day the
    ingest schedule then loads, as the real source systems would have, so the dev calendar chains
    like production."""

    @schedule(
        name="simulate_source_day_daily",
        job=simulate_source_day,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=default_status,
    )
    def _simulate(context: ScheduleEvaluationContext) -> RunRequest:
        yesterday = (context.scheduled_execution_time.date() - timedelta(days=1)).isoformat()
        return RunRequest(
            run_key=yesterday,
            run_config={"ops": {"export_source_day": {"config": {"day": yesterday}}}},
            tags={"simulated_day": yesterday},
        )

    return _simulate


class ShopAndErp:
    """The simulated shop and ERP, as shared_ingest.dev_sources finds them."""

    def land(self, landing_root: str, days: Sequence[date]) -> None:
        land_days(landing_root, [day_number(day) for day in days])

    def schedule(self, cron: str, default_status: DefaultScheduleStatus) -> ScheduleDefinition:
        return simulation_schedule(cron, default_status)


SHOP_AND_ERP = ShopAndErp()
