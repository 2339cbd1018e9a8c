"""Where source-system exports land: ``<root>/<source>/<table>/<YYYY-MM-DD>.csv``.

The root is a local folder in dev and a bucket (``gs://...``) in production; fsspec lists both.
An export is keyed by its day, the day of the daily partition that loads it. The layout is the
contract between whatever exports (a source system; in dev, a simulated one) and ingest, which
reads it: both take it from here, neither imports the other.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import fsspec
from dagster import ConfigurableResource

from dataplatform.partitions import partition_day


class LandedTable(Protocol):
    """What the layout needs of a table: its source system and its name (a ``SourceTable``, or a
    simulator's own list of what it exports)."""

    source: str
    name: str


class LoadedTable(LandedTable, Protocol):
    """A table ingest loads: also whether its exports are its history (events) or its state."""

    history: str


class LandingZone(ConfigurableResource):
    """Where the source systems drop their daily exports (a folder, or a bucket in production)."""

    root: str


def table_folder(root: str, table: LandedTable) -> str:
    return f"{root.rstrip('/')}/{table.source}/{table.name}"


def day_file(root: str, table: LandedTable, day: date) -> str:
    """The export of ``day``."""
    return f"{table_folder(root, table)}/{day.isoformat()}.csv"


def partition_file(root: str, table: LandedTable, partition_key: str) -> str:
    """The export a daily partition loads: the file of the partition's day."""
    return day_file(root, table, partition_day(partition_key))


def file_date(path: str) -> date:
    """The day of an export, from its file name."""
    return date.fromisoformat(path.rsplit("/", 1)[-1].removesuffix(".csv"))


def landed_files(root: str, table: LandedTable) -> list[str]:
    """Every export of a table, oldest first."""
    fs, folder = fsspec.core.url_to_fs(table_folder(root, table))
    if not fs.isdir(folder):
        return []
    protocol = "" if fs.protocol in ("file", ("file", "local")) else f"{_protocol(fs)}://"
    return sorted(f"{protocol}{p}" for p in fs.glob(f"{folder}/*.csv"))


def files_to_load(root: str, table: LoadedTable) -> list[str]:
    """The exports that make up the raw table: the newest one for state, all for events."""
    files = landed_files(root, table)
    if table.history == "state":
        return files[-1:]
    return files


def latest_day(root: str, table: LandedTable) -> date | None:
    """The day of the newest export landed for a table (None if none)."""
    files = landed_files(root, table)
    return file_date(files[-1]) if files else None


def _protocol(fs) -> str:
    return fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
