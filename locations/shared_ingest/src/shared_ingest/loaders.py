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
from shared_ingest.validation import IngestError, Problem, csv_problems, key_problems, sql_list

if TYPE_CHECKING:  # the bigquery extra is imported only where BigQuery is used
    from google.cloud import bigquery

# Every BigQuery call waits at most this long: a stuck job fails the step instead of hanging it.
BIGQUERY_TIMEOUT_SECONDS = 900.0


@dataclass(frozen=True)
class LoadResult:
    rows: int
    files: list[str]
    seconds: float


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# Every raw table carries the time of the load that wrote it: dbt's source freshness and the
# `fresh` source test read it (loaded_at_field) to block domain builds on stale raw data.
LOADED_AT = "_loaded_at"


class WarehouseLoader(ConfigurableResource):
    """What an ingest asset needs from the warehouse; each environment supplies one implementation."""

    def replace_table(self, table: SourceTable, files: list[str]) -> LoadResult:
        """Replace the raw table with exactly the rows of ``files``, atomically, or raise IngestError."""
        raise NotImplementedError


def no_files(table: SourceTable, files: list[str]) -> None:
    if not files:
        raise IngestError(table, [Problem(table.qualified_name, "no landing files to load")])


class DuckDBLoader(WarehouseLoader):
    """Loads CSV exports with DuckDB's own reader (native bulk load, no rows through Python).

    The rows go into ``<table>__loading`` with a strict reader, the key is checked there, and one
    transaction swaps it in. On any failure the staging table is dropped and the files are
    re-read to name each bad row; the raw table keeps its previous rows.
    """

    database: str

    def replace_table(self, table: SourceTable, files: list[str]) -> LoadResult:
        no_files(table, files)
        started = time.monotonic()
        target = f"{table.schema}.{table.name}"
        staging = f"{table.schema}.{table.name}__loading"
        options = self.read_csv_options(table)
        with duckdb.connect(self.database) as con:
            con.execute(f"create schema if not exists {table.schema}")
            try:
                con.execute(
                    f"create or replace table {staging} as select *, current_timestamp as {LOADED_AT} "
                    f"from read_csv({sql_list(files)}, {options})"
                )
                rows = con.execute(f"select count(*) from {staging}").fetchone()[0]
                self._check_staging(con, table, staging, files, rows)
                con.execute("begin transaction")
                con.execute(f"drop table if exists {target}")
                con.execute(f"alter table {staging} rename to {table.name}")
                con.execute("commit")
            except duckdb.Error as error:
                con.execute(f"drop table if exists {staging}")
                # The rejects name file, line and column; DuckDB's own message (first line) is the fallback.
                problems = csv_problems(table, files, options) or [Problem(", ".join(files), _first_line(error))]
                raise IngestError(table, problems) from None
            except IngestError:
                con.execute(f"drop table if exists {staging}")
                raise
        return LoadResult(rows=rows, files=files, seconds=time.monotonic() - started)

    @staticmethod
    def read_csv_options(table: SourceTable) -> str:
        """Exactly the catalogue's columns and types; any row that does not fit fails the read."""
        columns = "{" + ", ".join(f"{_quote(c)}: {_quote(t)}" for c, t in table.columns.items()) + "}"
        return f"header = true, auto_detect = false, columns = {columns}, strict_mode = true"

    @staticmethod
    def _check_staging(con: duckdb.DuckDBPyConnection, table: SourceTable, staging: str,
                       files: list[str], rows: int) -> None:
        if rows == 0 and table.history == "state":
            raise IngestError(table, [Problem(files[-1], "no rows: a state export holds the whole table", 2)])
        key = table.primary_key
        bad = [value for (value,) in con.execute(
            f"select {key} from {staging} group by {key} having count(*) > 1 or {key} is null limit 3"
        ).fetchall()]
        if bad:
            raise IngestError(table, key_problems(table, files, bad))


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


@dataclass(frozen=True)
class BigQueryLoadPlan:
    """Every job a BigQuery replace submits, built without a client so it is testable offline."""

    dataset: str  # project.dataset
    target: str  # project.dataset.table
    staging: str  # project.dataset.table__loading
    source_uris: list[str]
    load_config: bigquery.LoadJobConfig
    duplicate_key_sql: str
    swap_sql: str  # replaces the raw table with the checked staging rows and their load time


def plan_bigquery_load(project: str, table: SourceTable, files: list[str]) -> BigQueryLoadPlan:
    """The load job (CSV into the staging table, schema from the catalogue), key check and swap."""
    from google.cloud import bigquery

    no_files(table, files)
    not_in_bucket = [f for f in files if not f.startswith("gs://")]
    if not_in_bucket:
        raise IngestError(table, [Problem(f, "BigQuery loads gs:// files only") for f in not_in_bucket])
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
        duplicate_key_sql=(
            f"select cast({key} as string) as key_value from `{staging}` "
            f"group by {key} having count(*) > 1 or {key} is null limit 3"
        ),
        swap_sql=(
            f"create or replace table `{dataset}.{table.name}` as "
            f"select *, current_timestamp() as {LOADED_AT} from `{staging}`"
        ),
    )


class BigQueryLoader(WarehouseLoader):
    """Loads CSV exports from the bucket with BigQuery load jobs (native bulk load, no rows through Python).

    Atomic replace in three jobs: the load job fills ``<table>__loading`` (WRITE_TRUNCATE), the
    primary key is checked there, then one ``create or replace table ... as select`` swaps the rows
    (with their load time) into the raw table. Each job commits all or nothing, so a bad file or a
    duplicate key leaves the raw table untouched. A WRITE_TRUNCATE load straight into the raw table
    would be atomic as well, but could not check the key before readers see the rows.
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
            bad = [row[0] for row in client.query(plan.duplicate_key_sql).result(timeout=BIGQUERY_TIMEOUT_SECONDS)]
            if bad:
                raise IngestError(table, key_problems(table, files, bad))
            client.query(plan.swap_sql).result(timeout=BIGQUERY_TIMEOUT_SECONDS)
        except GoogleAPIError as error:
            raise IngestError(table, [Problem(", ".join(files), str(error))]) from error
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
