"""A failed run says what to do: a domain run on a warehouse the ingest never loaded names the
missing asset and the code location that makes it, beside dbt's own error."""

from support import execute_job, point_platform_at


def test_a_domain_run_before_ingest_names_the_missing_asset_and_its_location(tmp_path, monkeypatch):
    point_platform_at(monkeypatch, tmp_path)
    result = execute_job("inventory", "inventory_snapshots")

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "raw/erp/products of code location shared_ingest" in message, message[:2000]
    assert 'Table with name "raw_erp.products" does not exist' in message  # dbt's own error, kept
