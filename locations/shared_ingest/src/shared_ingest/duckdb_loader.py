"""The DuckDB loader: the embedded dev warehouse, one writer."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from dataplatform.partitions import partition_key
from shared_ingest.catalogue import EXPORT_DATE, LOADED_AT, SourceTable
from shared_ingest.errors import IngestError, Problem, WarehouseError
from shared_ingest.loading import (
    LOADED_PARTITIONS_SCHEMA,
    LOADED_PARTITIONS_TABLE,
    LoadResult,
    WarehouseLoader,
    loaded_partitions_ddl,
    no_files,
)
from shared_ingest.row_checks import row_checks, run_row_checks, sql_date
from shared_ingest.validation import csv_problems, sql_list


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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
        with self._connect(table) as con:
            con.execute(f"create schema if not exists {table.schema}")
            try:
                rows = self._stage(con, table, staging, files, f"current_timestamp as {LOADED_AT}")
                if rows == 0:
                    raise IngestError(table, [Problem(files[-1], "no rows: a state export holds the whole table", 2)])
                run_row_checks(row_checks(table, staging, target, None, "duckdb"), _query(con), table, files)
                con.execute("begin transaction")
                con.execute(f"drop table if exists {target}")
                con.execute(f"alter table {staging} rename to {table.name}")
                con.execute("commit")
            except duckdb.Error as error:
                _discard(con, staging)
                raise self._load_error(table, files, options, error) from None
            except IngestError:
                _discard(con, staging)
                raise
        return LoadResult(rows=rows, files=files, seconds=time.monotonic() - started)

    def replace_partition(self, table: SourceTable, file: str, day: date) -> LoadResult:
        started = time.monotonic()
        target, _ = _names(table)
        options = self.read_csv_options(table)
        partition = partition_key(day)
        stamped = (f"select *, current_timestamp as {LOADED_AT}, {sql_date(day)} as {EXPORT_DATE} "
                   f"from read_csv({sql_list([file])}, {options})")
        record = f"{LOADED_PARTITIONS_SCHEMA}.{LOADED_PARTITIONS_TABLE}"
        with self._connect(table, partition) as con:
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
                con.execute(f"delete from {target} where {EXPORT_DATE} = {sql_date(day)}")
                (rows,) = con.execute(f"insert into {target} {stamped}").fetchone()
                day_rows = f"(select * from {target} where {EXPORT_DATE} = {sql_date(day)})"
                run_row_checks(row_checks(table, day_rows, target, day, "duckdb"), _query(con), table, [file], partition)
                # Recorded in the same transaction: a day is recorded if and only if its rows are in.
                con.execute(f"delete from {record} where source_table = ? and partition_day = ?", [table.qualified_name, day])
                con.execute(f"insert into {record} values (?, ?, ?, current_timestamp)", [table.qualified_name, day, rows])
                con.execute("commit")
            except duckdb.Error as error:
                _rollback(con)
                raise self._load_error(table, [file], options, error, partition) from None
            except IngestError:
                _rollback(con)
                raise
        return LoadResult(rows=rows, files=[file], seconds=time.monotonic() - started)

    def newest_load(self, schema: str, table: str, loaded_at_field: str) -> datetime | None:
        with duckdb.connect(self.database) as con:
            found = con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                                [schema, table]).fetchone()[0]
            if not found:
                return None
            (newest,) = con.execute(f'select max("{loaded_at_field}") from {schema}.{table}').fetchone()
        if newest is not None and newest.tzinfo is None:
            newest = newest.replace(tzinfo=UTC)  # a naive time in the warehouse is UTC
        return newest

    def _load_error(self, table: SourceTable, files: list[str], options: str, error: duckdb.Error,
                    partition: str | None = None) -> IngestError:
        """The warehouse's fault (its file, its WAL or its spill named, no space left, read-only) or
        the files': the rejects name file, line and column; DuckDB's own message is the fallback."""
        message = _first_line(error)
        if _warehouse_fault(self.database, str(error)):
            return WarehouseError(table, self.database, message, partition)
        problems = csv_problems(table, files, options) or [Problem(", ".join(files), message)]
        return IngestError(table, problems, partition)

    @contextlib.contextmanager
    def _connect(self, table: SourceTable, partition: str | None = None):
        """A connection to the warehouse. A DuckDB error outside the load itself (the file locked by
        another process, a schema that cannot be created) is the warehouse's, never the files'."""
        try:
            with duckdb.connect(self.database) as con:
                con.execute("set preserve_insertion_order = false")
                con.execute(f"set memory_limit = {_quote(self.memory_limit)}")
                yield con
        except duckdb.Error as error:
            raise WarehouseError(table, self.database, _first_line(error), partition) from None

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
    def _check_columns(con: duckdb.DuckDBPyConnection, table: SourceTable, target: str, partition: str) -> None:
        """The raw table has the columns a load writes (one from before daily partitions has no
        ``_export_date``, and its rows no day to be replaced by)."""
        found = [name for (name, *_) in con.execute(f"describe {target}").fetchall()]
        written = [*table.columns, LOADED_AT, EXPORT_DATE]
        if found != written:
            problem = Problem(target, f"the raw table has the columns {', '.join(found)}; a load writes "
                                      f"{', '.join(written)}: drop it and load every day again")
            raise IngestError(table, [problem], partition)


def _query(con: duckdb.DuckDBPyConnection):
    """The row checks' query function on this connection (inside the load's transaction)."""
    return lambda sql: con.execute(sql).fetchall()


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


# What DuckDB says when the disk under the warehouse is full or the warehouse cannot be written.
WAREHOUSE_FAULTS = ("No space left on device", "Read-only file system", "read-only mode", "Disk quota exceeded")


def _warehouse_fault(database: str, message: str) -> bool:
    """Whether DuckDB's error is the warehouse's: it names the warehouse's file (or its .wal or
    .tmp beside it), or says the disk is full or read-only. A landing file's problem does neither."""
    return Path(database).name in message or any(fault in message for fault in WAREHOUSE_FAULTS)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
