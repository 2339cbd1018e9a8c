"""Loading landing files into a raw table: one interface, one implementation per warehouse.

A state table is replaced whole by its newest export; an event table has one daily partition per
export, and a partition's load replaces exactly that day's rows. Either way the rows are checked
before anything is committed: a bad file leaves the raw table as it was, and downstream assets
never see half a load.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

import duckdb
from dagster import ConfigurableResource

from shared_ingest.tables import SourceTable
from shared_ingest.validation import IngestError, Problem, csv_problems, event_time_problems, key_problems, sql_list

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
# Every raw event row carries the day of the export it came from, its daily partition: a
# partition's load replaces the rows of that day, and dbt reads it as the sources' event_time.
EXPORT_DATE = "_export_date"

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


def no_files(table: SourceTable, files: list[str]) -> None:
    if not files:
        raise IngestError(table, [Problem(table.qualified_name, "no landing files to load")])


class DuckDBLoader(WarehouseLoader):
    """Loads CSV exports with DuckDB's own reader (native bulk load, no rows through Python).

    Files are read with a strict reader. A state table is loaded into ``<table>__loading``,
    checked there, and swapped in by one transaction. An event day is inserted into the raw table
    and checked inside the transaction that deletes the day's previous rows. On any failure the
    transaction is rolled back and the files are re-read to name each bad row; the raw table keeps
    its previous rows.
    """

    database: str
    # Insertion order is not preserved (a raw table has none) and DuckDB's memory is capped; past
    # the cap it spills to `<database>.tmp` beside the file. Measured on one day of order lines
    # (bench/README.md): at 128MB the load's peak RSS grows 220 -> 289 MB from 1M to 10M rows
    # (512MB: 250 -> 606 MB), at the same throughput.
    memory_limit: str = "128MB"

    def replace_table(self, table: SourceTable, files: list[str]) -> LoadResult:
        no_files(table, files)
        started = time.monotonic()
        target, staging = _names(table)
        options = self.read_csv_options(table)
        with self._connect() as con:
            con.execute(f"create schema if not exists {table.schema}")
            try:
                rows = self._stage(con, table, staging, files, f"current_timestamp as {LOADED_AT}")
                if rows == 0:
                    raise IngestError(table, [Problem(files[-1], "no rows: a state export holds the whole table", 2)])
                self._check_keys(con, table, staging, files)
                con.execute("begin transaction")
                con.execute(f"drop table if exists {target}")
                con.execute(f"alter table {staging} rename to {table.name}")
                con.execute("commit")
            except duckdb.Error as error:
                _discard(con, staging)
                raise IngestError(table, _read_problems(table, files, options, error)) from None
            except IngestError:
                _discard(con, staging)
                raise
        return LoadResult(rows=rows, files=files, seconds=time.monotonic() - started)

    def replace_partition(self, table: SourceTable, file: str, day: date) -> LoadResult:
        started = time.monotonic()
        target, _ = _names(table)
        options = self.read_csv_options(table)
        partition = day.isoformat()
        stamped = (f"select *, current_timestamp as {LOADED_AT}, date '{partition}' as {EXPORT_DATE} "
                   f"from read_csv({sql_list([file])}, {options})")
        record = f"{LOADED_PARTITIONS_SCHEMA}.{LOADED_PARTITIONS_TABLE}"
        with self._connect() as con:
            con.execute(f"create schema if not exists {table.schema}")
            con.execute(f"create schema if not exists {LOADED_PARTITIONS_SCHEMA}")
            con.execute(loaded_partitions_ddl(record))
            try:
                # One pass, like a native load: the day's rows go straight into the raw table and
                # are checked there, inside the transaction that deletes the day's old rows. A
                # failed check rolls all of it back. (A staging table would write every row twice.)
                con.execute("begin transaction")
                con.execute(f"create table if not exists {target} as {stamped} limit 0")
                self._check_columns(con, table, target, partition)
                con.execute(f"delete from {target} where {EXPORT_DATE} = date '{partition}'")
                (rows,) = con.execute(f"insert into {target} {stamped}").fetchone()
                day_rows = f"(select * from {target} where {EXPORT_DATE} = date '{partition}')"
                self._check_keys(con, table, day_rows, [file], partition)
                self._check_event_times(con, table, day_rows, file, partition)
                self._check_other_days(con, table, target, file, partition)
                # Recorded in the same transaction: a day is recorded if and only if its rows are in.
                con.execute(f"delete from {record} where source_table = ? and partition_day = ?", [table.qualified_name, day])
                con.execute(f"insert into {record} values (?, ?, ?, current_timestamp)", [table.qualified_name, day, rows])
                con.execute("commit")
            except duckdb.Error as error:
                _rollback(con)
                raise IngestError(table, _read_problems(table, [file], options, error), partition) from None
            except IngestError:
                _rollback(con)
                raise
        return LoadResult(rows=rows, files=[file], seconds=time.monotonic() - started)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(self.database)
        con.execute("set preserve_insertion_order = false")
        con.execute(f"set memory_limit = {_quote(self.memory_limit)}")
        return con

    @staticmethod
    def read_csv_options(table: SourceTable) -> str:
        """Exactly the catalogue's columns and types; any row that does not fit fails the read."""
        columns = "{" + ", ".join(f"{_quote(c)}: {_quote(t)}" for c, t in table.columns.items()) + "}"
        return f"header = true, auto_detect = false, columns = {columns}, strict_mode = true"

    def _stage(self, con: duckdb.DuckDBPyConnection, table: SourceTable, staging: str, files: list[str],
               stamps: str) -> int:
        """The files' rows, strictly read and stamped, in the staging table; returns their count."""
        con.execute(
            f"create or replace table {staging} as select *, {stamps} "
            f"from read_csv({sql_list(files)}, {self.read_csv_options(table)})"
        )
        return con.execute(f"select count(*) from {staging}").fetchone()[0]

    @staticmethod
    def _check_keys(con: duckdb.DuckDBPyConnection, table: SourceTable, rows: str, files: list[str],
                    partition: str | None = None) -> None:
        """No null and no duplicate primary key among ``rows`` (a table or a subquery)."""
        key = table.primary_key
        bad = [value for (value,) in con.execute(
            f"select {key} from {rows} group by {key} having count(*) > 1 or {key} is null limit 3"
        ).fetchall()]
        if bad:
            raise IngestError(table, key_problems(table, files, bad), partition)

    @staticmethod
    def _check_event_times(con: duckdb.DuckDBPyConnection, table: SourceTable, rows: str, file: str,
                           partition: str) -> None:
        """Every event of ``rows`` happened on the export's day."""
        column = table.event_time_column
        if column is None:
            return
        keys = [value for (value,) in con.execute(
            f"select {table.primary_key} from {rows} "
            f"where {column} is null or cast({column} as date) <> date '{partition}' limit 3"
        ).fetchall()]
        if keys:
            raise IngestError(table, event_time_problems(table, [file], partition, keys), partition)

    @staticmethod
    def _check_columns(con: duckdb.DuckDBPyConnection, table: SourceTable, target: str, partition: str) -> None:
        """The raw table has the columns a load writes (one from before daily partitions has no
        ``_export_date``, and its rows no day to be replaced by)."""
        found = [name for (name, *_) in con.execute(f"describe {target}").fetchall()]
        written = [*table.columns, LOADED_AT, EXPORT_DATE]
        if found != written:
            problem = Problem(target, f"the raw table has the columns {', '.join(found)}; a load writes "
                                      f"{', '.join(written)}: drop it and load every day again")
            raise IngestError(table, [problem], partition)

    @staticmethod
    def _check_other_days(con: duckdb.DuckDBPyConnection, table: SourceTable, target: str, file: str,
                          partition: str) -> None:
        """No key of the day is already in the raw table on another day."""
        key = table.primary_key
        loaded_on = dict(con.execute(
            f"select {key}, {EXPORT_DATE} from {target} where {EXPORT_DATE} <> date '{partition}' "
            f"and {key} in (select {key} from {target} where {EXPORT_DATE} = date '{partition}') limit 3"
        ).fetchall())
        if loaded_on:
            raise IngestError(table, key_problems(table, [file], [], loaded_on), partition)


