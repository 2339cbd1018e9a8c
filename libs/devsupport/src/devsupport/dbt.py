"""A scratch copy of the one dbt project, for tests and benchmarks that edit it or build it apart."""

import shutil
from pathlib import Path

from devsupport import REPO


def copy_dbt_project(to: Path) -> Path:
    """The dbt project copied to ``to`` (replacing what is there), without what dbt writes into it."""
    shutil.rmtree(to, ignore_errors=True)
    shutil.copytree(REPO / "dbt", to, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return to
