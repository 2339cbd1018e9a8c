"""The BigQuery loader: the production warehouse. Its jobs are planned without a client
(``plan_bigquery_load``), so the plan is tested offline and against an emulator."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from dataplatform.partitions import partition_key
from shared_ingest.catalogue import EXPORT_DATE, LOADED_AT, SourceTable
from shared_ingest.errors import IngestError, Problem
from shared_ingest.loading import (
    LOADED_PARTITIONS_SCHEMA,
    LOADED_PARTITIONS_TABLE,
    LoadResult,
    WarehouseLoader,
    loaded_partitions_ddl,
    no_files,
)
from shared_ingest.row_checks import RowCheck, row_checks, run_row_checks, sql_date

if TYPE_CHECKING:  # the bigquery extra is imported only where BigQuery is used
    from google.cloud import bigquery

# Every BigQuery call waits at most this long: a stuck job fails the step instead of hanging it.
BIGQUERY_TIMEOUT_SECONDS = 900.0


@dataclass(frozen=True)
class BigQueryLoadPlan:
    """Every job a BigQuery replace submits, built without a client so it is testable offline.

    A state table: load, key check, ``create or replace`` (``swap_sql``). A daily partition of an
    event table (``day`` set): load, key and event-time checks, the raw table created partitioned
    by day if it does not exist (an empty table, so that the other days' keys can be read), the
    check against the keys of other days, then one query job that overwrites the day's partition
    (``swap_sql`` run with ``swap_config``). The checks are the shared sequence (``row_checks``).
    """

    dataset: str  # project.dataset
    target: str  # project.dataset.table
    staging: str  # project.dataset.table__loading
    source_uris: list[str]
    load_config: bigquery.LoadJobConfig
    checks: tuple[RowCheck, ...]  # of the staged rows, in order (row_checks)
    swap_sql: str  # the checked staging rows, stamped, into the raw table (or its day's partition)
    day: date | None = None
    create_sql: str | None = None
    swap_config: bigquery.QueryJobConfig | None = None  # destination: the day's partition, WRITE_TRUNCATE
    # After the swap: the day recorded in ingest_log.loaded_partitions (its row count a query parameter).
    record_sql: list[str] | None = None

    def _check_sql(self, name: str) -> str | None:
        return next((check.sql for check in self.checks if check.name == name), None)

    @property
    def duplicate_key_sql(self) -> str:
        """Staged keys that are null or duplicated."""
        return self._check_sql("keys")

    @property
    def event_time_sql(self) -> str | None:
        """Staged events not on the day (None: a state table, or no event time of its own)."""
        return self._check_sql("event_times")

    @property
    def loaded_elsewhere_sql(self) -> str | None:
        """Staged keys the raw table holds on another day (None: a state table)."""
        return self._check_sql("loaded_elsewhere")


def plan_bigquery_load(project: str, table: SourceTable, files: list[str],
                       day: date | None = None) -> BigQueryLoadPlan:
    """The load job (CSV into the staging table, schema from the catalogue), the checks and the swap:
    of the whole table for a state table, of ``day``'s partition for an event table."""
    from google.cloud import bigquery

    no_files(table, files)
    if (table.history == "events") != (day is not None):
        raise ValueError(f"{table.qualified_name}: an event table loads one day's partition, a state table the "
                         f"whole table; got day={day}")
    not_in_bucket = [f for f in files if not f.startswith("gs://")]
    if not_in_bucket:
        raise IngestError(table, [Problem(f, "BigQuery loads gs:// files only") for f in not_in_bucket])
    dataset = f"{project}.{table.schema}"
    target = f"{dataset}.{table.name}"
    staging = f"{dataset}.{table.name}__loading"
    load_config = bigquery.LoadJobConfig(
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
    )
    plan = BigQueryLoadPlan(
        dataset=dataset,
        target=target,
        staging=staging,
        source_uris=list(files),
        load_config=load_config,
        checks=row_checks(table, f"`{staging}`", f"`{target}`", day, "bigquery"),
        swap_sql=f"create or replace table `{target}` as select *, current_timestamp() as {LOADED_AT} from `{staging}`",
    )
    if day is None:
        return plan
    on_day = sql_date(day)
    record = f"{project}.{LOADED_PARTITIONS_SCHEMA}.{LOADED_PARTITIONS_TABLE}"
    columns = ", ".join(f"{c} {t}" for c, t in table.bigquery_columns.items())
    return replace(
        plan,
        day=day,
        create_sql=(
            f"create table if not exists `{target}` ({columns}, {LOADED_AT} TIMESTAMP, {EXPORT_DATE} DATE) "
            f"partition by {EXPORT_DATE}"
        ),
        swap_sql=f"select *, current_timestamp() as {LOADED_AT}, {on_day} as {EXPORT_DATE} from `{staging}`",
        record_sql=[
            f"create schema if not exists `{project}.{LOADED_PARTITIONS_SCHEMA}`",
            loaded_partitions_ddl(f"`{record}`", bigquery=True),
            # Written after the day's rows: a crash between the two leaves a day unrecorded, which
            # the builds refuse until ingest runs again, never a recorded day without its rows.
            f"merge `{record}` as r using (select '{table.qualified_name}' as source_table, {on_day} as partition_day) as d "
            "on r.source_table = d.source_table and r.partition_day = d.partition_day "
            "when matched then update set row_count = @row_count, loaded_at = current_timestamp() "
            "when not matched then insert (source_table, partition_day, row_count, loaded_at) "
            "values (d.source_table, d.partition_day, @row_count, current_timestamp())",
        ],
        swap_config=bigquery.QueryJobConfig(
            destination=f"{target}${day:%Y%m%d}",
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            time_partitioning=bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY, field=EXPORT_DATE),
            labels={"source_system": table.source, "table": table.name},
        ),
    )


