"""Loading landing files into a raw table: the interface every warehouse implements, and what
every load writes beside the rows.

A state table is replaced whole by its newest export; an event table has one daily partition per
export, and a partition's load replaces exactly that day's rows. Either way the rows are checked
(``row_checks``) before anything is committed: a bad file leaves the raw table as it was, and
downstream assets never see half a load. The implementations: ``duckdb_loader``, ``bigquery_loader``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dagster import ConfigurableResource

from shared_ingest.catalogue import SourceTable
from shared_ingest.errors import IngestError, Problem


@dataclass(frozen=True)
class LoadResult:
    rows: int
    files: list[str]
    seconds: float


# Every event partition a load commits is recorded here, per source table (`shop.orders`, as dbt
# names the source), with its row count: a day whose export held no rows is told apart from a day
# never delivered. dbt's `delivered` source test (dbt/macros/tests/delivered.sql) reads it, so a
# build refuses a window with a day missing, on DuckDB and BigQuery alike.
LOADED_PARTITIONS_SCHEMA, LOADED_PARTITIONS_TABLE = "ingest_log", "loaded_partitions"
LOADED_PARTITIONS_COLUMNS = {"source_table": ("VARCHAR", "STRING"), "partition_day": ("DATE", "DATE"),
                             "row_count": ("BIGINT", "INT64"), "loaded_at": ("TIMESTAMP", "TIMESTAMP")}


def loaded_partitions_ddl(relation: str, bigquery: bool = False) -> str:
    """``create table if not exists`` of the record of loaded partitions."""
    columns = ", ".join(f"{name} {types[bigquery]}" for name, types in LOADED_PARTITIONS_COLUMNS.items())
    return f"create table if not exists {relation} ({columns})"


class WarehouseLoader(ConfigurableResource):
    """What an ingest asset needs from the warehouse; each environment supplies one implementation."""

    def replace_table(self, table: SourceTable, files: list[str]) -> LoadResult:
        """Replace a state table with exactly the rows of ``files``, atomically, or raise IngestError."""
        raise NotImplementedError

    def replace_partition(self, table: SourceTable, file: str, day: date) -> LoadResult:
        """Replace ``day``'s rows of an event table with exactly the rows of ``file``, the day's
        export, atomically (every other day untouched), or raise IngestError."""
        raise NotImplementedError


    def newest_load(self, schema: str, table: str, loaded_at_field: str) -> datetime | None:
        """When another tool last loaded a row into ``schema.table`` (its ``loaded_at_field``), or
        None if the table is empty or absent: what the platform observes of a source it does not load."""
        raise NotImplementedError


def no_files(table: SourceTable, files: list[str]) -> None:
    if not files:
        raise IngestError(table, [Problem(table.qualified_name, "no landing files to load")])
