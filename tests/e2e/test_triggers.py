"""Each domain's trigger (its `<domain>_on_new_data` sensor), evaluated on a real instance after
real runs of ingest and of the domains, in process: what it starts, what it waits for (the other
domain's public models, a source another tool loads until it is observed loaded), and that a day
it started is not started again. The daemon-driven chain is in tests/platform/test_platform.py.

On the platform's test project (tests/fixtures/subscriptions): billing reads the billing system's
exports; care reads support's tickets, billing's public ``accounts`` and ``invoices`` (v1), and
the crm's contacts, which Fivetran loads and shared_ingest only observes (``observe_sources``).
"""

import importlib

import pytest
from dagster import DagsterInstance, build_sensor_context
from support import day, fixture_platform

from dataplatform.partitions import RANGE_END_TAG, RANGE_START_TAG, partition_range_tags, partitions_start

DAY_1, DAY_2, DAY_3 = (day(k) for k in (1, 2, 3))


def defs_of(location: str):
    return importlib.import_module(f"{location}.definitions").defs()


class Triggers:
    """The domains' triggers on one instance, each with the cursor its last tick left."""

    def __init__(self, instance: DagsterInstance):
        self.instance, self.cursors = instance, {}

    def tick(self, domain: str):
        repo = defs_of(domain).get_repository_def()
        sensor = repo.get_sensor_def(f"{domain}_on_new_data")
        context = build_sensor_context(instance=self.instance, cursor=self.cursors.get(domain), repository_def=repo)
        data = sensor.evaluate_tick(context)
        self.cursors[domain] = data.cursor
        return data

    def run(self, location: str, job: str, request=None, partition: str | None = None):
        """Run ``job`` in process on the instance, as the daemon launches a request."""
        job_def = defs_of(location).resolve_job_def(job)
        tags = dict(request.tags) if request else {}
        if partition and not request:
            tags |= partition_range_tags(partition, partition)
        return job_def.execute_in_process(instance=self.instance, tags=tags, raise_on_error=False,
                                          asset_selection=request.asset_selection if request else None)


def requested(data) -> list[tuple[str | None, str | None, str | None, int | None]]:
    """(partition, range start, range end, assets selected or None for the whole job) per request."""
    return [(r.partition_key, r.tags.get(RANGE_START_TAG),
             r.tags.get(RANGE_END_TAG), len(r.asset_selection) if r.asset_selection else None)
            for r in data.run_requests]


def waits(data) -> dict[str, str]:
    """What a tick that started nothing says each day waits for: day -> ``waits for ...``."""
    return dict(part.split(": ", 1) for part in data.skip_message.split("; "))


@pytest.fixture
def platform(fixture_root, tmp_path):
    """Days 1 to 3 landed, and the crm loaded (as Fivetran does) through day 1, not yet observed."""
    from fixtures.subscriptions.landing import load_crm

    with fixture_platform(fixture_root, tmp_path / "local", days=(1, 2, 3)) as (warehouse, project), \
            DagsterInstance.ephemeral() as instance:
        load_crm(warehouse, partitions_start(), 1)
        yield Triggers(instance), project, tmp_path / "local"


def test_a_domain_starts_when_its_day_is_in_and_only_then(platform):
    triggers, _, _ = platform
    assert not triggers.tick("billing").run_requests
    assert "raw/billing/invoices (not materialized)" in triggers.tick("billing").skip_message

    assert triggers.run("shared_ingest", "ingest_sources", partition=DAY_1).success
    assert triggers.run("shared_ingest", "observe_sources").success  # the crm's day 1
    care = triggers.tick("care")
    assert not care.run_requests
    assert waits(care)[DAY_1] == "waits for billing/accounts (not materialized), billing/invoices (not materialized)"

    [billing_day] = triggers.tick("billing").run_requests
    assert requested(triggers.tick("billing")) == []  # requested once, not at every tick
    assert (billing_day.partition_key, billing_day.asset_selection) == (DAY_1, None)  # the whole domain, one run
    assert triggers.run("billing", "billing_build", billing_day).success

    [care_day] = triggers.tick("care").run_requests
    assert (care_day.partition_key, care_day.asset_selection) == (DAY_1, None)
    assert triggers.run("care", "care_build", care_day).success
    assert not triggers.tick("care").run_requests


