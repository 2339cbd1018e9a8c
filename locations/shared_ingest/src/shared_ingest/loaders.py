"""Loading landing files into a raw table: one interface, one implementation per warehouse.

Every load replaces the whole raw table atomically: rows go into a staging table first, are
checked, and only then swapped in, in one transaction. A bad file leaves the old table as it
was, and downstream assets never see half a load.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb
from dagster import ConfigurableResource

from shared_ingest.tables import SourceTable


class IngestError(RuntimeError):
    """A landing file could not be loaded; the message names the table and the file at fault."""


@dataclass(frozen=True)
class LoadResult:
    rows: int
    files: list[str]
    seconds: float


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class DuckDBLoader(ConfigurableResource):
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
