"""The catalogue of bad landing files, each through the real ingest asset.

For every case: the asset fails with an error naming the file, the line and the column; the raw
table it would have replaced is unchanged (row count and checksum before and after, no staging
table left behind); and an asset downstream of it does not run.
"""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from dagster import AssetKey, asset, materialize
from dataplatform.settings import resolve_settings
from shared_ingest.definitions import build_definitions
from shared_ingest.generator import generate_day
from support import query

pytestmark = pytest.mark.shared_ingest

DAY_2 = "2026-01-02.csv"


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> Path:
    """Two good days landed and ingested: the state every bad file must leave untouched."""
    local = tmp_path_factory.mktemp("good")
    for day in (1, 2):
        generate_day(str(local / "landing"), day, scale=0.05)
    result = ingest(local, None)
    assert result.success
    return local


def ingest(local: Path, key: AssetKey | None, downstream_ran: list | None = None):
    """Materialize one ingest asset (all if key is None) from the location's own definitions."""
    settings = resolve_settings({"PLATFORM_ENV": "dev", "PLATFORM_LOCAL_DIR": str(local), "PLATFORM_SCHEDULES": "stopped"})
    defs = build_definitions(settings)
    assets = [a for a in defs.assets if key is None or key in a.keys]
    if key is not None:
        @asset(deps=[key], name="downstream_of_ingest")
        def downstream() -> None:
            downstream_ran.append(True)

        assets.append(downstream)
    return materialize(assets, resources=defs.resources, raise_on_error=False)


def fingerprint(database: Path, table: str) -> tuple:
    return query(database, f"select count(*), md5(string_agg(t::varchar, '|' order by t::varchar)) from {table} t")[0]


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


def duplicate_key(of_line: int, at_line: int) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        key = lines(path)[of_line - 1].split(",")[0]
        edit_line(at_line, lambda f: [key, *f[1:]])(path)
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


# id: (source, table, corruption of the day-2 export (None: delete it), what the error must say)
CASES = {
    "too-many-columns": ("shop", "orders", edit_line(5, lambda f: [*f, "surplus"]),
                         [DAY_2, "line 5", "TOO MANY COLUMNS"]),
    "unterminated-quote": ("shop", "orders", edit_line(6, lambda f: [*f[:3], '"' + f[3], *f[4:]]),
                           [DAY_2, "line 6", "column status", "UNQUOTED VALUE"]),
    "missing-column": ("shop", "orders", drop_column("channel"),
                       [DAY_2, "line 1", "column channel", "required column missing"]),
    "extra-column": ("shop", "orders", add_column("coupon_code"),
                     [DAY_2, "line 1", "column coupon_code", "not in the catalogue"]),
    "wrong-type": ("shop", "orders", edit_line(7, lambda f: ["seven", *f[1:]]),
                   [DAY_2, "line 7", "column order_id", "CAST", '"seven"']),
    "duplicate-key": ("shop", "orders", duplicate_key(of_line=3, at_line=9),
                      [DAY_2, "line 9", "column order_id", "duplicate primary key", "line 3"]),
    "null-key": ("shop", "orders", edit_line(4, lambda f: ["", *f[1:]]),
                 [DAY_2, "line 4", "column order_id", "primary key is null"]),
    "empty-file": ("shop", "orders", lambda path: path.write_bytes(b""), [DAY_2, "line 1", "file is empty"]),
    "header-only-state-export": ("shop", "customers", header_only, [DAY_2, "no rows"]),
    "missing-file": ("shop", "orders", None, [f"shop/orders/{DAY_2}", "export missing", "2026-01-02"]),
    "latin-1-value": ("shop", "customers", latin1_value(line=4, field=1),
                      [DAY_2, "line 4", "column full_name", "INVALID ENCODING"]),
    "utf-16-file": ("erp", "products", reencode("utf-16"), [DAY_2, "line 1", "not UTF-8"]),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_file_fails_naming_it_and_leaves_the_raw_table_unchanged(landed, tmp_path, case):
    source, table, corrupt, expected = CASES[case]
    local = tmp_path / "local"
    shutil.copytree(landed, local)
    warehouse, raw = local / "warehouse.duckdb", f"raw_{source}.{table}"
    before = fingerprint(warehouse, raw)
    export = local / "landing" / source / table / DAY_2
    if corrupt is None:
        export.unlink()
    else:
        corrupt(export)

    downstream_ran: list = []
    result = ingest(local, AssetKey(["raw", source, table]), downstream_ran)

    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    error = failure.step_failure_data.error
    message = "\n".join(part.message for part in (error, error.cause) if part is not None)
    assert f"{source}.{table}: not loaded, {raw} is unchanged" in message
    for words in expected:
        assert words in message, f"{words!r} not in the error:\n{message}"
    assert fingerprint(warehouse, raw) == before
    leftovers = query(warehouse, "select table_name from information_schema.tables where table_name like '%__loading'")
    assert leftovers == []
    assert downstream_ran == [], "an asset downstream of the failed ingest ran"
