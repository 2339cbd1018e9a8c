"""The one place that decides the environment.

Read lazily, inside the functions that build definitions, never at import time, so tests
build definitions for any environment without reloading modules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENVIRONMENTS = ("dev", "prod")


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
class Settings:
    """Where the warehouse, the landing files and the dbt project are, for one environment."""

    env: str
    dbt_project_dir: Path
    dbt_target: str
    landing_root: str
    duckdb_path: Path | None
    schedules_running: bool

    @property
    def single_writer(self) -> bool:
        """DuckDB allows one writing process at a time; BigQuery does not care."""
        return self.duckdb_path is not None

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that dbt's profiles.yml reads."""
        env = {"DBT_TARGET": self.dbt_target}
        if self.duckdb_path is not None:
            env["DUCKDB_PATH"] = str(self.duckdb_path)
        return env

    def export_dbt_env(self) -> None:
        """Make the dbt subprocesses that dagster-dbt starts see this environment's profile."""
        os.environ.update(self.dbt_env())


def resolve_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from environment variables (``PLATFORM_ENV`` picks dev or prod)."""
    environ = os.environ if environ is None else environ
    env = environ.get("PLATFORM_ENV", "dev")
    if env not in ENVIRONMENTS:
        raise SettingsError(f"PLATFORM_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")

    repo_root = find_repo_root()
    local_dir = Path(environ.get("PLATFORM_LOCAL_DIR") or (repo_root or Path.cwd()) / ".local")

    dbt_dir = environ.get("DBT_PROJECT_DIR") or (repo_root / "dbt" if repo_root else None)
    if dbt_dir is None:
        raise SettingsError(
            "DBT_PROJECT_DIR is not set and no checkout was found around "
            f"{Path(__file__).parent}: set DBT_PROJECT_DIR to the dbt project folder"
        )

    return Settings(
        env=env,
        dbt_project_dir=Path(dbt_dir).resolve(),
        dbt_target=environ.get("DBT_TARGET", env),
        landing_root=environ.get("LANDING_ROOT") or str(local_dir / "landing"),
        duckdb_path=Path(environ.get("DUCKDB_PATH") or local_dir / "warehouse.duckdb").resolve(),
        schedules_running=environ.get("PLATFORM_SCHEDULES", "running") == "running",
    )
