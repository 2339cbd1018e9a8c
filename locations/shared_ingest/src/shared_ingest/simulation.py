"""Dev only: a job that plays the source systems, exporting one simulated day."""

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

from shared_ingest.assets import LandingZone
from shared_ingest.generator import generate_day, next_day
from shared_ingest.landing import day_number


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


def simulation_schedule(default_status: DefaultScheduleStatus) -> ScheduleDefinition:
    """At 04:30 UTC, export yesterday: the day the ingest schedule loads at 05:00, as the real
    source systems would have, so the dev calendar chains like production."""

    @schedule(
        name="simulate_source_day_daily",
        job=simulate_source_day,
        cron_schedule="30 4 * * *",
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
