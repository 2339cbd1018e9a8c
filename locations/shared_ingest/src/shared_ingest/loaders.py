"""Loading landing files into a raw table: one interface, one implementation per warehouse.

Every load replaces the whole raw table atomically: rows go into a staging table first, are
checked, and only then swapped in. A bad file leaves the old table as it was, and downstream
assets never see half a load.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
from dagster import ConfigurableResource

from shared_ingest.tables import SourceTable

if TYPE_CHECKING:  # the bigquery extra is imported only where BigQuery is used
    from google.cloud import bigquery

# Every BigQuery call waits at most this long: a stuck job fails the step instead of hanging it.
BIGQUERY_TIMEOUT_SECONDS = 900.0


class IngestError(RuntimeError):
    """A landing file could not be loaded; the message names the table and the file at fault."""


@dataclass(frozen=True)
class LoadResult:
    rows: int
    files: list[str]
    seconds: float


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class WarehouseLoader(ConfigurableResource):
    """What an ingest asset needs from the warehouse; each environment supplies one implementation."""

    def replace_table(self, table: SourceTable, files: list[str]) -> LoadResult:
        """Replace the raw table with exactly the rows of ``files``, atomically."""
        raise NotImplementedError


class DuckDBLoader(WarehouseLoader):
    """Loads CSV exports with DuckDB's own reader (native bulk load, no rows through Python)."""

    database: str

    def replace_table(self, table: SourceTable, files: list[str]) -> LoadResult:
        if not files:
            raise IngestError(f"{table.qualified_name}: no landing files to load")
        started = time.monotonic()
        target = f"{table.schema}.{table.name}"
        staging = f"{table.schema}.{table.name}__loading"
        columns = "{" + ", ".join(f"{_quote(c)}: {_quote(t)}" for c, t in table.columns.items()) + "}"
        file_list = "[" + ", ".join(_quote(f) for f in files) + "]"
        with duckdb.connect(self.database) as con:
            con.execute(f"create schema if not exists {table.schema}")
            try:
                con.execute(
                    f"create or replace table {staging} as select * from read_csv({file_list}, "
                    f"header = true, auto_detect = false, columns = {columns}, strict_mode = true)"
                )
                self._check_primary_key(con, table, staging)
                rows = con.execute(f"select count(*) from {staging}").fetchone()[0]
                con.execute("begin transaction")
                con.execute(f"drop table if exists {target}")
                con.execute(f"alter table {staging} rename to {table.name}")
                con.execute("commit")
            except duckdb.Error as error:
                con.execute(f"drop table if exists {staging}")
                raise IngestError(f"{table.qualified_name}: could not load {files}: {error}") from error
        return LoadResult(rows=rows, files=files, seconds=time.monotonic() - started)

    @staticmethod
    def _check_primary_key(con: duckdb.DuckDBPyConnection, table: SourceTable, staging: str) -> None:
        key = table.primary_key
        duplicate = con.execute(
            f"select {key}, count(*) from {staging} group by {key} having count(*) > 1 "
            f"or {key} is null limit 1"
        ).fetchone()
        if duplicate is not None:
            raise duckdb.ConstraintException(
                f"primary key {key} is null or duplicated (value {duplicate[0]!r}, {duplicate[1]} rows)"
            )


@dataclass(frozen=True)
class BigQueryLoadPlan:
    """Every job a BigQuery replace submits, built without a client so it is testable offline."""

    dataset: str  # project.dataset
    target: str  # project.dataset.table
    staging: str  # project.dataset.table__loading
    source_uris: list[str]
    load_config: bigquery.LoadJobConfig
    copy_config: bigquery.CopyJobConfig
    duplicate_key_sql: str


