"""The key rule, the dbt selections and the pool names: the contracts every location relies on."""

import pytest
from dagster import AssetKey

from dataplatform.dbt.plan import domain_selection
from dataplatform.keys import dbt_node_asset_key, snapshot_pool, source_asset_key


def test_source_key_is_raw_source_table():
    assert source_asset_key("billing", "accounts") == AssetKey(["raw", "billing", "accounts"])


def test_dbt_node_key_is_domain_then_name():
    assert dbt_node_asset_key("billing", "invoices") == AssetKey(["billing", "invoices"])


@pytest.mark.parametrize("domain", ["billing", "care"])
def test_selections_and_pool_follow_the_domain_name(domain):
    assert domain_selection(domain) == f"group:{domain}"
    assert snapshot_pool(domain) == f"{domain}_snapshots"