def test_care_waits_for_the_crm_until_it_is_observed_loaded_through_the_day(platform):
    """The crm is Fivetran's to load: care's day 2 waits for it, named, while billing's and
    support's day 2 are in; loading it is not enough, its observation (observe_sources) is what
    the trigger reads; once observed through day 2, care's day 2 is requested."""
    from fixtures.subscriptions.landing import load_crm

    triggers, _, local = platform
    warehouse = local / "warehouse.duckdb"  # the crm synced through day 1 only (the fixture)
    assert triggers.run("shared_ingest", "ingest_sources", partition=DAY_1).success
    assert triggers.run("shared_ingest", "observe_sources").success
    [billing_day] = triggers.tick("billing").run_requests
    assert triggers.run("billing", "billing_build", billing_day).success
    [care_day] = triggers.tick("care").run_requests
    assert care_day.partition_key == DAY_1 and triggers.run("care", "care_build", care_day).success

    assert triggers.run("shared_ingest", "ingest_sources", partition=DAY_2).success
    [billing_day] = triggers.tick("billing").run_requests
    assert billing_day.partition_key == DAY_2 and triggers.run("billing", "billing_build", billing_day).success
    assert triggers.run("shared_ingest", "observe_sources").success  # observes nothing new
    waiting = triggers.tick("care")
    assert not waiting.run_requests
    assert waits(waiting)[DAY_2] == "waits for raw/crm/contacts (not observed loaded yet)"

    load_crm(warehouse, partitions_start(), 2)  # Fivetran catches up: day 2 in the warehouse ...
    still = triggers.tick("care")
    assert not still.run_requests  # ... but not observed yet
    assert waits(still)[DAY_2] == "waits for raw/crm/contacts (not observed loaded yet)"

    assert triggers.run("shared_ingest", "observe_sources").success
    [care_day] = triggers.tick("care").run_requests
    assert (care_day.partition_key, care_day.asset_selection) == (DAY_2, None)  # the whole domain, one run
    assert triggers.run("care", "care_build", care_day).success
    assert not triggers.tick("care").run_requests


def test_days_that_arrive_together_are_one_run_and_a_failed_day_waits_named(platform):
    triggers, _, local = platform
    (local / "landing" / "billing" / "invoices" / f"{DAY_3}.csv").write_text("not,a,valid\nexport\n")
    assert triggers.run("shared_ingest", "ingest_sources", partition=DAY_1).success
    for day_ in (DAY_2, DAY_3):
        triggers.run("shared_ingest", "ingest_sources", partition=day_)

    data = triggers.tick("billing")
    # Days 1 and 2, in one run over the range (one dbt build); day 3 waits for its failed invoices.
    assert requested(data) == [(None, DAY_1, DAY_2, None)]
    assert triggers.run("billing", "billing_build", data.run_requests[0]).success
    waiting = triggers.tick("billing")
    assert not waiting.run_requests
    assert f"{DAY_3}: waits for raw/billing/invoices (run " in waiting.skip_message and "failure" in waiting.skip_message


def test_a_model_edit_rebuilds_its_dependents_for_the_latest_day_only(platform):
    triggers, project, _ = platform
    for day_ in (DAY_1, DAY_2):
        assert triggers.run("shared_ingest", "ingest_sources", partition=day_).success
    [both_days] = triggers.tick("billing").run_requests
    assert triggers.run("billing", "billing_build", both_days).success
    assert not triggers.tick("billing").run_requests

    model = project / "models" / "billing" / "intermediate" / "int_invoice_lines_summed_to_invoices.sql"
    model.write_text(model.read_text().replace("select", "select /* edited */", 1))
    [rebuild] = triggers.tick("billing").run_requests
    assert rebuild.partition_key == DAY_2
    assert sorted(k.to_user_string() for k in rebuild.asset_selection) == [
        "billing/accounts", "billing/daily_billing", "billing/int_invoice_lines_summed_to_invoices", "billing/invoices"]
    assert triggers.run("billing", "billing_build", rebuild).success
    assert not triggers.tick("billing").run_requests


def test_a_macro_edit_rebuilds_exactly_the_models_that_call_it_and_their_dependents(platform):
    triggers, project, _ = platform
    assert triggers.run("shared_ingest", "ingest_sources", partition=DAY_1).success
    [day_1] = triggers.tick("billing").run_requests
    assert triggers.run("billing", "billing_build", day_1).success

    macro = project / "macros" / "daily_partition_by.sql"
    macro.write_text(macro.read_text().replace("{{ return(none) }}", "{{- return(none) -}}", 1))
    [rebuild] = triggers.tick("billing").run_requests
    # The incremental event marts call it; accounts reads invoices.
    assert (rebuild.partition_key, sorted(k.to_user_string() for k in rebuild.asset_selection)) == (DAY_1, [
        "billing/accounts", "billing/daily_billing", "billing/invoices"])
