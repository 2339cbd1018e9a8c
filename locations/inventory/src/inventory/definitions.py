"""The inventory code location: the inventory slice of the dbt project, its snapshots and schedules."""

import dagster as dg

from dataplatform.domain import build_domain_definitions


@dg.definitions
def defs() -> dg.Definitions:
    # After sales' build (05:30): days_of_supply reads sales' order_items.
    return build_domain_definitions("inventory", snapshot_cron="15 5 * * *", build_cron="0 6 * * *",
                                    critical_tests_cron="30 7 * * *")
