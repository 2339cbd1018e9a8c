"""A failed run says what to do: a domain run on a warehouse the ingest never loaded names the
missing asset and the code location that makes it, beside dbt's own error."""

from support import execute_job, point_platform_at


def test_a_domain_run_before_ingest_names_the_missing_asset_and_its_location(tmp_path, monkeypatch):
    point_platform_at(monkeypatch, tmp_path)
    result = execute_job("inventory", "inventory_build", "2026-01-01")

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "raw/erp/products of code location shared_ingest" in message, message[:2000]
    assert 'Table with name "raw_erp.products" does not exist' in message  # dbt's own error, kept


def test_a_step_that_raises_mid_build_ends_its_dbt_before_the_step_ends(tmp_path, monkeypatch):
    """Whatever raises while an op reads dbt's events, its dbt is stopped and waited for: no dbt
    survives the step, and the warehouse file is free for the next run."""
    import duckdb
    import psutil

    from dataplatform import dbt_op
    from sourcesim.days import day_date
    from sourcesim.generator import generate_day

    warehouse = point_platform_at(monkeypatch, tmp_path)
    generate_day(str(tmp_path / "landing"), 1, scale=0.05)
    day = day_date(1).isoformat()
    assert execute_job("shared_ingest", "ingest_sources", day).success

    def raise_after_first_event(context, events, *publishing):
        yield next(iter(events))  # dbt is now building
        raise RuntimeError("the op raised mid-build")

    monkeypatch.setattr(dbt_op, "report_publishing", raise_after_first_event)
    result = execute_job("sales", "sales_build", day)

    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures and "the op raised mid-build" in failures[0].step_failure_data.error.to_string()
    assert not [p for p in psutil.Process().children(recursive=True) if "dbt" in " ".join(p.cmdline())]
    duckdb.connect(str(warehouse)).close()  # not locked by a dbt left running
