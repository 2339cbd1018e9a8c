"""Dagster's own processes over the repo's files, as a Dagster user starts them by habit.

`dagster-webserver -w workspace.yaml` and a plain `dagster-daemon run -w workspace.yaml`, the
instance configured by the repo's dagster.yaml, each process starting its own code servers:
"Materialize all" of a day completes across the three locations. The run coordinator that
dagster.yaml names installs the backfill fix in the stock daemon (dataplatform/daemon.py).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus
from platform_support import start_platform, stop_platform
from support import REPO, scalar

from shared_ingest.generator import generate_day
from shared_ingest.landing import day_date

BIN = Path(sys.executable).parent
DAY = day_date(1).isoformat()


def stock_processes(port: int) -> list[str]:
    """The webserver and the daemon, nothing of the platform's own: a shell starts both."""
    return ["bash", "-c", f"'{BIN}/dagster-daemon' run -w workspace.yaml & "
                          f"exec '{BIN}/dagster-webserver' -w workspace.yaml -h 127.0.0.1 -p {port}"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    local = tmp_path_factory.mktemp("stock")
    generate_day(str(local / "landing"), 1, scale=0.2)
    home = local / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    # Two processes creating a fresh SQLite storage at the same moment race on its migration.
    with DagsterInstance.from_config(str(home)):
        pass
    subprocess.run([sys.executable, "-m", "dataplatform.dbt_project", "prepare"], check=True, cwd=REPO)
    platform = start_platform(local, command=stock_processes, extra_env={"DAGSTER_HOME": str(home)})
    yield platform
    stop_platform(platform)


def test_materialize_all_completes_under_the_stock_webserver_and_daemon(platform):
    keys = platform.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
    backfill, runs = platform.wait_for_backfill(platform.materialize_all([DAY]))
    assert backfill.status.value == "COMPLETED_SUCCESS", (backfill.status, backfill.failure_count)
    assert runs and all(r.status == DagsterRunStatus.SUCCESS for r in runs), [(r.job_name, r.status) for r in runs]
    assert {r.remote_job_origin.location_name for r in runs} == {"shared_ingest", "sales", "inventory"}
    with platform.instance() as instance:
        never = [k for k in keys if instance.get_latest_materialization_event(AssetKey(k["assetKey"]["path"])) is None]
    assert not never, f"never materialized: {never}"
    assert scalar(platform.warehouse, "select count(*) from inventory.days_of_supply") > 0
