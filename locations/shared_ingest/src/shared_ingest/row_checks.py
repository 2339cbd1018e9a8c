"""The checks every warehouse runs on a load's rows before it commits them, in one sequence.

Each backend stages a load's rows (DuckDB: inside the transaction that replaces the day; BigQuery:
in a ``__loading`` table) and runs the same checks on them: no null or duplicate primary key (of
one column or several); for a daily partition, every event on the export's day, and no key the raw
table holds on another day. A check's query returns at most three offenders; the landing files are then scanned to name the
line of each (``validation``). Only the SQL dialect differs, in one place: how a time is cut to a
date.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from shared_ingest.catalogue import EXPORT_DATE, SourceTable
from shared_ingest.errors import IngestError, Problem
from shared_ingest.validation import event_time_problems, key_problems

# How each warehouse's SQL cuts a time to its date.
AS_DATE = {"duckdb": "cast({} as date)", "bigquery": "date({})"}


@dataclass(frozen=True)
class RowCheck:
    """One check: a query for offending rows, whether it reads the raw table, and the problems
    (file, line, column) its offenders make in the landing files."""

    name: str
    sql: str
    reads_raw_table: bool
    problems: Callable[[list[tuple], list[str]], list[Problem]]


def sql_date(day: date) -> str:
    """A day as a SQL date literal, the same in both dialects."""
    return f"date '{day.isoformat()}'"


def row_checks(table: SourceTable, staged: str, raw: str, day: date | None, dialect: str) -> tuple[RowCheck, ...]:
    """The checks of ``staged`` (a relation, quoted as the warehouse needs), a load of ``raw``: of
    the whole table (``day`` None), or of one day's partition. A key of several columns is checked
    as one: each offender is returned as the tuple of its key's values."""
    key = table.primary_key
    columns = ", ".join(key)
    as_text = ", ".join(f"cast({c} as string) as {c}" for c in key)
    null = " or ".join(f"{c} is null" for c in key)
    checks = [RowCheck(
        "keys",
        f"select {as_text} from {staged} group by {columns} having count(*) > 1 or {null} limit 3",
        False, lambda found, files: key_problems(table, files, found),
    )]
    if day is None:
        return tuple(checks)
    on_day = sql_date(day)
    if column := table.event_time_column:
        checks.append(RowCheck(
            "event_times",
            f"select {as_text} from {staged} "
            f"where {column} is null or {AS_DATE[dialect].format(column)} <> {on_day} limit 3",
            False, lambda found, files: event_time_problems(table, files, day, found),
        ))
    same_key = " and ".join(f"s.{c} = r.{c}" for c in key)
    checks.append(RowCheck(
        "loaded_elsewhere",
        f"select {', '.join(f'cast(r.{c} as string) as {c}' for c in key)}, cast(r.{EXPORT_DATE} as string) as loaded_on "
        f"from {raw} as r where r.{EXPORT_DATE} <> {on_day} "
        f"and exists (select 1 from {staged} as s where {same_key}) limit 3",
        True, lambda found, files: key_problems(table, files, [], {tuple(row[:-1]): row[-1] for row in found}),
    ))
    return tuple(checks)


def run_row_checks(checks: Sequence[RowCheck], query: Callable[[str], list[tuple]], table: SourceTable,
                   files: list[str], partition: str | None = None,
                   before_raw_table: Callable[[], None] | None = None) -> None:
    """Run ``checks`` in order with ``query``; the first that finds offenders raises IngestError
    naming their lines. ``before_raw_table`` runs once, before the first check that reads the raw
    table (BigQuery creates it there, empty and partitioned, on a first load)."""
    prepared = False
    for check in checks:
        if check.reads_raw_table and before_raw_table is not None and not prepared:
            before_raw_table()
            prepared = True
        if found := query(check.sql):
            raise IngestError(table, check.problems(found, files), partition)
