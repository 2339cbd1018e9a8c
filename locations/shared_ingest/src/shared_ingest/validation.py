"""What can be wrong with landed files, found before or instead of a load, named by file, line and column.

The checks that need no warehouse (a missing export, an empty file, a header that does not match
the catalogue, an undecodable header) run on the landing files themselves, for every warehouse.
Row-level problems are found by the warehouse's own reader; ``csv_problems`` re-reads the files
with DuckDB's rejects tables to say exactly which line and column broke a strict load.
"""

import csv
import io
from dataclasses import dataclass

import duckdb
import fsspec

from shared_ingest.landing import day_date, day_file, landed_files, latest_day
from shared_ingest.tables import SOURCE_TABLES, SourceTable

# An error message lists this many problems; the count says how many more there were.
SHOWN_PROBLEMS = 5


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a landing file. Line numbers count the header as line 1."""

    file: str
    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


class IngestError(RuntimeError):
    """Landing files could not be loaded; the raw table keeps its previous rows."""

    def __init__(self, table: SourceTable, problems: list[Problem]):
        self.table = table
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:SHOWN_PROBLEMS])
        more = f"\n  ... and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
        super().__init__(
            f"{table.qualified_name}: not loaded, {table.schema}.{table.name} is unchanged. "
            f"{len(problems)} problem(s) in the landing files:\n{shown}{more}"
        )


def missing_files(root: str, table: SourceTable) -> list[Problem]:
    """Exports that should have landed: every day up to the source's newest day (the newest only,
    for a state table). A table that lags its source system would silently load a stale day."""
    newest = max(latest_day(root, t) for t in SOURCE_TABLES if t.source == table.source)
    if newest == 0:
        return [Problem(day_file(root, table, 1).rsplit("/", 1)[0] + "/", "no export has landed for this table")]
    landed = set(landed_files(root, table))
    days = [newest] if table.history == "state" else range(1, newest + 1)
    return [
        Problem(day_file(root, table, day), f"export missing (the {table.source} system has landed up to "
                f"{day_date(newest)})")
        for day in days
        if day_file(root, table, day) not in landed
    ]


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


def landing_problems(root: str, table: SourceTable, files: list[str]) -> list[Problem]:
    """Everything wrong that can be seen without loading: missing exports and bad headers."""
    problems = missing_files(root, table)
    for path in files:
        problems += header_problems(table, path)
    return problems


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


def key_problems(table: SourceTable, files: list[str], values: list) -> list[Problem]:
    """Where null or duplicated primary key values sit (a plain CSV scan, only after the load failed)."""
    wanted = {"" if v is None else str(v) for v in values}
    seen: dict[str, str] = {}
    problems = []
    for path in files:
        with fsspec.open(path, "r", encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file)
            for row in reader:
                value = row[table.primary_key]
                if value not in wanted:
                    continue
                where = f"line {reader.line_num}"
                if value == "":
                    problems.append(Problem(path, "primary key is null", reader.line_num, table.primary_key))
                elif value in seen:
                    problems.append(Problem(path, f"duplicate primary key {value} (first at {seen[value]})",
                                            reader.line_num, table.primary_key))
                else:
                    seen[value] = f"{path}, {where}"
    return problems
