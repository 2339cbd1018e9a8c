"""The sales code location: the sales slice of the dbt project, its snapshots and schedules."""

import dagster as dg

from dataplatform.domain import build_domain_definitions


@dg.definitions
def defs() -> dg.Definitions:
    # Snapshots first, so the day's build sees the day's history; after ingest at 05:00. The
    # critical tests re-run when the builds of both domains are done.
    return build_domain_definitions("sales", snapshot_cron="15 5 * * *", build_cron="30 5 * * *",
                                    critical_tests_cron="0 7 * * *")
