"""The ingest asset's load of one day's partition of shop.order_items, materialized as Dagster does."""

import argparse

from dagster import materialize

from dataplatform.landing import LandingZone
from dataplatform.settings import resolve_settings
from shared_ingest.assets import build_ingest_asset
from shared_ingest.catalogue import load_catalogue
from shared_ingest.duckdb_loader import DuckDBLoader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--landing", required=True, help="the landing zone's root")
    parser.add_argument("--db", required=True, help="the DuckDB warehouse")
    parser.add_argument("--day", required=True, help="the partition, YYYY-MM-DD")
    args = parser.parse_args()
    table = load_catalogue(resolve_settings().require_dbt_project()).get("shop", "order_items")
    result = materialize([build_ingest_asset(table)], partition_key=args.day,
                         resources={"landing": LandingZone(root=args.landing), "warehouse": DuckDBLoader(database=args.db)})
    assert result.success


if __name__ == "__main__":
    main()