class BigQueryLoader(WarehouseLoader):
    """Loads CSV exports from the bucket with BigQuery load jobs (native bulk load, no rows through Python).

    Atomic replace in a few jobs: the load job fills ``<table>__loading`` (WRITE_TRUNCATE), the
    checks run there, then one query job writes the checked rows (with their load time): a
    ``create or replace table ... as select`` for a state table; for a daily partition a
    WRITE_TRUNCATE into the partition decorator ``<table>$YYYYMMDD``, which overwrites that day and
    no other. Each job commits all or nothing, so a bad file or a bad key leaves the raw table
    untouched. A WRITE_TRUNCATE load straight into the raw table would be atomic as well, but
    could not check the rows before readers see them.
    """

    project: str
    location: str = "EU"
    keyfile: str | None = None  # service-account JSON key; None: application default credentials

    def replace_table(self, table: SourceTable, files: list[str]) -> LoadResult:
        return self._run(table, files, plan_bigquery_load(self.project, table, files))

    def replace_partition(self, table: SourceTable, file: str, day: date) -> LoadResult:
        return self._run(table, [file], plan_bigquery_load(self.project, table, [file], day))

    def _run(self, table: SourceTable, files: list[str], plan: BigQueryLoadPlan) -> LoadResult:
        from google.api_core.exceptions import GoogleAPIError
        from google.cloud import bigquery

        partition = partition_key(plan.day) if plan.day else None
        started = time.monotonic()
        client = self._client()

        def query(sql: str, job_config: bigquery.QueryJobConfig | None = None) -> list:
            return list(client.query(sql, job_config=job_config).result(timeout=BIGQUERY_TIMEOUT_SECONDS))

        try:
            client.create_dataset(plan.dataset, exists_ok=True, timeout=BIGQUERY_TIMEOUT_SECONDS)
            load = client.load_table_from_uri(plan.source_uris, plan.staging, job_config=plan.load_config)
            load.result(timeout=BIGQUERY_TIMEOUT_SECONDS)
            run_row_checks(plan.checks, lambda sql: [tuple(row) for row in query(sql)], table, files, partition,
                           before_raw_table=(lambda: query(plan.create_sql)) if plan.create_sql else None)
            query(plan.swap_sql, plan.swap_config)
            if plan.record_sql:
                rows = bigquery.ScalarQueryParameter("row_count", "INT64", int(load.output_rows or 0))
                for sql in plan.record_sql:
                    query(sql, bigquery.QueryJobConfig(query_parameters=[rows]) if "@row_count" in sql else None)
        except GoogleAPIError as error:
            raise IngestError(table, [Problem(", ".join(files), str(error))], partition) from error
        finally:
            with contextlib.suppress(GoogleAPIError):
                client.delete_table(plan.staging, not_found_ok=True, timeout=BIGQUERY_TIMEOUT_SECONDS)
            client.close()
        return LoadResult(rows=int(load.output_rows or 0), files=files, seconds=time.monotonic() - started)

    def newest_load(self, schema: str, table: str, loaded_at_field: str) -> datetime | None:
        from google.api_core.exceptions import NotFound

        client = self._client()
        try:
            rows = list(client.query(f"select max(`{loaded_at_field}`) from `{self.project}.{schema}.{table}`")
                        .result(timeout=BIGQUERY_TIMEOUT_SECONDS))
        except NotFound:
            return None
        finally:
            client.close()
        newest = rows[0][0] if rows else None
        return newest.replace(tzinfo=newest.tzinfo or UTC) if newest is not None else None

    def _client(self) -> bigquery.Client:
        """A client authenticated like dbt's profile: the keyfile if given, else application default."""
        from google.cloud import bigquery

        if self.keyfile:
            return bigquery.Client.from_service_account_json(self.keyfile, project=self.project, location=self.location)
        return bigquery.Client(project=self.project, location=self.location)
