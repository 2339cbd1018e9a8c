"""The one place that decides the environment.

Read lazily, inside the functions that build definitions, never at import time, so tests
build definitions for any environment without reloading modules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("dev", "prod")

# The calendar: the first day the source systems landed. Every location's daily partitions and
# dbt's microbatch ``begin`` (dbt_project.yml, through ``Settings.dbt_env``) start here, so every
# location must load with the same value.
PARTITIONS_START_VARIABLE = "PLATFORM_PARTITIONS_START"
DEFAULT_PARTITIONS_START = date(2026, 1, 1)


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names every variable at fault."""


def find_repo_root(start: Path | None = None) -> Path | None:
    """The checkout this code runs from (the folder holding workspace.yaml), if any."""
    here = (start or Path(__file__)).resolve()
    for folder in [here, *here.parents]:
        if (folder / "workspace.yaml").is_file() and (folder / "dbt").is_dir():
            return folder
    return None


@dataclass(frozen=True)
class BigQuerySettings:
    """Where the production warehouse is and how to authenticate to it."""

    project: str
    location: str
    method: str  # "service-account" (keyfile) or "oauth" (application default credentials)
    keyfile: str | None

    def dbt_env(self) -> dict[str, str]:
        env = {"BIGQUERY_PROJECT": self.project, "BIGQUERY_LOCATION": self.location,
               "BIGQUERY_AUTH_METHOD": self.method}
        if self.keyfile:
            env["BIGQUERY_KEYFILE"] = self.keyfile
        return env


@dataclass(frozen=True)
class Settings:
    """Where the warehouse, the landing files and the dbt project are, for one environment."""

    env: str
    local_dir: Path  # git-ignored home of local state: warehouse, landing, instance, logs
    dbt_project_dir: Path | None  # None where no dbt runs (shared_ingest deployed alone)
    dbt_target: str
    landing_root: str
    duckdb_path: Path | None
    schedules_running: bool
    bigquery: BigQuerySettings | None = None
    # How often each domain's trigger looks for new data (PLATFORM_TRIGGER_INTERVAL_SECONDS): a
    # tick costs about 55 ms at 365 days of history (bench/README.md), so a domain that reads
    # another starts seconds after it ends.
    trigger_interval_seconds: int = 3
    partitions_start: date = DEFAULT_PARTITIONS_START
    # Where alerts go (dataplatform.automation.alerts): a Slack incoming webhook
    # (PLATFORM_ALERTS_SLACK_WEBHOOK), else a JSON-lines file (PLATFORM_ALERTS_FILE, default .local/alerts.jsonl).
    alerts_slack_webhook: str | None = None
    alerts_file: Path | None = None  # unset: local_dir / "alerts.jsonl", filled in below

    def __post_init__(self) -> None:
        if self.alerts_file is None:
            object.__setattr__(self, "alerts_file", self.local_dir / "alerts.jsonl")

    @property
    def single_writer(self) -> bool:
        """DuckDB allows one writing process at a time; BigQuery does not care."""
        return self.duckdb_path is not None

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that dbt's profiles.yml and dbt_project.yml read. (The target is
        not one of them: dagster-dbt passes ``--target``, from ``DbtProject(target=)``.)"""
        env = {PARTITIONS_START_VARIABLE: self.partitions_start.isoformat()}
        if self.duckdb_path is not None:
            env["DUCKDB_PATH"] = str(self.duckdb_path)
        if self.bigquery is not None:
            env.update(self.bigquery.dbt_env())
        return env

    def require_dbt_project(self) -> Path:
        """The dbt project folder, or one clear error where none is configured."""
        if self.dbt_project_dir is None or not (self.dbt_project_dir / "dbt_project.yml").is_file():
            raise SettingsError(
                f"no dbt project at {self.dbt_project_dir}: set DBT_PROJECT_DIR to the folder "
                "holding dbt_project.yml (images ship it, see deploy/Dockerfile)"
            )
        return self.dbt_project_dir

    def export_dbt_env(self) -> None:
        """Make the dbt subprocesses that dagster-dbt starts see this environment's profile."""
        os.environ.update(self.dbt_env())


def partitions_start() -> date:
    """The calendar's first day in this process's environment: what every partitions definition starts at."""
    return partitions_start_from(os.environ)


def partitions_start_from(environ: Mapping[str, str]) -> date:
    """The calendar's first day, from ``PLATFORM_PARTITIONS_START`` (YYYY-MM-DD) or its default."""
    value = environ.get(PARTITIONS_START_VARIABLE) or DEFAULT_PARTITIONS_START.isoformat()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"{PARTITIONS_START_VARIABLE} must be a date YYYY-MM-DD, got {value!r}") from None


