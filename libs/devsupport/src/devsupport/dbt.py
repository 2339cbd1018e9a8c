"""A scratch copy of a dbt project, for tests and benchmarks that edit it or build it apart."""

import shutil
from pathlib import Path

from devsupport import REPO


def copy_dbt_project(to: Path, source: Path = REPO / "dbt") -> Path:
    """The dbt project at ``source`` (the workspace's) copied to ``to`` (replacing what is there),
    without what dbt writes into it."""
    shutil.rmtree(to, ignore_errors=True)
    shutil.copytree(source, to, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return to