def _names(table: SourceTable) -> tuple[str, str]:
    """The raw table and its staging table."""
    return f"{table.schema}.{table.name}", f"{table.schema}.{table.name}__loading"


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """After a failed load: roll back what its transaction did, if it began one."""
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("rollback")


def _discard(con: duckdb.DuckDBPyConnection, staging: str) -> None:
    """After a failed load: roll it back and drop the staging table."""
    _rollback(con)
    con.execute(f"drop table if exists {staging}")


def _read_problems(table: SourceTable, files: list[str], options: str, error: duckdb.Error) -> list[Problem]:
    """The rejects name file, line and column; DuckDB's own message (first line) is the fallback."""
    return csv_problems(table, files, options) or [Problem(", ".join(files), _first_line(error))]


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]


@dataclass(frozen=True)
class BigQueryLoadPlan:
    """Every job a BigQuery replace submits, built without a client so it is testable offline.

    A state table: load, key check, ``create or replace`` (``swap_sql``). A daily partition of an
    event table (``day`` set): load, key and event-time checks, the raw table created partitioned
    by day if it does not exist (an empty table, so that the other days' keys can be read), the
    check against the keys of other days, then one query job that overwrites the day's partition
    (``swap_sql`` run with ``swap_config``).
    """

    dataset: str  # project.dataset
    target: str  # project.dataset.table
    staging: str  # project.dataset.table__loading
    source_uris: list[str]
    load_config: bigquery.LoadJobConfig
    duplicate_key_sql: str
    swap_sql: str  # the checked staging rows, stamped, into the raw table (or its day's partition)
    day: date | None = None
    event_time_sql: str | None = None  # staged events not on the day (None: the table has no event time)
    create_sql: str | None = None
    loaded_elsewhere_sql: str | None = None  # staged keys the raw table holds on another day
    swap_config: bigquery.QueryJobConfig | None = None  # destination: the day's partition, WRITE_TRUNCATE
    # After the swap: the day recorded in ingest_log.loaded_partitions (its row count a query parameter).
    record_sql: list[str] | None = None


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
    key = table.primary_key
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
    duplicate_key_sql = (
        f"select cast({key} as string) as key_value from `{staging}` "
        f"group by {key} having count(*) > 1 or {key} is null limit 3"
    )
    plan = BigQueryLoadPlan(
        dataset=dataset,
        target=target,
        staging=staging,
        source_uris=list(files),
        load_config=load_config,
        duplicate_key_sql=duplicate_key_sql,
        swap_sql=f"create or replace table `{target}` as select *, current_timestamp() as {LOADED_AT} from `{staging}`",
    )
    if day is None:
        return plan
    on_day = f"date '{day.isoformat()}'"
    record = f"{project}.{LOADED_PARTITIONS_SCHEMA}.{LOADED_PARTITIONS_TABLE}"
    columns = ", ".join(f"{c} {t}" for c, t in table.bigquery_columns.items())
    event_time = table.event_time_column
    return replace(
        plan,
        day=day,
        event_time_sql=(
            f"select cast({key} as string) as key_value from `{staging}` "
            f"where {event_time} is null or date({event_time}) <> {on_day} limit 3"
        ) if event_time else None,
        create_sql=(
            f"create table if not exists `{target}` ({columns}, {LOADED_AT} TIMESTAMP, {EXPORT_DATE} DATE) "
            f"partition by {EXPORT_DATE}"
        ),
        loaded_elsewhere_sql=(
            f"select cast({key} as string) as key_value, cast({EXPORT_DATE} as string) as loaded_on "
            f"from `{target}` where {EXPORT_DATE} <> {on_day} "
            f"and {key} in (select {key} from `{staging}`) limit 3"
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

        partition = plan.day.isoformat() if plan.day else None
        started = time.monotonic()
        client = self._client()

        def query(sql: str, job_config: bigquery.QueryJobConfig | None = None) -> list:
            return list(client.query(sql, job_config=job_config).result(timeout=BIGQUERY_TIMEOUT_SECONDS))

        try:
            client.create_dataset(plan.dataset, exists_ok=True, timeout=BIGQUERY_TIMEOUT_SECONDS)
            load = client.load_table_from_uri(plan.source_uris, plan.staging, job_config=plan.load_config)
            load.result(timeout=BIGQUERY_TIMEOUT_SECONDS)
            if bad := [row[0] for row in query(plan.duplicate_key_sql)]:
                raise IngestError(table, key_problems(table, files, bad), partition)
            if plan.event_time_sql and (late := [row[0] for row in query(plan.event_time_sql)]):
                raise IngestError(table, event_time_problems(table, files, partition, late), partition)
            if plan.create_sql:
                query(plan.create_sql)
            if plan.loaded_elsewhere_sql and (loaded_on := {key: day for key, day in query(plan.loaded_elsewhere_sql)}):
                raise IngestError(table, key_problems(table, files, [], loaded_on), partition)
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

    def _client(self) -> bigquery.Client:
        """A client authenticated like dbt's profile: the keyfile if given, else application default."""
        from google.cloud import bigquery

        if self.keyfile:
            return bigquery.Client.from_service_account_json(self.keyfile, project=self.project, location=self.location)
        return bigquery.Client(project=self.project, location=self.location)
