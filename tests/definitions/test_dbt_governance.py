"""The rules between domains: dbt refuses a ref to another domain's private model, and the
project follows dbt Labs' rules for contracts, source freshness and primary-key tests.

The rules are checked on the workspace's own dbt project (whatever domains it declares) and on the
platform's test project (tests/fixtures/subscriptions), which shows what they see; the edits that
break them are made in a scratch copy of the test project.
"""

import subprocess

import pytest
import yaml
from support import REPO, copy_dbt_project

from dataplatform.dbt.project import dbt_executable


def dbt(project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([dbt_executable(), *args, "--project-dir", str(project), "--profiles-dir", str(project)],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def scratch_project(tmp_path, platform_env, fixture_root):
    """A copy of the test project with its packages installed (`dbt deps`: a local package, offline)."""
    project = copy_dbt_project(tmp_path / "dbt", fixture_root / "dbt")
    deps = dbt(project, "deps")
    assert deps.returncode == 0, deps.stdout[-3000:]
    return project


def test_a_forbidden_cross_domain_ref_fails_parse_naming_the_model(scratch_project):
    offending = scratch_project / "models" / "billing" / "marts" / "invoices_with_tickets.sql"
    offending.write_text("select * from {{ ref('stg_support__tickets') }}\n")  # care's, private
    result = dbt(scratch_project, "parse")
    assert result.returncode != 0
    assert "invoices_with_tickets" in result.stdout
    assert "stg_support__tickets" in result.stdout
    assert "private" in result.stdout


def test_the_public_cross_domain_ref_parses(scratch_project):
    (scratch_project / "models" / "care" / "marts" / "invoices_per_account.sql").write_text(
        "select account_id, count(*) as invoices from {{ ref('invoices', v=1) }} group by account_id\n"
    )
    result = dbt(scratch_project, "parse")
    assert result.returncode == 0, result.stdout[-3000:]


# dbt Labs' project rules (dbt-project-evaluator) for the domain boundary, checked on the
# manifest: the package itself needs the dbt hub, which CI cannot reach.


def public_models(manifest) -> list[dict]:
    """The public models, each checked: an enforced contract, every column typed and described."""
    public = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["access"] == "public"]
    for node in public:
        assert node["config"]["contract"]["enforced"], f"{node['name']}: no enforced contract"
        undescribed = [c for c, column in node["columns"].items() if not column["description"] or not column["data_type"]]
        assert node["columns"] and not undescribed, f"{node['name']}: columns without a type or description: {undescribed}"
    return public


def test_every_public_model_has_an_enforced_contract_with_every_column_typed_and_described(manifest):
    public_models(manifest)


def test_the_test_projects_public_models_have_their_contracts(fixture_manifest):
    assert {n["unique_id"] for n in public_models(fixture_manifest)} == {"model.warehouse.invoices.v1",
                                                                          "model.warehouse.accounts"}


def sources_with_freshness(manifest) -> set[str]:
    """Every source, each checked: freshness with a warning and an error, on its loaded_at_field."""
    for source in manifest["sources"].values():
        freshness = source["freshness"] or {}
        assert source["loaded_at_field"], source["unique_id"]
        for level in ("warn_after", "error_after"):
            assert (freshness.get(level) or {}).get("count"), f"{source['unique_id']}: no freshness {level}"
    return set(manifest["sources"])


def test_every_source_declares_freshness_with_a_warning_and_an_error(manifest):
    sources_with_freshness(manifest)


def test_every_source_of_the_test_project_declares_freshness_including_the_observed_one(fixture_manifest):
    assert sources_with_freshness(fixture_manifest) == {
        "source.warehouse.billing.accounts", "source.warehouse.billing.invoices", "source.warehouse.billing.invoice_lines",
        "source.warehouse.support.tickets", "source.warehouse.crm.contacts"}
    assert fixture_manifest["sources"]["source.warehouse.crm.contacts"]["loaded_at_field"] == "_fivetran_synced"


# dbt-project-evaluator's default primary_key_test_macros.
EVALUATOR_DEFAULT = [["dbt.test_unique", "dbt.test_not_null"], ["dbt_utils.test_unique_combination_of_columns"]]


def project_primary_key_test_macros(project=REPO / "dbt") -> list[list[str]]:
    return yaml.safe_load((project / "dbt_project.yml").read_text())["vars"]["primary_key_test_macros"]


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


def test_every_model_of_the_test_project_has_a_primary_key_test(fixture_manifest, fixture_root):
    assert models_without_primary_key_test(fixture_manifest, project_primary_key_test_macros(fixture_root / "dbt")) == []


def test_the_project_declares_its_key_test_to_the_evaluator(fixture_manifest, fixture_root):
    """Without the project's variable, the evaluator's default flags exactly the models keyed by
    the project's unique_combination (the invoice lines, keyed by invoice and line number): the
    variable is what makes the two agree."""
    assert models_without_primary_key_test(fixture_manifest, EVALUATOR_DEFAULT) == ["stg_billing__invoice_lines"]
    assert ["warehouse.test_unique_combination"] in project_primary_key_test_macros(fixture_root / "dbt")


def blue_green_schemas(manifest) -> set[str]:
    """Consumers read the marts: those and only those are built blue, in their schema's blue twin,
    and published green onto the schema consumers read, which holds nothing else. Returns the
    green schemas."""
    from dataplatform.publishing import BLUE_SUFFIX, green_schema, is_blue_green, is_mart

    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert {n["unique_id"] for n in models if is_blue_green(n)} == {n["unique_id"] for n in models if "marts" in n["fqn"]}
    green_schemas = {green_schema(n) for n in models if is_blue_green(n)}
    for node in models:
        assert node["schema"].endswith(BLUE_SUFFIX) == is_mart(node) == is_blue_green(node), node["unique_id"]
        assert node["schema"] not in green_schemas, f"{node['unique_id']} is built where consumers read published marts"
        if is_blue_green(node):
            assert node["config"]["materialized"] in ("table", "incremental"), node["unique_id"]
    return green_schemas


def test_every_mart_and_only_the_marts_publish_blue_green_from_a_blue_schema(manifest):
    blue_green_schemas(manifest)


def test_the_test_projects_marts_publish_blue_green_onto_their_domains_schemas(fixture_manifest):
    """billing's marts are built in billing_blue and published onto billing; a versioned mart's
    green relation is its alias (invoices v1: billing.invoices)."""
    from dataplatform.publishing import green_relation

    assert blue_green_schemas(fixture_manifest) == {"billing", "care"}
    invoices = fixture_manifest["nodes"]["model.warehouse.invoices.v1"]
    assert invoices["schema"] == "billing_blue"
    assert green_relation(invoices).split(".")[1:] == ["billing", "invoices"]
