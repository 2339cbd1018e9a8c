"""The key rule, the dbt selections and the pool names: the contracts every location relies on."""

import pytest
from dagster import AssetKey

from dataplatform.domain import count_nodes, domain_selection, domain_slices, domain_snapshot_selection
from dataplatform.keys import dbt_node_asset_key, raw_schema, snapshot_pool, source_asset_key
from shared_ingest.tables import SOURCE_TABLES


def test_source_key_is_raw_source_table():
    assert source_asset_key("shop", "customers") == AssetKey(["raw", "shop", "customers"])


def test_every_ingest_table_takes_the_source_key_rule():
    for table in SOURCE_TABLES:
        assert table.asset_key == source_asset_key(table.source, table.name)
        assert table.schema == raw_schema(table.source) == f"raw_{table.source}"


def test_dbt_node_key_is_domain_then_name():
    assert dbt_node_asset_key("sales", "orders") == AssetKey(["sales", "orders"])


@pytest.mark.parametrize("domain", ["sales", "inventory"])
def test_selections_and_pool_follow_the_domain_name(domain):
    assert domain_selection(domain) == f"group:{domain}"
    assert domain_snapshot_selection(domain) == f"group:{domain},resource_type:snapshot"
    assert snapshot_pool(domain) == f"{domain}_snapshots"


def test_count_nodes_counts_one_domain_and_type():
    manifest = {
        "nodes": {
            "model.a": {"resource_type": "model", "config": {"group": "sales"}},
            "model.b": {"resource_type": "model", "config": {"group": "inventory"}},
            "snapshot.c": {"resource_type": "snapshot", "config": {"group": "sales"}},
            "test.d": {"resource_type": "test", "config": {"group": "sales"}},
        }
    }
    assert count_nodes(manifest, "sales", "model") == 1
    assert count_nodes(manifest, "sales", "snapshot") == 1
    assert count_nodes(manifest, "inventory", "snapshot") == 0


def test_domain_slices_split_event_models_from_the_rest_with_their_tests():
    """Event models and their event sources go to the partitioned op; the rest and its sources
    to the unpartitioned one, which also runs (by name) a test that reads both."""
    def node(uid, kind, group=None, event_time=None, parents=()):
        return uid, {"unique_id": uid, "name": uid.split(".")[-1], "resource_type": kind,
                     "config": {"group": group, "event_time": event_time}, "depends_on": {"nodes": list(parents)}}

    def source(uid, event_time=None):
        _, source_name, name = uid.split(".", 2)
        return uid, {"source_name": source_name, "name": name, "config": {"event_time": event_time}}

    manifest = {
        "sources": dict([source("source.shop.orders", "_export_date"), source("source.shop.customers")]),
        "nodes": dict([
            node("model.orders", "model", "sales", "order_date", ["source.shop.orders"]),
            node("model.customers", "model", "sales", None, ["model.orders", "source.shop.customers"]),
            node("model.products", "model", "inventory", None),
            node("test.unique_orders", "test", "sales", None, ["model.orders"]),
            node("test.every_order_has_a_customer", "test", "sales", None, ["model.orders", "model.customers"]),
        ]),
    }
    slices = domain_slices(manifest, "sales")
    assert slices.events == ["orders", "source:shop.orders"]
    assert slices.models == ["customers", "source:shop.customers", "every_order_has_a_customer"]
