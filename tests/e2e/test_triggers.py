"""Each domain's trigger (its `<domain>_on_new_data` sensor), evaluated on a real instance after
real runs of ingest and of the domains, in process: what it starts, what it waits for, and that a
day it started is not started again. The daemon-driven chain is in tests/platform/test_platform.py."""

import importlib

import pytest
from dagster import DagsterInstance, build_sensor_context
from support import scratch_platform

from dataplatform.partitions import RANGE_END_TAG, RANGE_START_TAG, partition_range_tags
from sourcesim.days import day_date

DAY_1, DAY_2, DAY_3 = (day_date(n).isoformat() for n in (1, 2, 3))


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


@pytest.fixture
def platform(tmp_path):
    with scratch_platform(tmp_path / "local", days=(1, 2, 3)) as (warehouse, project), \
            DagsterInstance.ephemeral() as instance:
        yield Triggers(instance), project, tmp_path / "local"


def test_a_domain_starts_when_its_day_is_in_and_only_then(platform):
    triggers, _, _ = platform
    assert not triggers.tick("sales").run_requests
    assert "raw/shop/orders (not materialized)" in triggers.tick("sales").skip_message

    assert triggers.run("shared_ingest", "ingest_sources", partition=DAY_1).success
    inventory = triggers.tick("inventory")
    assert not inventory.run_requests and f"{DAY_1}: waits for sales/order_items" in inventory.skip_message

    [sales_day] = triggers.tick("sales").run_requests
    assert requested(triggers.tick("sales")) == []  # requested once, not at every tick
    assert (sales_day.partition_key, sales_day.asset_selection) == (DAY_1, None)  # the whole domain, one run
    assert triggers.run("sales", "sales_build", sales_day).success

    [inventory_day] = triggers.tick("inventory").run_requests
    assert inventory_day.partition_key == DAY_1
    assert triggers.run("inventory", "inventory_build", inventory_day).success
    assert not triggers.tick("inventory").run_requests


def test_days_that_arrive_together_are_one_run_and_a_failed_day_waits_named(platform):
    triggers, _, local = platform
    (local / "landing" / "shop" / "orders" / f"{DAY_3}.csv").write_text("not,a,valid\nexport\n")
    assert triggers.run("shared_ingest", "ingest_sources", partition=DAY_1).success
    for day in (DAY_2, DAY_3):
        triggers.run("shared_ingest", "ingest_sources", partition=day)

    data = triggers.tick("sales")
    # Days 1 and 2, in one run over the range (one dbt build); day 3 waits for its failed orders.
    assert requested(data) == [(None, DAY_1, DAY_2, None)]
    assert triggers.run("sales", "sales_build", data.run_requests[0]).success
    waiting = triggers.tick("sales")
    assert not waiting.run_requests
    assert f"{DAY_3}: waits for raw/shop/orders (run " in waiting.skip_message and "failure" in waiting.skip_message


def test_a_model_edit_rebuilds_its_dependents_for_the_latest_day_only(platform):
    triggers, project, _ = platform
    for day in (DAY_1, DAY_2):
        assert triggers.run("shared_ingest", "ingest_sources", partition=day).success
    [both_days] = triggers.tick("sales").run_requests
    assert triggers.run("sales", "sales_build", both_days).success
    assert not triggers.tick("sales").run_requests

    model = project / "models" / "sales" / "intermediate" / "int_payments_summed_to_orders.sql"
    model.write_text(model.read_text().replace("select", "select /* edited */", 1))
    [rebuild] = triggers.tick("sales").run_requests
    assert rebuild.partition_key == DAY_2
    assert sorted(k.to_user_string() for k in rebuild.asset_selection) == [
        "sales/customers", "sales/int_payments_summed_to_orders", "sales/orders"]
    assert triggers.run("sales", "sales_build", rebuild).success
    assert not triggers.tick("sales").run_requests


def test_a_macro_edit_rebuilds_exactly_the_models_that_call_it_and_their_dependents(platform):
    triggers, project, _ = platform
    assert triggers.run("shared_ingest", "ingest_sources", partition=DAY_1).success
    [day] = triggers.tick("sales").run_requests
    assert triggers.run("sales", "sales_build", day).success

    macro = project / "macros" / "daily_partition_by.sql"
    macro.write_text(macro.read_text().replace("{{ return(none) }}", "{{- return(none) -}}", 1))
    [rebuild] = triggers.tick("sales").run_requests
    # The incremental event marts call it; customers reads orders.
    assert (rebuild.partition_key, sorted(k.to_user_string() for k in rebuild.asset_selection)) == (DAY_1, [
        "sales/customers", "sales/daily_revenue", "sales/order_items", "sales/orders"])
