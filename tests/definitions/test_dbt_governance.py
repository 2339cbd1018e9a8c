"""dbt itself refuses a ref from one domain to another domain's private model."""

import subprocess

from dataplatform.dbt_project import dbt_executable
from definitions.test_manifest_preparation import scratch_project


def test_a_forbidden_cross_domain_ref_fails_parse_naming_the_model(tmp_path, platform_env):
    project = scratch_project(tmp_path)
    offending = project / "models" / "sales" / "marts" / "sales_with_stock.sql"
    offending.write_text("select * from {{ ref('stock_levels') }}\n")  # inventory, private
    result = subprocess.run(
        [dbt_executable(), "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0
    assert "sales_with_stock" in result.stdout
    assert "stock_levels" in result.stdout
    assert "private" in result.stdout


def test_the_public_cross_domain_ref_parses(tmp_path, platform_env):
    project = scratch_project(tmp_path)
    (project / "models" / "inventory" / "marts" / "units_sold.sql").write_text(
        "select product_id, sum(quantity) as units from {{ ref('order_items') }} group by product_id\n"
    )
    result = subprocess.run(
        [dbt_executable(), "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
