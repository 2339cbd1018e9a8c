"""The source systems' tables: columns, primary key and how each day's export relates to the last.

One catalogue serves the generator (what to write), the loader (the raw table's schema) and
the ingest assets (one per table, keyed by the dbt source key rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dagster import AssetKey

from dataplatform.keys import raw_schema, source_asset_key

# "state": each day's file is the whole table as of that day; the raw table is the newest file.
# "events": each day's file holds that day's new rows; the raw table is every file together, one
# daily partition per export (rows stamped with the export's day).
History = Literal["state", "events"]

# The catalogue's DuckDB column types in BigQuery: what a BigQuery load job declares.
BIGQUERY_TYPES = {"BIGINT": "INT64", "INTEGER": "INT64", "VARCHAR": "STRING", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP"}


def bigquery_type(duckdb_type: str) -> str:
    """The BigQuery type of a catalogue column, so both warehouses load the same schema."""
    if duckdb_type.startswith("DECIMAL("):
        return "NUMERIC"  # exact decimal (38, 9): holds every DECIMAL(12,2) amount unchanged
    try:
        return BIGQUERY_TYPES[duckdb_type]
    except KeyError:
        raise KeyError(f"no BigQuery type for catalogue column type {duckdb_type!r}") from None


@dataclass(frozen=True)
class SourceTable:
    source: str
    name: str
    columns: dict[str, str]  # column -> DuckDB type, in file order
    primary_key: str
    history: History
    description: str
    # The column that says when an event happened: ingest checks it falls on the export's day.
    # None for a state table, and for an event table without a time of its own (order lines).
    event_time_column: str | None = None

    @property
    def asset_key(self) -> AssetKey:
        return source_asset_key(self.source, self.name)

    @property
    def schema(self) -> str:
        return raw_schema(self.source)

    @property
    def bigquery_columns(self) -> dict[str, str]:
        """Column -> BigQuery type, in file order."""
        return {column: bigquery_type(kind) for column, kind in self.columns.items()}

    @property
    def qualified_name(self) -> str:
        return f"{self.source}.{self.name}"


SOURCE_TABLES: tuple[SourceTable, ...] = (
    SourceTable(
        "shop",
        "customers",
        {
            "customer_id": "BIGINT",
            "full_name": "VARCHAR",
            "email": "VARCHAR",
            "tier": "VARCHAR",
            "city": "VARCHAR",
            "country": "VARCHAR",
            "signup_date": "DATE",
            "updated_at": "TIMESTAMP",
        },
        "customer_id",
        "state",
        "Shop customers as of the latest export; tier and address change from day to day.",
    ),
    SourceTable(
        "shop",
        "orders",
        {
            "order_id": "BIGINT",
            "customer_id": "BIGINT",
            "ordered_at": "TIMESTAMP",
            "status": "VARCHAR",
            "channel": "VARCHAR",
        },
        "order_id",
        "events",
        "Shop orders, one daily partition per day's export.",
        event_time_column="ordered_at",
    ),
    SourceTable(
        "shop",
        "order_items",
        {
            "order_item_id": "BIGINT",
            "order_id": "BIGINT",
            "product_id": "BIGINT",
            "quantity": "INTEGER",
            "unit_price": "DECIMAL(12,2)",
        },
        "order_item_id",
        "events",
        "Shop order lines, one daily partition per day's export (the day their order was placed).",
    ),
    SourceTable(
        "shop",
        "payments",
        {
            "payment_id": "BIGINT",
            "order_id": "BIGINT",
            "method": "VARCHAR",
            "amount": "DECIMAL(12,2)",
            "paid_at": "TIMESTAMP",
        },
        "payment_id",
        "events",
        "Shop payments, one daily partition per day's export.",
        event_time_column="paid_at",
    ),
    SourceTable(
        "erp",
        "products",
        {
            "product_id": "BIGINT",
            "sku": "VARCHAR",
            "product_name": "VARCHAR",
            "category": "VARCHAR",
            "supplier_id": "BIGINT",
            "unit_cost": "DECIMAL(12,2)",
            "list_price": "DECIMAL(12,2)",
            "updated_at": "TIMESTAMP",
        },
        "product_id",
        "state",
        "ERP product catalogue as of the latest export; list prices change from day to day.",
    ),
    SourceTable(
        "erp",
        "suppliers",
        {
            "supplier_id": "BIGINT",
            "supplier_name": "VARCHAR",
            "country": "VARCHAR",
            "lead_time_days": "INTEGER",
        },
        "supplier_id",
        "state",
        "ERP suppliers as of the latest export.",
    ),
    SourceTable(
        "erp",
        "warehouses",
        {
            "warehouse_id": "BIGINT",
            "warehouse_name": "VARCHAR",
            "city": "VARCHAR",
            "country": "VARCHAR",
        },
        "warehouse_id",
        "state",
        "ERP warehouses as of the latest export.",
    ),
    SourceTable(
        "erp",
        "stock_movements",
        {
            "movement_id": "BIGINT",
            "product_id": "BIGINT",
            "warehouse_id": "BIGINT",
            "movement_type": "VARCHAR",
            "quantity": "INTEGER",
            "moved_at": "TIMESTAMP",
        },
        "movement_id",
        "events",
        "ERP stock movements (signed quantities), one daily partition per day's export.",
        event_time_column="moved_at",
    ),
)


def get_table(source: str, name: str) -> SourceTable:
    for table in SOURCE_TABLES:
        if (table.source, table.name) == (source, name):
            return table
    raise KeyError(f"no source table {source}.{name}")
