"""How the platform's runs execute in each environment: one writer on DuckDB, parallel steps on
BigQuery; and the tags every run of its jobs carries (retries, a bound on its time)."""

from dagster import ExecutorDefinition, in_process_executor, multiprocess_executor

from dataplatform.settings import Settings

# Bound to a run of the platform's jobs: a run STARTED for longer is hung (a day's build takes
# minutes), and the instance's run monitoring fails it; its run retries then run it again.
MAX_RUNTIME_SECONDS = 6 * 3600

# The tags of the platform's jobs' runs: where the instance retries failed runs (both instance
# configs), a retry re-runs only the failed assets; and the bound above.
RUN_TAGS = {"dagster/retry_strategy": "FROM_ASSET_FAILURE", "dagster/max_runtime": str(MAX_RUNTIME_SECONDS)}


def platform_executor(settings: Settings) -> ExecutorDefinition:
    """DuckDB lets one process write its file: run a run's steps one after another, in the run's
    own process. (Runs themselves queue on the instance's run limit, see dagster.yaml.)"""
    if settings.single_writer:
        return in_process_executor
    return multiprocess_executor
