"""The source tables, read from where dbt declares them: the dbt project's sources YAML.

One declaration drives ingest and dbt. A source table that the platform loads declares, in its
dbt sources YAML, every column of its export in file order with a ``data_type``, and under
``config.meta.ingest`` its primary key (one column or several), its history (``state``: each
export is the whole table; ``events``: each export is the day's new rows) and, optionally, the
column that says when an event happened (ingest checks it falls on the export's day)::

    sources:
      - name: shop
        schema: raw_shop                      # the raw schema (dbt's default: the source's name)
        config:
          loaded_at_field: _loaded_at         # ingest stamps every row with its load time
        tables:
          - name: orders
            config:
              event_time: _export_date        # events: a day's dbt batch reads that day's export
              meta:
                ingest: {history: events, primary_key: [order_id], event_time_column: ordered_at}
            columns:
              - {name: order_id, data_type: bigint}
              - {name: ordered_at, data_type: timestamp}

A source whose ``loader`` names another tool (``loader: fivetran``) is loaded elsewhere: the
platform observes it and never writes it, and it needs only ``loaded_at_field``.

The YAML is read as files, without dbt: the ingest location (and its image) has no dbt. A
declaration that is incomplete fails the location's load with one error naming every file,
table and field at fault.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from dagster import AssetKey

from dataplatform.keys import loaded_elsewhere, source_asset_key

# "state": each day's file is the whole table as of that day; the raw table is the newest file.
# "events": each day's file holds that day's new rows; the raw table is every file together, one
# daily partition per export (rows stamped with the export's day).
History = Literal["state", "events"]
HISTORIES = ("state", "events")

# What ingest adds to every row it loads, and what the dbt declarations must name as such.
LOADED_AT = "_loaded_at"  # the load's time: dbt's loaded_at_field (freshness, the `fresh` test)
EXPORT_DATE = "_export_date"  # an event row's export day, its partition: dbt's event_time

# The column types a declaration may use (dbt's ``data_type``, any case), as DuckDB reads them
# from a CSV and as a BigQuery load job declares them.
COLUMN_TYPES: Mapping[str, tuple[str, str]] = {
    "bigint": ("BIGINT", "INT64"),
    "integer": ("INTEGER", "INT64"),
    "int": ("INTEGER", "INT64"),
    "varchar": ("VARCHAR", "STRING"),
    "string": ("VARCHAR", "STRING"),
    "text": ("VARCHAR", "STRING"),
    "boolean": ("BOOLEAN", "BOOL"),
    "bool": ("BOOLEAN", "BOOL"),
    "date": ("DATE", "DATE"),
    "timestamp": ("TIMESTAMP", "TIMESTAMP"),
    "double": ("DOUBLE", "FLOAT64"),
    "float64": ("DOUBLE", "FLOAT64"),
}
_DECIMAL = re.compile(r"(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)")
ACCEPTED_TYPES = (*COLUMN_TYPES, "decimal(p,s)", "numeric(p,s)")


class CatalogueError(ValueError):
    """A source declaration the platform cannot load from; the message names every file, table
    and field at fault."""


def warehouse_types(data_type: str) -> tuple[str, str] | None:
    """(DuckDB type, BigQuery type) of a declared ``data_type``, or None if it is not accepted."""
    spelled = data_type.strip().lower()
    if spelled in COLUMN_TYPES:
        return COLUMN_TYPES[spelled]
    if match := _DECIMAL.fullmatch(spelled):
        precision, scale = int(match[1]), int(match[2])
        if scale > precision or precision > 38:
            return None
        # BigQuery's NUMERIC holds 29 digits before the point and 9 after; BIGNUMERIC the rest.
        return f"DECIMAL({precision},{scale})", "NUMERIC" if precision - scale <= 29 and scale <= 9 else "BIGNUMERIC"
    return None


@dataclass(frozen=True)
class SourceTable:
    """A source table the platform loads, as its dbt sources YAML declares it."""

    source: str
    name: str
    schema: str
    columns: dict[str, str]  # column -> DuckDB type, in file order
    primary_key: tuple[str, ...]
    history: History
    description: str = ""
    # The column that says when an event happened: ingest checks it falls on the export's day.
    # None for a state table, and for an event table without a time of its own (order lines).
    event_time_column: str | None = None
    bigquery_types: tuple[str, ...] = ()  # in the order of ``columns``
    declared_in: str = ""  # the YAML file, for messages

    @property
    def asset_key(self) -> AssetKey:
        return source_asset_key(self.source, self.name)

    @property
    def bigquery_columns(self) -> dict[str, str]:
        """Column -> BigQuery type, in file order."""
        return dict(zip(self.columns, self.bigquery_types, strict=True))

    @property
    def qualified_name(self) -> str:
        return f"{self.source}.{self.name}"


@dataclass(frozen=True)
class ObservedTable:
    """A source table another tool loads (the source's ``loader``): observed, never written."""

    source: str
    name: str
    schema: str
    loader: str
    loaded_at_field: str
    description: str = ""
    declared_in: str = ""

    @property
    def asset_key(self) -> AssetKey:
        return source_asset_key(self.source, self.name)

    @property
    def qualified_name(self) -> str:
        return f"{self.source}.{self.name}"


@dataclass(frozen=True)
class Catalogue:
    """Every source table of the dbt project: those the platform loads and those it observes."""

    loaded: tuple[SourceTable, ...]
    observed: tuple[ObservedTable, ...] = ()

    def get(self, source: str, name: str) -> SourceTable:
        for table in self.loaded:
            if (table.source, table.name) == (source, name):
                return table
        raise KeyError(f"no source table {source}.{name} loaded by the platform")

    def of_source(self, source: str) -> tuple[SourceTable, ...]:
        return tuple(t for t in self.loaded if t.source == source)


def _model_paths(project_dir: Path) -> list[Path]:
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    return [project_dir / path for path in project.get("model-paths", ["models"])]


def _yaml_files(project_dir: Path) -> Iterable[Path]:
    for root in _model_paths(project_dir):
        if root.is_dir():
            yield from sorted(p for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


_DECLARES_SOURCES = re.compile(r"^sources\s*:", re.MULTILINE)


def load_catalogue(project_dir: Path) -> Catalogue:
    """The source tables declared in the dbt project at ``project_dir`` (read again when a file changes)."""
    files = [p for p in _yaml_files(Path(project_dir))]
    stamps = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return _load(Path(project_dir), stamps)


@functools.lru_cache(maxsize=8)
def _load(project_dir: Path, stamps: tuple[tuple[str, int, int], ...]) -> Catalogue:
    loaded: list[SourceTable] = []
    observed: list[ObservedTable] = []
    problems: list[str] = []
    for path_name, *_ in stamps:
        path = Path(path_name)
        text = path.read_text()
        if not _DECLARES_SOURCES.search(text):
            continue
        where = str(path.relative_to(project_dir))
        try:
            document = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            problems.append(f"{where}: not valid YAML: {error}")
            continue
        for source in document.get("sources") or []:
            for table in source.get("tables") or []:
                declared = _declared_table(source, table, where, problems)
                if isinstance(declared, SourceTable):
                    loaded.append(declared)
                elif declared is not None:
                    observed.append(declared)
    if problems:
        raise CatalogueError("the dbt sources cannot be loaded from (fix the sources YAML):\n"
                             + "\n".join(f"  - {p}" for p in problems))
    return Catalogue(tuple(loaded), tuple(observed))


def _config(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return node.get("config") or {}


def _meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    """dbt reads ``meta`` under ``config`` (dbt >= 1.10) or beside it (older projects)."""
    return {**(node.get("meta") or {}), **(_config(node).get("meta") or {})}


def _declared_table(source: Mapping[str, Any], table: Mapping[str, Any], where: str,
                    problems: list[str]) -> SourceTable | ObservedTable | None:
    source_name, table_name = source.get("name"), table.get("name")
    at = f"{where}: source {source_name}, table {table_name}"
    schema = str(source.get("schema") or source_name)
    loaded_at = _config(table).get("loaded_at_field") or _config(source).get("loaded_at_field") \
        or table.get("loaded_at_field") or source.get("loaded_at_field")
    if "{{" in schema:
        problems.append(f"{at}: schema {schema!r} is Jinja; ingest reads the YAML without dbt: write the schema name")
        return None
    loader = str(source.get("loader") or "")
    description = str(table.get("description") or "").strip()
    if loaded_elsewhere(loader):
        if not loaded_at:
            problems.append(f"{at}: loaded by {loader}, so it needs loaded_at_field (when {loader} last loaded a row): "
                            "the platform observes it with that column")
            return None
        return ObservedTable(source_name, table_name, schema, loader, loaded_at, description, where)

    count = len(problems)
    ingest = _meta(table).get("ingest")
    if not isinstance(ingest, Mapping):
        problems.append(f"{at}: no config.meta.ingest: declare history (state or events) and primary_key "
                        "(or set the source's loader to the tool that loads it)")
        return None
    columns: dict[str, str] = {}
    bigquery: list[str] = []
    for column in table.get("columns") or []:
        name, data_type = column.get("name"), column.get("data_type")
        types = warehouse_types(str(data_type)) if data_type else None
        if not data_type:
            problems.append(f"{at}, column {name}: no data_type (accepted: {', '.join(ACCEPTED_TYPES)})")
        elif types is None:
            problems.append(f"{at}, column {name}: data_type {data_type!r} is not one the platform loads "
                            f"(accepted: {', '.join(ACCEPTED_TYPES)})")
        else:
            columns[name] = types[0]
            bigquery.append(types[1])
    if not table.get("columns"):
        problems.append(f"{at}: no columns: declare every column of the export, in file order, with its data_type")
    history = ingest.get("history")
    if history not in HISTORIES:
        problems.append(f"{at}: meta.ingest.history must be state or events, got {history!r}")
    key = ingest.get("primary_key")
    key = [key] if isinstance(key, str) else list(key or [])
    if not key:
        problems.append(f"{at}: meta.ingest.primary_key is missing: one column, or a list of columns")
    problems.extend(f"{at}: primary key column {c} is not a declared column" for c in key if c not in columns)
    event_time = ingest.get("event_time_column")
    if event_time is not None and (history != "events" or event_time not in columns):
        problems.append(f"{at}: meta.ingest.event_time_column {event_time!r} must be a declared column of an events table")
    if loaded_at != LOADED_AT:
        problems.append(f"{at}: loaded_at_field must be {LOADED_AT} (the time ingest stamps on every row), got {loaded_at!r}")
    if history == "events" and _config(table).get("event_time") != EXPORT_DATE:
        problems.append(f"{at}: an events table needs config.event_time: {EXPORT_DATE} (the export's day, its "
                        "partition), so that a day's dbt batch reads that day's rows")
    if len(problems) > count:
        return None
    return SourceTable(source_name, table_name, schema, columns, tuple(key), history, description, event_time,
                       tuple(bigquery), where)
