"""What can be wrong with landed files, found before or instead of a load, named by file, line and column
(as ``errors.Problem``).

The checks that need no warehouse (a missing export, an empty file, a header that does not match
the catalogue, an undecodable header) run on the landing files themselves, for every warehouse.
Row-level problems are found by the warehouse's own reader; ``csv_problems`` re-reads the files
with DuckDB's rejects tables to say exactly which line and column broke a strict load. The
warehouse's checks on the staged rows (null, duplicate or already loaded keys; events not on the
export's day) find values; ``key_problems`` and ``event_time_problems`` find their lines.
"""

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from datetime import date

import duckdb
import fsspec

from dataplatform.landing import day_file, landed_files, latest_day, partition_file, table_folder
from shared_ingest.catalogue import SourceTable
from shared_ingest.errors import Problem


def missing_files(root: str, table: SourceTable, partition_key: str | None = None,
                  source_tables: Sequence[SourceTable] = ()) -> list[Problem]:
    """Exports that should have landed. A daily partition of an event table needs exactly its
    day's export. A state table needs its source's newest day (over ``source_tables``, the tables
    of its source): a table that lags its source system would silently load a stale day."""
    if table.history == "events":
        path = partition_file(root, table, partition_key)
        fs, local = fsspec.core.url_to_fs(path)
        if fs.exists(local):
            return []
        return [Problem(path, f"export missing: partition {partition_key} loads exactly this day's export")]
    newest = max((day for t in (*source_tables, table) if (day := latest_day(root, t))), default=None)
    if newest is None:
        return [Problem(table_folder(root, table) + "/", "no export has landed for this table")]
    path = day_file(root, table, newest)
    if path in landed_files(root, table):
        return []
    return [Problem(path, f"export missing (the {table.source} system has landed up to {newest})")]


def header_problems(table: SourceTable, path: str) -> list[Problem]:
    """The file's first line must be exactly the declared columns, in order, in UTF-8."""
    with fsspec.open(path, "rb") as file:
        first = file.readline()
    if not first.strip():
        return [Problem(path, "file is empty: expected a header row " + ",".join(table.columns), line=1)]
    try:
        text = first.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        return [Problem(path, f"not UTF-8 ({error.reason} at byte {error.start}); re-export as UTF-8", line=1)]
    found = next(csv.reader(io.StringIO(text)))
    expected = list(table.columns)
    if found == expected:
        return []
    problems = [Problem(path, "required column missing from the header", 1, c) for c in expected if c not in found]
    problems += [Problem(path, f"column not in the source's declaration ({table.declared_in})", 1, c)
                 for c in found if c not in expected]
    if not problems:
        problems.append(Problem(path, f"columns out of order: expected {','.join(expected)}", line=1))
    return problems


def landing_problems(root: str, table: SourceTable, files: list[str], partition_key: str | None = None,
                     source_tables: Sequence[SourceTable] = ()) -> list[Problem]:
    """Everything wrong that can be seen without loading: missing exports and bad headers."""
    missing = missing_files(root, table, partition_key, source_tables)
    absent = {problem.file for problem in missing}
    return missing + [problem for path in files if path not in absent for problem in header_problems(table, path)]


def sql_list(values: list[str]) -> str:
    """A DuckDB list literal of strings, quotes escaped."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def csv_problems(table: SourceTable, files: list[str], read_csv_options: str) -> list[Problem]:
    """Rows a strict read rejects, with file, line and column (DuckDB's rejects tables, in memory)."""
    with duckdb.connect() as con:
        con.execute(
            f"create temp table scanned as select * from read_csv({sql_list(files)}, {read_csv_options}, "
            "store_rejects = true, rejects_limit = 100)"
        )
        rows = con.execute(
            "select s.file_path, e.line, e.column_name, e.error_type, e.error_message "
            "from reject_errors e join reject_scans s using (scan_id, file_id) order by s.file_path, e.line"
        ).fetchall()
    return [Problem(path, f"{kind}: {message}", int(line), column) for path, line, column, kind, message in rows]


def _rows_where(files: list[str], columns: Sequence[str],
                values: set[tuple[str, ...]]) -> Iterator[tuple[str, int, dict[str, str]]]:
    """(file, line, row) of every row whose ``columns`` hold one of ``values``, in file order."""
    for path in files:
        with fsspec.open(path, "r", encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file)
            for row in reader:
                if tuple(row[c] for c in columns) in values:
                    yield path, reader.line_num, row


def _key_text(table: SourceTable, values: Sequence[str]) -> str:
    """A key's values as a message names them: ``5``, or ``(invoice_id=5, line_number=1)``."""
    if len(table.primary_key) == 1:
        return values[0]
    return "(" + ", ".join(f"{c}={v}" for c, v in zip(table.primary_key, values, strict=True)) + ")"


def _as_key(value) -> tuple[str, ...]:
    """A key as the check queries return it (a tuple, None for null) and as the CSV holds it ('' for null)."""
    return tuple("" if v is None else str(v) for v in (value if isinstance(value, tuple | list) else (value,)))


def key_problems(table: SourceTable, files: list[str], values: Sequence,
                 loaded_on: Mapping[tuple, object] | None = None) -> list[Problem]:
    """Where null, duplicated or already loaded primary keys sit (a plain CSV scan, only after a
    check failed). ``values``: key tuples; ``loaded_on``: keys of these files the raw table holds
    on another day, and that day."""
    loaded_on = {_as_key(value): day for value, day in (loaded_on or {}).items()}
    wanted = {_as_key(v) for v in values} | set(loaded_on)
    key = table.primary_key
    seen: dict[tuple[str, ...], str] = {}
    problems = []
    for path, line, row in _rows_where(files, key, wanted):
        value = tuple(row[c] for c in key)
        if nulls := [c for c, v in zip(key, value, strict=True) if v == ""]:
            problems.append(Problem(path, "primary key is null", line, ", ".join(nulls)))
        elif value in seen:
            problems.append(Problem(path, f"duplicate primary key {_key_text(table, value)} (first at {seen[value]})",
                                    line, ", ".join(key)))
        else:
            seen[value] = f"{path}, line {line}"
            if value in loaded_on:
                problems.append(Problem(path, f"primary key {_key_text(table, value)} already loaded on {loaded_on[value]}",
                                        line, ", ".join(key)))
    shown = sorted(_key_text(table, v) for v in wanted)
    return problems or [Problem(", ".join(files), f"primary key values {shown} are null, duplicated or already loaded",
                                column=", ".join(key))]


def event_time_problems(table: SourceTable, files: list[str], day: date, keys: Sequence) -> list[Problem]:
    """Where the events with these primary keys, found outside the export's ``day``, sit: an export
    holds its day's events only, so a day's partition is exactly that day's rows."""
    column = table.event_time_column
    problems = []
    for path, line, row in _rows_where(files, table.primary_key, {_as_key(k) for k in keys}):
        when = row[column]
        if when:
            problems.append(Problem(path, f"{column} {when} is not on {day}, the export's day", line, column))
        else:
            problems.append(Problem(path, f"{column} is empty, not a time on {day}", line, column))
    shown = sorted(_key_text(table, _as_key(k)) for k in keys)
    return problems or [Problem(", ".join(files), f"events {shown} are not on {day}, the export's day", column=column)]
