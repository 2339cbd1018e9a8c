"""The rules between domains: dbt refuses a ref to another domain's private model, and the
project follows dbt Labs' rules for contracts, source freshness and primary-key tests."""

import subprocess

import yaml
from support import REPO, copy_dbt_project

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


# dbt-project-evaluator's default primary_key_test_macros.
EVALUATOR_DEFAULT = [["dbt.test_unique", "dbt.test_not_null"], ["dbt_utils.test_unique_combination_of_columns"]]


def project_primary_key_test_macros() -> list[list[str]]:
    return yaml.safe_load((REPO / "dbt" / "dbt_project.yml").read_text())["vars"]["primary_key_test_macros"]


def primary_key_tests(manifest, primary_key_test_macros: list[list[str]]) -> dict[str, set[tuple]]:
    """For each model, the primary-key test sets it carries, by dbt-project-evaluator's rule: every
    test macro of one set of ``primary_key_test_macros`` on one column (or on the model, for a
    test of several columns)."""
    test_sets = [set(macros) for macros in primary_key_test_macros]
    macros_on: dict[tuple[str, str | None], set[str]] = {}
    for test in manifest["nodes"].values():
        if test["resource_type"] == "test" and test.get("attached_node"):
            macros = {m.removeprefix("macro.") for m in test["depends_on"]["macros"]}
            macros_on.setdefault((test["attached_node"], test.get("column_name")), set()).update(macros)
    keyed: dict[str, set[tuple]] = {}
    for (model, column), macros in macros_on.items():
        for test_set in test_sets:
            if test_set <= macros:
                keyed.setdefault(model, set()).add((column, *sorted(test_set)))
    return keyed


def models_without_primary_key_test(manifest, primary_key_test_macros) -> list[str]:
    keyed = primary_key_tests(manifest, primary_key_test_macros)
    return sorted(n["name"] for uid, n in manifest["nodes"].items() if n["resource_type"] == "model" and uid not in keyed)


def test_every_model_has_a_primary_key_test_by_the_evaluators_rule(manifest):
    assert models_without_primary_key_test(manifest, project_primary_key_test_macros()) == []


def test_the_project_declares_its_key_test_to_the_evaluator(manifest):
    """Without the project's variable, the evaluator's default flags exactly the models keyed by
    the project's unique_combination: the variable is what makes the two agree."""
    assert models_without_primary_key_test(manifest, EVALUATOR_DEFAULT) == [
        "int_stock_movements_summed_to_days", "int_stock_movements_summed_to_levels"]


def test_every_mart_and_only_the_marts_publish_blue_green_from_a_blue_schema(manifest):
    """Consumers read the marts: those and only those are built blue, in their schema's blue twin
    (sales_blue), and published green onto the schema consumers read, which holds nothing else."""
    from dataplatform.publishing import BLUE_SUFFIX, green_relation, green_schema, is_blue_green, is_mart

    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert {n["unique_id"] for n in models if is_blue_green(n)} == {n["unique_id"] for n in models if "marts" in n["fqn"]}
    green_schemas = {green_schema(n) for n in models if is_blue_green(n)}
    assert green_schemas == {"sales", "inventory"}
    for node in models:
        assert node["schema"].endswith(BLUE_SUFFIX) == is_mart(node) == is_blue_green(node), node["unique_id"]
        assert node["schema"] not in green_schemas, f"{node['unique_id']} is built where consumers read published marts"
        if is_blue_green(node):
            assert node["config"]["materialized"] in ("table", "incremental"), node["unique_id"]
    order_items = manifest["nodes"]["model.warehouse.order_items.v1"]
    assert green_relation(order_items).split(".")[1:] == ["sales", "order_items"]
