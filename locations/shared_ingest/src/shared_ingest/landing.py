"""Where source-system exports land: ``<root>/<source>/<table>/<YYYY-MM-DD>.csv``.

The root is a local folder in dev and a bucket (``gs://...``) in production; fsspec lists both.
"""

from __future__ import annotations

from datetime import date, timedelta

import fsspec

from shared_ingest.tables import SourceTable

FIRST_DAY = date(2026, 1, 1)


def day_date(day: int) -> date:
    """Calendar date of simulated day ``day`` (day 1 is FIRST_DAY)."""
    if day < 1:
        raise ValueError(f"days count from 1, got {day}")
    return FIRST_DAY + timedelta(days=day - 1)


def table_folder(root: str, table: SourceTable) -> str:
    return f"{root.rstrip('/')}/{table.source}/{table.name}"


def day_file(root: str, table: SourceTable, day: int) -> str:
    return f"{table_folder(root, table)}/{day_date(day).isoformat()}.csv"


def landed_files(root: str, table: SourceTable) -> list[str]:
    """Every export of a table, oldest first."""
    fs, folder = fsspec.core.url_to_fs(table_folder(root, table))
    if not fs.isdir(folder):
        return []
    protocol = "" if fs.protocol in ("file", ("file", "local")) else f"{_protocol(fs)}://"
    return sorted(f"{protocol}{p}" for p in fs.glob(f"{folder}/*.csv"))


def files_to_load(root: str, table: SourceTable) -> list[str]:
    """The exports that make up the raw table: the newest one for state, all for events."""
    files = landed_files(root, table)
    if table.history == "state":
        return files[-1:]
    return files


def latest_day(root: str, table: SourceTable) -> int:
    """The newest simulated day landed for a table (0 if none)."""
    files = landed_files(root, table)
    if not files:
        return 0
    newest = date.fromisoformat(files[-1].rsplit("/", 1)[-1].removesuffix(".csv"))
    return (newest - FIRST_DAY).days + 1


def _protocol(fs) -> str:
    return fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
