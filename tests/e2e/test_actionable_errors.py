"""A failed run says what to do: a domain run on a warehouse the ingest never loaded names the
missing asset and the code location that makes it, beside dbt's own error.

On the platform's test project (tests/fixtures/subscriptions), a scratch copy of its dbt project.
"""

from support import day, execute_job, fixture_platform


def test_a_domain_run_before_ingest_names_the_missing_asset_and_its_location(fixture_root, tmp_path):
    """Day 1 landed (and the crm loaded, as Fivetran does), but ingest never ran: care's build
    fails on support's tickets, which shared_ingest makes."""
    with fixture_platform(fixture_root, tmp_path, days=(1,)):
        result = execute_job("care", "care_build", day(1))

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "raw/support/tickets of code location shared_ingest" in message, message[:2000]
    assert 'Table with name "raw_support.tickets" does not exist' in message  # dbt's own error, kept


def test_a_step_that_raises_mid_build_ends_its_dbt_before_the_step_ends(fixture_root, tmp_path, monkeypatch):
    """Whatever raises while an op reads dbt's events, its dbt is stopped and waited for: no dbt
    survives the step, and the warehouse file is free for the next run."""
    import duckdb
    import psutil

    from dataplatform.dbt import op as dbt_op

    def raise_after_first_event(context, events, *publishing):
        yield next(iter(events))  # dbt is now building
        raise RuntimeError("the op raised mid-build")

    with fixture_platform(fixture_root, tmp_path, days=(1,)) as (warehouse, _):
        assert execute_job("shared_ingest", "ingest_sources", day(1)).success
        monkeypatch.setattr(dbt_op, "report_publishing", raise_after_first_event)
        result = execute_job("billing", "billing_build", day(1))

    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures and "the op raised mid-build" in failures[0].step_failure_data.error.to_string()
    assert not [p for p in psutil.Process().children(recursive=True) if "dbt" in " ".join(p.cmdline())]
    duckdb.connect(str(warehouse)).close()  # not locked by a dbt left running
