"""Code versions follow macros (dagster#22566): an edit marks exactly the assets it changes.

Real dbt parses of a scratch copy of the platform's test project (tests/fixtures/subscriptions);
the versions are read from the domain locations' own definitions, as the UI shows them.
"""

import pytest
from support import copy_dbt_project, fixture_domains

# A macro that calls another, and one model that uses the outer one: the inner macro reaches the
# model only through the outer one.
CENTS_MACROS = """
{% macro in_cents(column) %}{{ rounded_to_cents(column) }}{% endmacro %}
{% macro rounded_to_cents(column) %}cast(round({{ column }} * 100) as bigint){% endmacro %}
"""
BILLED_IN_CENTS = "select invoice_date, {{ in_cents('billed_amount') }} as billed_cents from {{ ref('daily_billing') }}\n"


@pytest.fixture
def project(tmp_path, platform_env, monkeypatch, fixture_root):
    project = copy_dbt_project(tmp_path / "dbt", fixture_root / "dbt")
    (project / "macros" / "in_cents.sql").write_text(CENTS_MACROS)
    (project / "models" / "billing" / "marts" / "billed_in_cents.sql").write_text(BILLED_IN_CENTS)
    monkeypatch.setenv("DBT_PROJECT_DIR", str(project))
    return project


def code_versions() -> dict[str, str]:
    """Every dbt asset's code version, from both domain locations' definitions."""
    from dataplatform.domain import build_domain_definitions

    specs = [
        spec
        for domain in fixture_domains()
        for spec in build_domain_definitions(domain, marts_fresh_by="0 7 * * *")
        .resolve_all_asset_specs()
        if spec.key.path[0] == domain
    ]
    return {spec.key.to_user_string(): spec.code_version for spec in specs}


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    assert before.keys() == after.keys()
    return {key for key in before if before[key] != after[key]}


def test_a_macro_edit_changes_exactly_the_versions_of_the_models_that_use_it(project):
    versions = code_versions()
    assert all(versions.values()), [key for key, version in versions.items() if not version]

    # Called through another macro only.
    edit(project / "macros" / "in_cents.sql", "round({{ column }} * 100)", "round({{ column }} * 100, 0)")
    after_inner = code_versions()
    assert changed(versions, after_inner) == {"billing/billed_in_cents"}

    # Called directly by the incremental event models of both domains.
    edit(project / "macros" / "daily_partition_by.sql", "{{ return(none) }}", "{{- return(none) -}}")
    after_partitioning = code_versions()
    assert changed(after_inner, after_partitioning) == {"billing/invoices", "billing/daily_billing", "care/tickets"}


def test_an_edit_of_a_vendored_packages_macro_changes_the_models_that_use_it(project):
    """subscription_utils.to_cents (dbt/vendor, installed by `dbt deps` as a link) is called by
    billing's invoices only."""
    versions = code_versions()
    edit(project / "vendor" / "subscription_utils" / "macros" / "money.sql", "* 100)", "* 100.0)")
    assert changed(versions, code_versions()) == {"billing/invoices"}


def test_a_model_edit_changes_its_own_version_only(project):
    versions = code_versions()
    edit(project / "models" / "billing" / "marts" / "accounts.sql", "select", "select /* edited */", )
    assert changed(versions, code_versions()) == {"billing/accounts"}


def test_an_edit_of_the_schema_name_macro_changes_every_model_and_snapshot(project):
    """generate_schema_name is in no node's depends_on.macros, yet it places every relation."""
    versions = code_versions()
    edit(project / "macros" / "generate_schema_name.sql", "node) -%}", "node) -%}{#- edited -#}")
    assert changed(versions, code_versions()) == set(versions)
