"""The translator turns dbt nodes into keys, groups and owners by one rule."""

import pytest
from dagster import AssetKey

from dataplatform.dbt.translator import PlatformTranslator, UngroupedNodeError


def node(resource_type="model", name="invoices", group="billing", **extra):
    return {
        "resource_type": resource_type,
        "name": name,
        "unique_id": f"{resource_type}.warehouse.{name}",
        "original_file_path": f"models/{group}/marts/{name}.sql",
        "config": {"group": group},
        **extra,
    }


def test_source_key_matches_the_ingest_rule():
    props = {"resource_type": "source", "source_name": "support", "name": "tickets", "unique_id": "source.warehouse.support.tickets"}
    translator = PlatformTranslator()
    assert translator.get_asset_key(props) == AssetKey(["raw", "support", "tickets"])
    assert translator.get_group_name(props) is None


@pytest.mark.parametrize("resource_type", ["model", "snapshot"])
def test_models_and_snapshots_are_keyed_and_grouped_by_domain(resource_type):
    translator = PlatformTranslator()
    props = node(resource_type, "accounts_snapshot", "billing")
    assert translator.get_asset_key(props) == AssetKey(["billing", "accounts_snapshot"])
    assert translator.get_group_name(props) == "billing"


def test_a_node_without_group_is_refused_with_its_file():
    props = node(group=None)
    with pytest.raises(UngroupedNodeError, match="models/None/marts/invoices.sql"):
        PlatformTranslator().get_asset_key(props)


def test_owners_come_from_the_dbt_group():
    props = node(group="billing", group_props=None)
    props["group"] = {"name": "billing", "owner": {"email": "billing-data@example.com"}}
    assert PlatformTranslator().get_owners(props) == ["billing-data@example.com"]


def versioned_manifest(config=None, macros=None):
    """A manifest of one model calling macro a, which calls b, which calls a back."""
    macros = macros or {"a": "{{ b() }}", "b": "{{ a() }}"}
    return {
        "nodes": {"model.warehouse.invoices": {**node(), "raw_code": "select {{ a() }}",
                                             "depends_on": {"macros": ["macro.a"], "nodes": []},
                                             "config": {"group": "billing", "materialized": "table", **(config or {})}}},
        "macros": {
            "macro.a": {"macro_sql": macros["a"], "depends_on": {"macros": ["macro.b"]}},
            "macro.b": {"macro_sql": macros["b"], "depends_on": {"macros": ["macro.a"]}},
        },
    }


def test_a_code_version_follows_the_config_that_shapes_the_output_not_tags_or_owners():
    from dataplatform.dbt.translator import CodeVersions

    def version(**kwargs):
        return CodeVersions(versioned_manifest(**kwargs)).of("model.warehouse.invoices")

    assert version() == version(config={"tags": ["critical"], "meta": {"x": 1}, "group": "billing"})
    assert version() != version(config={"materialized": "incremental"})
    assert version() != version(macros={"a": "{{ b() }}", "b": "{{ a() }} -- edited"})  # through a cycle


def test_versions_of_a_model_are_keyed_by_their_relations():
    translator = PlatformTranslator()
    v1 = node(name="invoices", version=1, alias="invoices")
    v2 = node(name="invoices", version=2, alias="invoices_v2")
    assert translator.get_asset_key(v1) == AssetKey(["billing", "invoices"])
    assert translator.get_asset_key(v2) == AssetKey(["billing", "invoices_v2"])
