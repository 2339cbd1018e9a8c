"""The rules between domains: dbt refuses a ref to another domain's private model, and the
project follows dbt Labs' rules for contracts, source freshness and primary-key tests."""

import subprocess

from support import copy_dbt_project

from dataplatform.dbt_project import dbt_executable


def test_a_forbidden_cross_domain_ref_fails_parse_naming_the_model(tmp_path, platform_env):
    project = copy_dbt_project(tmp_path / "dbt")
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
    project = copy_dbt_project(tmp_path / "dbt")
    (project / "models" / "inventory" / "marts" / "units_sold.sql").write_text(
        "select product_id, sum(quantity) as units from {{ ref('order_items') }} group by product_id\n"
    )
    result = subprocess.run(
        [dbt_executable(), "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]


# dbt Labs' project rules (dbt-project-evaluator) for the domain boundary, checked on the
# manifest: the package itself needs the dbt hub, which CI cannot reach.


def test_every_public_model_has_an_enforced_contract_with_every_column_typed_and_described(manifest):
    public = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["access"] == "public"]
    assert {n["name"] for n in public} >= {"orders", "order_items", "customers", "products"}
    for node in public:
        assert node["config"]["contract"]["enforced"], f"{node['name']}: no enforced contract"
        undescribed = [c for c, column in node["columns"].items() if not column["description"] or not column["data_type"]]
        assert node["columns"] and not undescribed, f"{node['name']}: columns without a type or description: {undescribed}"


def test_every_source_declares_freshness_with_a_warning_and_an_error(manifest):
    for source in manifest["sources"].values():
        freshness = source["freshness"] or {}
        assert source["loaded_at_field"], source["unique_id"]
        for level in ("warn_after", "error_after"):
            assert (freshness.get(level) or {}).get("count"), f"{source['unique_id']}: no freshness {level}"


def primary_key_tests(manifest) -> dict[str, set[str]]:
    """For each model, how its key is tested: a column with unique and not_null, or a
    unique_combination of columns."""
    tests_by_column: dict[tuple[str, str], set[str]] = {}
    keyed: dict[str, set[str]] = {}
    for test in manifest["nodes"].values():
        if test["resource_type"] != "test" or not (metadata := test.get("test_metadata")):
            continue
        model = test.get("attached_node")
        if metadata["name"] == "unique_combination":
            keyed.setdefault(model, set()).add("unique_combination")
        elif metadata["name"] in ("unique", "not_null") and test.get("column_name"):
            tests_by_column.setdefault((model, test["column_name"]), set()).add(metadata["name"])
    for (model, column), names in tests_by_column.items():
        if names == {"unique", "not_null"}:
            keyed.setdefault(model, set()).add(column)
    return keyed


def test_every_model_has_a_primary_key_test(manifest):
    keyed = primary_key_tests(manifest)
    models = [n["unique_id"] for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert [m for m in models if m not in keyed] == []


def test_every_mart_and_only_the_marts_publish_blue_green_from_a_blue_schema(manifest):
    """Consumers read the marts: those and only those are built blue, in their schema's blue twin
    (sales_blue), and published green onto the schema consumers read, which holds nothing else."""
    from dataplatform.translator import BLUE_SUFFIX, green_relation, green_schema, is_blue_green

    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert {n["unique_id"] for n in models if is_blue_green(n)} == {n["unique_id"] for n in models if "marts" in n["fqn"]}
    green_schemas = {green_schema(n) for n in models if is_blue_green(n)}
    assert green_schemas == {"sales", "inventory"}
    for node in models:
        assert node["schema"].endswith(BLUE_SUFFIX) == is_blue_green(node), node["unique_id"]
        assert node["schema"] not in green_schemas, f"{node['unique_id']} is built where consumers read published marts"
        if is_blue_green(node):
            assert node["config"]["materialized"] in ("table", "incremental"), node["unique_id"]
    order_items = manifest["nodes"]["model.warehouse.order_items.v1"]
    assert green_relation(order_items).split(".")[1:] == ["sales", "order_items"]
