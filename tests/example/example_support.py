"""What the example's tests share (imported as ``example.example_support``): its day's chain and
its locations pointed at a scratch warehouse."""

from contextlib import contextmanager
from pathlib import Path

import pytest
from support import copy_dbt_project, point_platform_at

from devsupport.chain import daily_chain

# The example's day: ingest, then sales, then inventory (which reads sales' order_items).
EXAMPLE_CHAIN = daily_chain(("sales", "inventory"))


@contextmanager
def example_platform(local: Path, days: tuple[int, ...] = (1,)):
    """The example's locations built in this process, pointed at a fresh warehouse and landing zone
    under ``local`` (its simulated ``days`` landed) and at a scratch copy of its dbt project, for
    tests that edit it; yields the warehouse file and the project folder."""
    from sourcesim.generator import generate_day

    mp = pytest.MonkeyPatch()
    try:
        warehouse = point_platform_at(mp, local)
        project = copy_dbt_project(local / "dbt")
        mp.setenv("DBT_PROJECT_DIR", str(project))
        for day in days:
            generate_day(str(local / "landing"), day, scale=0.05)
        yield warehouse, project
    finally:
        mp.undo()
