"""One ingest asset per source table, keyed exactly like the dbt source that reads it."""

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetMaterialization,
    AssetsDefinition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from dataplatform.landing import LandingZone, files_to_load, partition_file
from dataplatform.partitions import daily_partitions, partition_day
from shared_ingest.catalogue import Catalogue, SourceTable
from shared_ingest.errors import IngestError
from shared_ingest.loading import LoadResult, WarehouseLoader
from shared_ingest.validation import landing_problems

INGEST_OWNERS = ["team:platform"]


def load_metadata(result: LoadResult) -> dict:
    return {
        "dagster/row_count": result.rows,
        "files": MetadataValue.json(result.files),
        "load_seconds": round(result.seconds, 3),
    }


def build_ingest_asset(table: SourceTable, warehouse_kind: str = "duckdb",
                       source_tables: tuple[SourceTable, ...] = ()) -> AssetsDefinition:
    """The asset that loads ``<schema>.<table>`` from what has landed for it (``source_tables``:
    the other tables of its source, whose newest export a state table must keep up with).

    Every table is daily-partitioned, so a day of ingest (or a range of days, a backfill) is one
    run. An event table's partition ``YYYY-MM-DD`` replaces that day's rows with that day's export;
    a range loads the days in order, each in its own transaction, so a failure on one day keeps
    the days before it. A state table keeps no history: whatever the partition, its newest export
    replaces the whole table (so re-running an old day never rolls it back); its partitions record
    the days whose runs loaded it.

    Missing exports and bad headers fail before the warehouse is touched; bad rows fail the load,
    which leaves the raw table as it was. Either way the error names file, line and column.

    Key, group and owners never depend on the environment; only the ``kinds`` badge names the
    warehouse, and the ``warehouse`` resource the environment supplies does the load.
    """
    events = table.history == "events"

    @asset(
        key=table.asset_key,
        group_name=table.schema,
        description=table.description,
        owners=INGEST_OWNERS,
        kinds={"csv", warehouse_kind},
        tags={"source_system": table.source},
        partitions_def=daily_partitions(),
        backfill_policy=BackfillPolicy.single_run(),
    )
    def _ingest(context: AssetExecutionContext, landing: LandingZone, warehouse: WarehouseLoader) -> Iterator:
        if events:
            yield from load_days(context, landing.root, warehouse, table, source_tables)
            yield MaterializeResult()  # each day's metadata was added to its own partition
            return
        files = files_to_load(landing.root, table)
        problems = landing_problems(landing.root, table, files, source_tables=source_tables)
        if problems:
            raise IngestError(table, problems)
        context.log.info(f"loading {len(files)} file(s) into {table.schema}.{table.name}")
        result = warehouse.replace_table(table, files)
        context.log.info(f"{table.schema}.{table.name}: {result.rows} rows in {result.seconds:.2f} s")
        yield MaterializeResult(metadata=load_metadata(result))

    return _ingest


def load_days(context: AssetExecutionContext, root: str, warehouse: WarehouseLoader, table: SourceTable,
              source_tables: tuple[SourceTable, ...] = ()) -> Iterator[AssetMaterialization]:
    """Each day of the run's partition (or range) from its export, oldest first, one transaction a day.

    Each day's materialization carries that day's rows and file. If a day fails, the days before it
    stay loaded: they are recorded as materialized, then the error (naming the file) fails the step.
    """
    keys = context.partition_keys
    loaded: dict[str, LoadResult] = {}
    for number, key in enumerate(keys, 1):
        file = partition_file(root, table, key)
        try:
            problems = landing_problems(root, table, [file], key, source_tables)
            if problems:
                raise IngestError(table, problems, key)
            result = warehouse.replace_partition(table, file, partition_day(key))
        except IngestError:
            for done, result in loaded.items():
                yield AssetMaterialization(table.asset_key, partition=done, metadata=load_metadata(result))
            raise
        context.log.info(f"{table.schema}.{table.name} {key} ({number}/{len(keys)}): "
                         f"{result.rows} rows from {file} in {result.seconds:.2f} s")
        context.add_asset_metadata(load_metadata(result), partition_key=key)
        loaded[key] = result


def build_ingest_assets(catalogue: Catalogue, warehouse_kind: str = "duckdb") -> list[AssetsDefinition]:
    """One asset per source table the platform loads, as the dbt sources declare them."""
    return [build_ingest_asset(table, warehouse_kind, catalogue.of_source(table.source)) for table in catalogue.loaded]