def plan_bigquery_load(project: str, table: SourceTable, files: list[str]) -> BigQueryLoadPlan:
    """The load job (CSV into the staging table, schema from the catalogue), key check and copy."""
    from google.cloud import bigquery

    if not files:
        raise IngestError(f"{table.qualified_name}: no landing files to load")
    not_in_bucket = [f for f in files if not f.startswith("gs://")]
    if not_in_bucket:
        raise IngestError(f"{table.qualified_name}: BigQuery loads gs:// files only, got {not_in_bucket}")
    dataset = f"{project}.{table.schema}"
    staging = f"{dataset}.{table.name}__loading"
    key = table.primary_key
    return BigQueryLoadPlan(
        dataset=dataset,
        target=f"{dataset}.{table.name}",
        staging=staging,
        source_uris=list(files),
        load_config=bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.CSV,
            skip_leading_rows=1,  # the header; columns are matched by position, as in DuckDB
            field_delimiter=",",
            quote_character='"',
            encoding="UTF-8",
            allow_quoted_newlines=True,
            allow_jagged_rows=False,
            max_bad_records=0,  # one bad row fails the whole job, like DuckDB's strict_mode
            autodetect=False,
            schema=[bigquery.SchemaField(c, t) for c, t in table.bigquery_columns.items()],
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            labels={"source_system": table.source, "table": table.name},
        ),
        copy_config=bigquery.CopyJobConfig(
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        ),
        duplicate_key_sql=(
            f"select cast({key} as string) as key_value, count(*) as row_count from `{staging}` "
            f"group by {key} having count(*) > 1 or {key} is null limit 1"
        ),
    )


class BigQueryLoader(WarehouseLoader):
    """Loads CSV exports from the bucket with BigQuery load jobs (native bulk load, no rows through Python).

    Atomic replace in three jobs: the load job fills ``<table>__loading`` (WRITE_TRUNCATE), the
    primary key is checked there, then a copy job replaces the raw table (WRITE_TRUNCATE). Each job
    commits all or nothing, so a bad file or a duplicate key leaves the raw table untouched. A
    WRITE_TRUNCATE load straight into the raw table would be atomic as well, but could not check
    the key before readers see the rows; a copy within a dataset costs no query bytes.
    """

    project: str
    location: str = "EU"
    keyfile: str | None = None  # service-account JSON key; None: application default credentials

    def replace_table(self, table: SourceTable, files: list[str]) -> LoadResult:
        from google.api_core.exceptions import GoogleAPIError

        plan = plan_bigquery_load(self.project, table, files)
        started = time.monotonic()
        client = self._client()
        try:
            client.create_dataset(plan.dataset, exists_ok=True, timeout=BIGQUERY_TIMEOUT_SECONDS)
            load = client.load_table_from_uri(plan.source_uris, plan.staging, job_config=plan.load_config)
            load.result(timeout=BIGQUERY_TIMEOUT_SECONDS)
            duplicate = next(iter(client.query(plan.duplicate_key_sql).result(timeout=BIGQUERY_TIMEOUT_SECONDS)), None)
            if duplicate is not None:
                raise IngestError(
                    f"{table.qualified_name}: could not load {files}: primary key {table.primary_key} is null "
                    f"or duplicated (value {duplicate[0]!r}, {duplicate[1]} rows)"
                )
            client.copy_table(plan.staging, plan.target, job_config=plan.copy_config).result(
                timeout=BIGQUERY_TIMEOUT_SECONDS
            )
        except GoogleAPIError as error:
            raise IngestError(f"{table.qualified_name}: could not load {files}: {error}") from error
        finally:
            with contextlib.suppress(GoogleAPIError):
                client.delete_table(plan.staging, not_found_ok=True, timeout=BIGQUERY_TIMEOUT_SECONDS)
            client.close()
        return LoadResult(rows=int(load.output_rows or 0), files=files, seconds=time.monotonic() - started)

    def _client(self) -> bigquery.Client:
        """A client authenticated like dbt's profile: the keyfile if given, else application default."""
        from google.cloud import bigquery

        if self.keyfile:
            return bigquery.Client.from_service_account_json(self.keyfile, project=self.project, location=self.location)
        return bigquery.Client(project=self.project, location=self.location)
