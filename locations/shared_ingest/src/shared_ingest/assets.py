"""One ingest asset per source table, keyed exactly like the dbt source that reads it."""


from dagster import AssetExecutionContext, AssetsDefinition, ConfigurableResource, MaterializeResult, MetadataValue, asset

from shared_ingest.landing import files_to_load
from shared_ingest.loaders import WarehouseLoader
from shared_ingest.tables import SOURCE_TABLES, SourceTable
from shared_ingest.validation import IngestError, landing_problems

INGEST_OWNERS = ["team:platform"]


class LandingZone(ConfigurableResource):
    """Where the source systems drop their daily exports (a folder, or a bucket in production)."""

    root: str


def build_ingest_asset(table: SourceTable, warehouse_kind: str = "duckdb") -> AssetsDefinition:
    """The asset that replaces ``raw_<source>.<table>`` with what has landed for it.

    Missing exports and bad headers fail the asset before the warehouse is touched; bad rows fail
    the load, which leaves the raw table as it was. Either way the error names file, line, column.

    Key, group and owners never depend on the environment; only the ``kinds`` badge names the
    warehouse, and the ``warehouse`` resource the environment supplies does the load.
    """

    @asset(
        key=table.asset_key,
        group_name=table.schema,
        description=table.description,
        owners=INGEST_OWNERS,
        kinds={"csv", warehouse_kind},
        tags={"source_system": table.source},
    )
    def _ingest(context: AssetExecutionContext, landing: LandingZone, warehouse: WarehouseLoader) -> MaterializeResult:
        files = files_to_load(landing.root, table)
        problems = landing_problems(landing.root, table, files)
        if problems:
            raise IngestError(table, problems)
        context.log.info(f"loading {len(files)} file(s) into {table.schema}.{table.name}")
        result = warehouse.replace_table(table, files)
        context.log.info(f"{table.schema}.{table.name}: {result.rows} rows in {result.seconds:.2f} s")
        return MaterializeResult(
            metadata={
                "dagster/row_count": result.rows,
                "files": MetadataValue.json(result.files),
                "load_seconds": round(result.seconds, 3),
            }
        )

    return _ingest


def build_ingest_assets(warehouse_kind: str = "duckdb") -> list[AssetsDefinition]:
    return [build_ingest_asset(table, warehouse_kind) for table in SOURCE_TABLES]
