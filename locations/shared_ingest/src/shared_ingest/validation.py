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
from collections.abc import Iterator, Mapping

import duckdb
import fsspec

from shared_ingest.errors import Problem
from shared_ingest.landing import day_file, landed_files, latest_day, partition_file, table_folder
from shared_ingest.tables import SOURCE_TABLES, SourceTable


def missing_files(root: str, table: SourceTable, partition_key: str | None = None) -> list[Problem]:
    """Exports that should have landed. A daily partition of an event table needs exactly its
    day's export. A state table needs its source's newest day: a table that lags its source system
    would silently load a stale day."""
    if table.history == "events":
        path = partition_file(root, table, partition_key)
        fs, local = fsspec.core.url_to_fs(path)
        if fs.exists(local):
            return []
        return [Problem(path, f"export missing: partition {partition_key} loads exactly this day's export")]
    newest = max((day for t in SOURCE_TABLES if t.source == table.source if (day := latest_day(root, t))), default=None)
    if newest is None:
        return [Problem(table_folder(root, table) + "/", "no export has landed for this table")]
    path = day_file(root, table, newest)
    if path in landed_files(root, table):
        return []
    return [Problem(path, f"export missing (the {table.source} system has landed up to {newest})")]


def header_problems(table: SourceTable, path: str) -> list[Problem]:
    """The file's first line must be exactly the catalogue's columns, in order, in UTF-8."""
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
    problems += [Problem(path, "column not in the catalogue (tables.py)", 1, c) for c in found if c not in expected]
    if not problems:
        problems.append(Problem(path, f"columns out of order: expected {','.join(expected)}", line=1))
    return problems


def landing_problems(root: str, table: SourceTable, files: list[str],
                     partition_key: str | None = None) -> list[Problem]:
    """Everything wrong that can be seen without loading: missing exports and bad headers."""
    missing = missing_files(root, table, partition_key)
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


def _rows_where(files: list[str], column: str, values: set[str]) -> Iterator[tuple[str, int, dict[str, str]]]:
    """(file, line, row) of every row whose ``column`` is one of ``values``, in file order."""
    for path in files:
        with fsspec.open(path, "r", encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file)
            for row in reader:
                if row[column] in values:
                    yield path, reader.line_num, row


def key_problems(table: SourceTable, files: list[str], values: list,
                 loaded_on: Mapping[str, object] | None = None) -> list[Problem]:
    """Where null, duplicated or already loaded primary key values sit (a plain CSV scan, only after
    a check failed). ``loaded_on``: keys of these files the raw table holds on another day, and that day."""
    loaded_on = {str(value): day for value, day in (loaded_on or {}).items()}
    wanted = {"" if v is None else str(v) for v in values} | set(loaded_on)
    key = table.primary_key
    seen: dict[str, str] = {}
    problems = []
    for path, line, row in _rows_where(files, key, wanted):
        value = row[key]
        if value == "":
            problems.append(Problem(path, "primary key is null", line, key))
        elif value in seen:
            problems.append(Problem(path, f"duplicate primary key {value} (first at {seen[value]})", line, key))
        else:
            seen[value] = f"{path}, line {line}"
            if value in loaded_on:
                problems.append(Problem(path, f"primary key {value} already loaded on {loaded_on[value]}", line, key))
    return problems or [Problem(", ".join(files), f"primary key values {sorted(wanted)} are null, duplicated or "
                                                  "already loaded", column=key)]


def event_time_problems(table: SourceTable, files: list[str], day: str, keys: list) -> list[Problem]:
    """Where the events with these primary keys, found outside the export's ``day``, sit: an export
    holds its day's events only, so a day's partition is exactly that day's rows."""
    column = table.event_time_column
    problems = []
    for path, line, row in _rows_where(files, table.primary_key, {str(k) for k in keys}):
        when = row[column]
        if when:
            problems.append(Problem(path, f"{column} {when} is not on {day}, the export's day", line, column))
        else:
            problems.append(Problem(path, f"{column} is empty, not a time on {day}", line, column))
    return problems or [Problem(", ".join(files), f"events {sorted(map(str, keys))} are not on {day}, the export's day",
                                column=column)]
