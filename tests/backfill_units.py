"""The platform's op layout in three small code locations, for the backfill fix's rule
(tests/unit/test_daemon_fix.py) and Dagster's own backfill daemon in process
(tests/e2e/test_backfill_units.py), named as the platform's test project (tests/fixtures/subscriptions):
an ingest op and a source another tool loads (``raw/crm/contacts``, observed, never in a
backfill), billing's op on ingest, and care's op, whose ``account_health`` reads billing's
``invoices`` and care's contacts, staged from that source alone. Each op is daily-partitioned,
subsettable and backfilled in one run, as a domain's dbt op is, and its assets carry the op's
backfill unit (the backfill_units patch, ``dataplatform.patches``)."""

import os
from pathlib import Path

from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    DailyPartitionsDefinition,
    Definitions,
    MaterializeResult,
    asset,
    multi_asset,
)

from dataplatform.keys import BACKFILL_UNIT_TAG

DAYS = DailyPartitionsDefinition(start_date="2026-01-01")
RAW_INVOICES, RAW_TICKETS = AssetKey(["raw", "billing", "invoices"]), AssetKey(["raw", "support", "tickets"])
INVOICES, DAILY_BILLING = AssetKey(["billing", "invoices"]), AssetKey(["billing", "daily_billing"])
TICKETS, ACCOUNT_HEALTH = AssetKey(["care", "tickets"]), AssetKey(["care", "account_health"])
RAW_CONTACTS, CONTACTS = AssetKey(["raw", "crm", "contacts"]), AssetKey(["care", "stg_crm__contacts"])


# A file whose presence fails every domain op (a full disk under the warehouse, say): set by a test.
FAULT_ENV = "BACKFILL_UNITS_FAULT"


def op(name: str, specs: list[AssetSpec]):
    @multi_asset(name=name, specs=[s.merge_attributes(tags={BACKFILL_UNIT_TAG: name}) for s in specs], can_subset=True,
                 partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run())
    def _op(context):
        if name != "ingest" and (fault := os.environ.get(FAULT_ENV)) and Path(fault).exists():
            raise OSError(f"No space left on device (the test's fault: {fault})")
        for spec in specs:  # in dependency order, as Dagster requires of a multi-asset
            if spec.key in context.selected_asset_keys:
                yield MaterializeResult(asset_key=spec.key)

    return _op


shared_ingest = Definitions(assets=[op("ingest", [AssetSpec(RAW_INVOICES), AssetSpec(RAW_TICKETS)]),
                                    AssetsDefinition(specs=[AssetSpec(RAW_CONTACTS, partitions_def=DAYS)])])  # external
billing = Definitions(assets=[
    op("billing_dbt", [AssetSpec(INVOICES, deps=[RAW_INVOICES]), AssetSpec(DAILY_BILLING, deps=[INVOICES])])])
care = Definitions(assets=[
    op("care_dbt", [AssetSpec(TICKETS, deps=[RAW_TICKETS]), AssetSpec(CONTACTS, deps=[RAW_CONTACTS]),
                    AssetSpec(ACCOUNT_HEALTH, deps=[TICKETS, CONTACTS, INVOICES])])])


# Two unpartitioned assets of two locations, ready at once: what stock Dagster sends to one location
# as one run (the backfill_split patch sends one to each).
@asset(key=["ledger", "rates"])
def rates():
    return None


@asset(key=["care", "queues"])
def queues():
    return None


unpartitioned_billing = Definitions(assets=[rates])
unpartitioned_care = Definitions(assets=[queues])
