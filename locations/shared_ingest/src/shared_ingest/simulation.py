"""Dev only: a job that plays the source systems, exporting the next simulated day."""

from dagster import Config, OpExecutionContext, ScheduleDefinition, job, op

from shared_ingest.assets import LandingZone
from shared_ingest.generator import generate_day, next_day


class SimulationConfig(Config):
    scale: float = 1.0
    seed: int = 42


@op
def export_next_day(context: OpExecutionContext, config: SimulationConfig, landing: LandingZone) -> None:
    """Write the next day's exports of every source table to the landing zone."""
    day = next_day(landing.root)
    rows = generate_day(landing.root, day, scale=config.scale, seed=config.seed)
    context.log.info(f"exported day {day}: {rows}")


@job(description="Simulate the source systems: export the next day's files (dev only).")
def simulate_source_day():
    export_next_day()


def simulation_schedule(default_status) -> ScheduleDefinition:
    return ScheduleDefinition(
        name="simulate_source_day_daily",
        job=simulate_source_day,
        cron_schedule="30 4 * * *",
        execution_timezone="UTC",
        default_status=default_status,
    )
