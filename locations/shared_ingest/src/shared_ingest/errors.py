"""What a failed ingest raises: the problems found in the landing files, each named by file, line
and column, or the warehouse's own fault (a full disk, a read-only file), named by its path; and
the promise that the raw table is unchanged."""

from dataclasses import dataclass

from shared_ingest.catalogue import SourceTable

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
    """Landing files could not be loaded; the raw table keeps its previous rows (for a daily
    partition: the partition's old rows and every other day's)."""

    def __init__(self, table: SourceTable, problems: list[Problem], partition: str | None = None):
        self.table = table
        self.problems = problems
        what = f"partition {partition} not loaded" if partition else "not loaded"
        shown = "\n".join(f"  - {p}" for p in problems[:SHOWN_PROBLEMS])
        more = f"\n  ... and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
        super().__init__(
            f"{table.qualified_name}: {what}, {table.schema}.{table.name} is unchanged. "
            f"{len(problems)} problem(s) in the landing files:\n{shown}{more}"
        )


class WarehouseError(IngestError):
    """The warehouse could not be written (no space left, read-only, locked): not the landing files' fault,
    which were read without a problem. The raw table keeps its previous rows."""

    def __init__(self, table: SourceTable, warehouse: str, message: str, partition: str | None = None):
        self.table = table
        self.problems = []
        self.warehouse = warehouse
        what = f"partition {partition} not loaded" if partition else "not loaded"
        RuntimeError.__init__(
            self,
            f"{table.qualified_name}: {what}, {table.schema}.{table.name} is unchanged. The warehouse {warehouse} "
            f"could not be written: {message}. The landing files are not at fault: free the space, make the "
            f"warehouse writable or end the process that holds its lock, then launch the run again.",
        )
