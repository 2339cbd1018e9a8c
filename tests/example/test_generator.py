"""The example's simulated source systems: deterministic, and the data moves from one day to the next."""

from datetime import date

import numpy as np
import pytest

from dataplatform.landing import day_file, file_date, files_to_load, latest_day, partition_file
from dataplatform.partitions import PARTITIONS_START_VARIABLE, partitions_start
from sourcesim.days import day_date, day_number
from sourcesim.generator import Volume, day_tables, generate_day, next_day


def test_same_seed_same_data():
    first, second = day_tables(7, 0.1, 3), day_tables(7, 0.1, 3)
    for name in first:
        for column in first[name]:
            np.testing.assert_array_equal(first[name][column], second[name][column])


def test_another_seed_other_data():
    assert not np.array_equal(day_tables(1, 0.1, 1)["orders"]["customer_id"], day_tables(2, 0.1, 1)["orders"]["customer_id"])


def test_day_two_changes_customers_and_prices_and_adds_orders():
    day1, day2 = day_tables(42, 0.1, 1), day_tables(42, 0.1, 2)
    n1 = day1["customers"]["customer_id"].size
    assert day2["customers"]["customer_id"].size == n1 + Volume.for_scale(0.1).new_customers_per_day
    changed = (day1["customers"]["tier"] != day2["customers"]["tier"][:n1]) | (
        day1["customers"]["city"] != day2["customers"]["city"][:n1]
    )
    assert changed.any()
    assert (day1["products"]["list_price"] != day2["products"]["list_price"]).any()
    assert not set(day1["orders"]["order_id"]) & set(day2["orders"]["order_id"])
    assert not set(day1["stock_movements"]["movement_id"]) & set(day2["stock_movements"]["movement_id"])


def test_keys_are_unique_and_lines_reference_orders(example_catalogue):
    tables = day_tables(42, 0.5, 1)
    for table in example_catalogue.loaded:
        [key] = table.primary_key
        if key in tables[table.name]:
            keys = tables[table.name][key]
            assert np.unique(keys).size == keys.size, table.qualified_name
    assert set(tables["order_items"]["order_id"]) <= set(tables["orders"]["order_id"])


@pytest.mark.parametrize("day", [1, 2, 9])
def test_every_event_of_a_days_export_happens_on_that_day(day, example_catalogue):
    """A day's export is its daily partition: ingest rejects an event dated on another day."""
    tables = day_tables(42, 0.5, day)
    for table in example_catalogue.loaded:
        if table.event_time_column:
            times = tables[table.name][table.event_time_column].astype("datetime64[D]")
            assert (times == np.datetime64(day_date(day))).all(), table.qualified_name


def test_day_one_is_the_first_partition_and_a_partition_key_names_its_days_file(monkeypatch, example_catalogue):
    assert day_date(1) == partitions_start()
    orders = example_catalogue.get("shop", "orders")
    assert partition_file("/landing", orders, "2026-01-02") == "/landing/shop/orders/2026-01-02.csv"
    assert day_number(file_date("/landing/shop/orders/2026-01-02.csv")) == 2
    monkeypatch.setenv(PARTITIONS_START_VARIABLE, "2025-12-01")
    assert day_date(1) == date(2025, 12, 1)
    assert day_number(date(2026, 1, 2)) == 33
    with pytest.raises(ValueError, match="before the first day"):
        day_number(date(2025, 11, 30))


def test_scale_must_be_positive():
    with pytest.raises(ValueError, match="scale must be positive"):
        Volume.for_scale(0)


def test_files_land_per_table_and_day(tmp_path, example_catalogue):
    root = str(tmp_path)
    assert next_day(root) == 1
    rows = generate_day(root, 1, scale=0.05)
    generate_day(root, 2, scale=0.05)
    assert next_day(root) == 3
    customers, orders = example_catalogue.get("shop", "customers"), example_catalogue.get("shop", "orders")
    assert latest_day(root, customers) == day_date(2)
    assert files_to_load(root, customers) == [day_file(root, customers, day_date(2))]
    assert files_to_load(root, orders) == [day_file(root, orders, day_date(1)), day_file(root, orders, day_date(2))]
    header, *lines = open(day_file(root, orders, day_date(1))).read().splitlines()
    assert header.split(",") == list(orders.columns)
    assert len(lines) == rows["shop.orders"]
