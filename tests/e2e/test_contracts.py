"""What the domains promise each other: public models are contracts (a breaking change to one
fails the PRODUCER's build, with dbt's contract error naming the column, and leaves the table its
consumers read as it was), and sources are fresh by dbt's own freshness check.

Real dbt and DuckDB: a day is built by the platform from a scratch copy of the project, then
the copy's public ``order_items`` is broken three ways and sales' build is run again.
"""

import subprocess

import pytest
from dataplatform.dbt_project import dbt_executable
from shared_ingest.generator import generate_day
from shared_ingest.landing import day_date
from support import copy_dbt_project, execute_job, materialized, point_platform_at, query, run_days

DAY_1 = day_date(1).isoformat()
ORDER_ITEMS = "models/sales/marts/order_items.sql"

# How sales could break its public order_items, and the column dbt's error must name.
BREAKS = {
    "dropped": (",\n        order_items.line_amount\n", "\n", "line_amount"),
    "renamed": ("order_items.line_amount\n", "order_items.line_amount as amount\n", "line_amount"),
    "retyped": ("order_items.quantity,", "cast(order_items.quantity as varchar) as quantity,", "quantity"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Day 1 through the platform, built from a scratch copy of the dbt project."""
    mp = pytest.MonkeyPatch()
    local = tmp_path_factory.mktemp("contracts")
    warehouse = point_platform_at(mp, local)
    project = copy_dbt_project(local / "dbt")
    mp.setenv("DBT_PROJECT_DIR", str(project))
    generate_day(str(local / "landing"), 1, scale=0.05)
    run_days(DAY_1)
    yield warehouse, project
    mp.undo()


def table_hash(warehouse, relation: str) -> tuple:
    return query(warehouse, f"select count(*), md5(string_agg(t::varchar, '|' order by t::varchar)) from {relation} t")[0]


@pytest.mark.parametrize("change", BREAKS)
def test_a_breaking_change_to_a_public_model_fails_the_producer_naming_the_column(built, change):
    warehouse, project = built
    old, new, column = BREAKS[change]
    model = project / ORDER_ITEMS
    original = model.read_text()
    assert old in original
    before = table_hash(warehouse, "sales.order_items")
    model.write_text(original.replace(old, new, 1))
    try:
        result = execute_job("sales", "sales_build", DAY_1)
    finally:
        model.write_text(original)

    assert not result.success
    assert "sales/order_items" not in materialized(result)
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.error.message
    assert "contract" in message.lower() and column in message, message[-3000:]
    assert table_hash(warehouse, "sales.order_items") == before  # what inventory reads is untouched


def test_dbt_source_freshness_passes_on_the_day_just_loaded(built, tmp_path):
    _, project = built
    result = subprocess.run(
        [dbt_executable(), "source", "freshness", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(tmp_path / "target")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.count("PASS freshness of") == 8, result.stdout[-3000:]
    assert "WARN freshness of" not in result.stdout
