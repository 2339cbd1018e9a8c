"""dlt's load of every landed shop.order_items export (read with pyarrow) into a DuckDB table, replaced."""

import argparse
import os

os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # before dlt is imported: it reads it then

import dlt  # noqa: E402
import pyarrow.csv as pv  # noqa: E402

from dataplatform.landing import files_to_load  # noqa: E402
from dataplatform.settings import resolve_settings  # noqa: E402
from shared_ingest.catalogue import load_catalogue  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--landing", required=True, help="the landing zone's root")
    parser.add_argument("--db", required=True, help="the DuckDB warehouse")
    parser.add_argument("--pipelines", required=True, help="dlt's pipelines folder")
    args = parser.parse_args()

    @dlt.resource(name="order_items", write_disposition="replace")
    def order_items():
        for path in files_to_load(args.landing, load_catalogue(resolve_settings().require_dbt_project()).get("shop", "order_items")):
            yield pv.read_csv(path)

    pipeline = dlt.pipeline(pipeline_name="bench", destination=dlt.destinations.duckdb(args.db),
                            dataset_name="raw_shop_dlt", pipelines_dir=args.pipelines)
    pipeline.run(order_items())


if __name__ == "__main__":
    main()
