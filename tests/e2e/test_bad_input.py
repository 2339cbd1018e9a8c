"""The catalogue of bad landing files, each through the real ingest asset.

On the platform's test project (tests/fixtures/subscriptions): its sources YAML declares what
ingest loads (billing's accounts, invoices and invoice lines, whose key is two columns; support's
tickets). For every case: the asset fails with an error naming the file, the line and the column;
the raw table it would have replaced is unchanged (row count and checksum of every export day
before and after, no staging table left behind); and an asset downstream of it does not run. A bad
event export fails its day's partition only: day 1 and day 2's previous rows stay as they were.
"""

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from dagster import AssetKey, asset, materialize
from fixtures.subscriptions.landing import land_day
from support import checksums_by, day, query

from dataplatform.partitions import partition_range_tags, partitions_start
from dataplatform.settings import resolve_settings
from shared_ingest.catalogue import load_catalogue
from shared_ingest.components import build_definitions

DAY_1, DAY_2, DAY_3 = day(1), day(2), day(3)
FILE_2 = f"{DAY_2}.csv"
RANGE = partition_range_tags(DAY_1, DAY_2)


@pytest.fixture(scope="module")
def project(fixture_root) -> Path:
    """The test project's dbt folder in its workspace: the sources ingest loads."""
    return fixture_root / "dbt"


@pytest.fixture(scope="module")
def ingested(project, tmp_path_factory) -> Path:
    """Two good days landed and ingested: the state every bad file must leave untouched."""
    local = tmp_path_factory.mktemp("good")
    for k in (1, 2):
        land_day(local / "landing", partitions_start(), k)
    defs = definitions(local, project)
    assert materialize(defs.assets, resources=defs.resources, tags=RANGE).success
    return local


def definitions(local: Path, project: Path):
    settings = resolve_settings({"PLATFORM_ENV": "dev", "PLATFORM_LOCAL_DIR": str(local), "PLATFORM_SCHEDULES": "stopped",
                                 "DBT_PROJECT_DIR": str(project)})
    return build_definitions(settings)


def ingest(local: Path, project: Path, key: AssetKey, downstream_ran: list):
    """Materialize one ingest asset (day 2's partition of an event table) and an asset downstream of it."""
    defs = definitions(local, project)
    ingest_asset = next(a for a in defs.assets if key in a.keys)

    @asset(deps=[key], name="downstream_of_ingest", partitions_def=ingest_asset.partitions_def,
           backfill_policy=ingest_asset.backfill_policy)
    def downstream() -> None:
        downstream_ran.append(True)

    partition = DAY_2 if ingest_asset.partitions_def else None
    return materialize([ingest_asset, downstream], resources=defs.resources, partition_key=partition,
                       raise_on_error=False)