def resolve_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from environment variables (``PLATFORM_ENV`` picks dev or prod)."""
    environ = os.environ if environ is None else environ
    env = environ.get("PLATFORM_ENV", "dev")
    if env not in ENVIRONMENTS:
        raise SettingsError(f"PLATFORM_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")

    repo_root = find_repo_root()
    local_dir = Path(environ.get("PLATFORM_LOCAL_DIR") or (repo_root or Path.cwd()) / ".local")

    dbt_dir = environ.get("DBT_PROJECT_DIR") or (repo_root / "dbt" if repo_root else None)
    dbt_dir = Path(dbt_dir).resolve() if dbt_dir else None

    if env == "prod":
        return _prod_settings(environ, local_dir, dbt_dir)
    return Settings(
        env=env,
        local_dir=local_dir,
        dbt_project_dir=dbt_dir,
        dbt_target=environ.get("DBT_TARGET", env),
        landing_root=environ.get("LANDING_ROOT") or str(local_dir / "landing"),
        duckdb_path=Path(environ.get("DUCKDB_PATH") or local_dir / "warehouse.duckdb").resolve(),
        schedules_running=environ.get("PLATFORM_SCHEDULES", "running") == "running",
        trigger_interval_seconds=_trigger_interval(environ),
        partitions_start=partitions_start_from(environ),
        **_alerts(environ),
    )


PATCHES_VARIABLE = "PLATFORM_PATCHES"


def enabled_patches(environ: Mapping[str, str], known: tuple[str, ...]) -> frozenset[str]:
    """The patches of Dagster switched on (``dataplatform.patches``): ``PLATFORM_PATCHES`` is
    ``all`` (the default), ``none``, or a comma-separated list of their names. Read on its own, not
    with the other settings: the daemon installs patches with no warehouse or cloud configured."""
    value = environ.get(PATCHES_VARIABLE, "all").strip()
    if value == "all":
        return frozenset(known)
    if value == "none":
        return frozenset()
    names = {name.strip() for name in value.split(",") if name.strip()}
    if unknown := sorted(names - set(known)):
        raise SettingsError(f"{PATCHES_VARIABLE} must be all, none or a list of {', '.join(known)}; "
                            f"unknown: {', '.join(unknown)}")
    return frozenset(names)


def _alerts(environ: Mapping[str, str]) -> dict[str, Any]:
    return {"alerts_slack_webhook": environ.get("PLATFORM_ALERTS_SLACK_WEBHOOK") or None,
            "alerts_file": Path(environ["PLATFORM_ALERTS_FILE"]) if environ.get("PLATFORM_ALERTS_FILE") else None}


def _trigger_interval(environ: Mapping[str, str]) -> int:
    value = environ.get("PLATFORM_TRIGGER_INTERVAL_SECONDS", "3")
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"PLATFORM_TRIGGER_INTERVAL_SECONDS must be a whole number of seconds, got {value!r}")
    return int(value)


# Production reads these; every missing one is named in one error at load.
PROD_REQUIRED = ("BIGQUERY_PROJECT", "LANDING_ROOT")
BIGQUERY_METHODS = ("service-account", "oauth")


def _prod_settings(environ: Mapping[str, str], local_dir: Path, dbt_dir: Path | None) -> Settings:
    missing = [name for name in PROD_REQUIRED if not environ.get(name)]
    method = environ.get("BIGQUERY_AUTH_METHOD", "oauth")
    if method == "service-account" and not environ.get("BIGQUERY_KEYFILE"):
        missing.append("BIGQUERY_KEYFILE (BIGQUERY_AUTH_METHOD=service-account)")
    problems = [f"missing: {', '.join(missing)}"] if missing else []
    if method not in BIGQUERY_METHODS:
        problems.append(f"BIGQUERY_AUTH_METHOD must be one of {', '.join(BIGQUERY_METHODS)}, got {method!r}")
    landing = environ.get("LANDING_ROOT", "")
    if landing and not landing.startswith("gs://"):
        problems.append(f"LANDING_ROOT must be a gs:// bucket path in prod, got {landing!r}")
    if problems:
        raise SettingsError("PLATFORM_ENV=prod cannot start: " + "; ".join(problems))
    return Settings(
        env="prod",
        local_dir=local_dir,
        dbt_project_dir=dbt_dir,
        dbt_target=environ.get("DBT_TARGET", "prod"),
        landing_root=landing,
        duckdb_path=None,
        schedules_running=environ.get("PLATFORM_SCHEDULES", "running") == "running",
        trigger_interval_seconds=_trigger_interval(environ),
        partitions_start=partitions_start_from(environ),
        **_alerts(environ),
        bigquery=BigQuerySettings(
            project=environ["BIGQUERY_PROJECT"],
            location=environ.get("BIGQUERY_LOCATION", "EU"),
            method=method,
            keyfile=environ.get("BIGQUERY_KEYFILE"),
        ),
    )
