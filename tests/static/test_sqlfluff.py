"""The dbt project's SQL is lint-clean by the rules in .sqlfluff (DuckDB dialect, dbt templater:
dbt compiles each model and test as it runs, against an in-memory DuckDB), so the test command
fails on a layout, ambiguity or reference problem in a model as it does on a failing test."""

import subprocess
import sys
from pathlib import Path

from support import REPO, scrubbed_env

from dataplatform.dbt.project import get_dbt_project, install_packages
from dataplatform.settings import resolve_settings


def test_sqlfluff_finds_nothing():
    install_packages(get_dbt_project(REPO / "dbt", "dev"))  # the templater compiles with the project's packages
    sqlfluff = Path(sys.executable).parent / "sqlfluff"
    result = subprocess.run([str(sqlfluff), "lint", "dbt"], cwd=REPO, capture_output=True, text=True, timeout=300,
                            env=scrubbed_env(**resolve_settings({}).dbt_env()))  # the calendar dbt reads
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