def fingerprint(database: Path, table: str, by_day: bool) -> list[tuple]:
    """Row count and checksum of the raw table; of each export day for an event table."""
    return checksums_by(database, table, "_export_date" if by_day else "null")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def edit_line(number: int, edit: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    """Change one line (1 = the header) of the file, field by field."""
    def apply(path: Path) -> None:
        rows = lines(path)
        rows[number - 1] = ",".join(edit(rows[number - 1].rstrip("\n").split(","))) + "\n"
        path.write_text("".join(rows))
    return apply


def drop_column(name: str) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        rows = [r.rstrip("\n").split(",") for r in lines(path)]
        index = rows[0].index(name)
        path.write_text("".join(",".join(r[:index] + r[index + 1:]) + "\n" for r in rows))
    return apply


def add_column(name: str) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        rows = lines(path)
        path.write_text("".join(r.rstrip("\n") + ("," + name if i == 0 else ",x") + "\n" for i, r in enumerate(rows)))
    return apply


def duplicate_key(of_line: int, at_line: int, width: int = 1) -> Callable[[Path], None]:
    """Line ``at_line`` gets the primary key of ``of_line`` (its first ``width`` fields)."""
    def apply(path: Path) -> None:
        key = lines(path)[of_line - 1].split(",")[:width]
        edit_line(at_line, lambda f: [*key, *f[width:]])(path)
    return apply


def key_of_day_1(of_line: int, at_line: int, width: int = 1) -> Callable[[Path], None]:
    """Day 2 reuses a primary key (its first ``width`` fields) that day 1's export (already
    loaded) has on ``of_line``."""
    def apply(path: Path) -> None:
        key = lines(path.with_name(f"{DAY_1}.csv"))[of_line - 1].split(",")[:width]
        edit_line(at_line, lambda f: [*key, *f[width:]])(path)
    return apply


def latin1_value(line: int, field: int) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        rows = lines(path)
        fields = rows[line - 1].split(",")
        fields[field] = "Zoë Müller"
        rows[line - 1] = ",".join(fields)
        path.write_bytes("".join(rows).encode("latin-1"))
    return apply


def reencode(encoding: str) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(path.read_text().encode(encoding))


def header_only(path: Path) -> None:
    path.write_text(lines(path)[0])


# Day 2's exports (tests/fixtures/subscriptions/landing.py): accounts (state) lines 2-7; invoices
# lines 2-4 (invoice_id,account_id,issued_at,status,currency); invoice lines 2-7, two per invoice
# (invoice_id,line_number,...: 201,1 / 201,2 / 202,1 / 202,2 / ...); tickets lines 2-3.
# id: (source, table, corruption of the day-2 export (None: delete it), what the error must say)
CASES = {
    "too-many-columns": ("billing", "invoices", edit_line(3, lambda f: [*f, "surplus"]),
                         [FILE_2, "line 3", "TOO MANY COLUMNS"]),
    "unterminated-quote": ("billing", "invoices", edit_line(4, lambda f: [*f[:3], '"' + f[3], *f[4:]]),
                           [FILE_2, "line 4", "column status", "UNQUOTED VALUE"]),
    "missing-column": ("billing", "invoices", drop_column("currency"),
                       [FILE_2, "line 1", "column currency", "required column missing"]),
    "extra-column": ("billing", "invoices", add_column("coupon_code"),
                     [FILE_2, "line 1", "column coupon_code", "not in the source's declaration", "_billing__sources.yml"]),
    "wrong-type": ("billing", "invoices", edit_line(4, lambda f: ["seven", *f[1:]]),
                   [FILE_2, "line 4", "column invoice_id", "CAST", '"seven"']),
    "not-a-boolean": ("billing", "accounts", edit_line(3, lambda f: [*f[:3], "maybe", *f[4:]]),
                      [FILE_2, "line 3", "column is_active", "CAST", '"maybe"']),
    "duplicate-key": ("billing", "invoices", duplicate_key(of_line=2, at_line=4),
                      [FILE_2, "line 4", "column invoice_id", "duplicate primary key", "line 2"]),
    "null-key": ("billing", "invoices", edit_line(3, lambda f: ["", *f[1:]]),
                 [FILE_2, "line 3", "column invoice_id", "primary key is null"]),
    # A key of two columns: a repeated invoice_id is no duplicate (two lines per invoice); a pair is.
    "duplicate-composite-key": ("billing", "invoice_lines", duplicate_key(of_line=3, at_line=5, width=2),
                                [FILE_2, "line 5", "column invoice_id, line_number",
                                 "duplicate primary key (invoice_id=201, line_number=2)", "line 3"]),
    "null-in-composite-key": ("billing", "invoice_lines", edit_line(4, lambda f: [f[0], "", *f[2:]]),
                              [FILE_2, "line 4", "column line_number", "primary key is null"]),
    "empty-file": ("billing", "invoices", lambda path: path.write_bytes(b""), [FILE_2, "line 1", "file is empty"]),
    "header-only-state-export": ("billing", "accounts", header_only, [FILE_2, "no rows"]),
    "missing-file": ("billing", "invoices", None, [f"billing/invoices/{FILE_2}", "export missing", f"partition {DAY_2}"]),
    "event-on-another-day": ("billing", "invoices", edit_line(3, lambda f: [*f[:2], f"{DAY_3} 10:00:00", *f[3:]]),
                             [FILE_2, "line 3", "column issued_at", f"{DAY_3} 10:00:00 is not on {DAY_2}"]),
    "ticket-without-time": ("support", "tickets", edit_line(3, lambda f: [*f[:2], "", *f[3:]]),
                            [FILE_2, "line 3", "column opened_at", "opened_at is empty"]),
    "key-loaded-on-another-day": ("billing", "invoices", key_of_day_1(of_line=2, at_line=3),
                                  [FILE_2, "line 3", "column invoice_id", f"already loaded on {DAY_1}"]),
    "composite-key-loaded-on-another-day": ("billing", "invoice_lines", key_of_day_1(of_line=2, at_line=3, width=2),
                                            [FILE_2, "line 3", "column invoice_id, line_number",
                                             f"primary key (invoice_id=101, line_number=1) already loaded on {DAY_1}"]),
    "latin-1-value": ("billing", "accounts", latin1_value(line=4, field=1),
                      [FILE_2, "line 4", "column account_name", "INVALID ENCODING"]),
    "utf-16-file": ("support", "tickets", reencode("utf-16"), [FILE_2, "line 1", "not UTF-8"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_file_fails_naming_it_and_leaves_the_raw_table_unchanged(ingested, project, tmp_path, case):
    source, table, corrupt, expected = CASES[case]
    local = tmp_path / "local"
    shutil.copytree(ingested, local)
    warehouse, raw = local / "warehouse.duckdb", f"raw_{source}.{table}"
    events = load_catalogue(project).get(source, table).history == "events"
    before = fingerprint(warehouse, raw, by_day=events)
    export = local / "landing" / source / table / FILE_2
    if corrupt is None:
        export.unlink()
    else:
        corrupt(export)

    downstream_ran: list = []
    result = ingest(local, project, AssetKey(["raw", source, table]), downstream_ran)

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    error = failure.step_failure_data.error
    message = "\n".join(part.message for part in (error, error.cause) if part is not None)
    what = f"partition {DAY_2} not loaded" if events else "not loaded"
    assert f"{source}.{table}: {what}, {raw} is unchanged" in message
    for words in expected:
        assert words in message, f"{words!r} not in the error:\n{message}"
    after = fingerprint(warehouse, raw, by_day=events)
    assert after == before  # for an event table: day 1, and day 2's rows from before the bad export
    assert [d for d, *_ in after] == ([date.fromisoformat(DAY_1), date.fromisoformat(DAY_2)] if events else [None])
    leftovers = query(warehouse, "select table_name from information_schema.tables where table_name like '%__loading'")
    assert leftovers == []
    assert downstream_ran == [], "an asset downstream of the failed ingest ran"
