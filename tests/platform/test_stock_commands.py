"""Dagster's own processes over the repo's files, as a Dagster user starts them by habit.

`dagster-webserver -w workspace.yaml` and a plain `dagster-daemon run -w workspace.yaml`, the
instance configured by a copy of deploy/dev/dagster.yaml, each process starting its own code
servers: the webserver loads the three locations into one graph, and a job launched from it
queues, is dequeued by the daemon through the run coordinator dagster.yaml names (which installs
the backfill fix in the stock daemon, dataplatform/daemon.py) and succeeds. `dg dev` starts the
same daemon (`python -m dagster._daemon run`) on the same instance config. "Materialize all" of
three days under stock processes is tests/platform/test_version_skew.py, on one `dagster api
grpc` per location, as deployed.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterRunStatus
from platform_support import dev_instance_home, fork_servers, start_platform, stop_platform
from support import REPO, scalar

from dataplatform.daemon import SplittingQueuedRunCoordinator
from sourcesim.days import day_date
from sourcesim.generator import generate_day

BIN = Path(sys.executable).parent
DAY = day_date(1).isoformat()
LOCATIONS = ("shared_ingest", "sales", "inventory")


def stock_processes(port: int) -> list[str]:
    """The webserver and the daemon, nothing of the platform's own: a shell starts both."""
    return ["bash", "-c", f"'{BIN}/dagster-daemon' run -w workspace.yaml & "
                          f"exec '{BIN}/dagster-webserver' -w workspace.yaml -h 127.0.0.1 -p {port}"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    local = tmp_path_factory.mktemp("stock")
    generate_day(str(local / "landing"), 1, scale=0.05)
    home = dev_instance_home(local)
    subprocess.run([sys.executable, "-m", "dataplatform.dbt_project", "prepare"], check=True, cwd=REPO)
    platform = start_platform(local, command=stock_processes, extra_env={"DAGSTER_HOME": str(home)})
    yield platform
    stop_platform(platform)


def test_the_stock_processes_serve_one_graph_and_run_a_queued_job(platform):
    nodes = platform.graphql("{ assetNodes { assetKey { path } repository { location { name } } } }")["assetNodes"]
    assert {n["repository"]["location"]["name"] for n in nodes} == set(LOCATIONS)
    keys = ["/".join(n["assetKey"]["path"]) for n in nodes]
    assert len(keys) == len(set(keys)) and {"raw/shop/orders", "sales/orders", "inventory/days_of_supply"} <= set(keys)
    run_id = platform.launch_job("shared_ingest", "ingest_sources", DAY)
    [run] = platform.wait_for_runs([run_id])
    assert run.status == DagsterRunStatus.SUCCESS, run.status
    with platform.instance() as instance:
        starting = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_STARTING).records
        assert starting, "the daemon never dequeued the run"
        assert isinstance(instance.run_coordinator, SplittingQueuedRunCoordinator)
    assert scalar(platform.warehouse, "select count(distinct _export_date) from raw_shop.orders") == 1
    # The run was forked from a fork server that its code server started for it, with the
    # location preloaded (dataplatform.warm_runs); sales' code servers started no run, and none.
    [fork_server] = fork_servers(platform, "shared_ingest")
    assert "'shared_ingest.definitions'" in fork_server and "'dagster_dbt'" in fork_server, fork_server
    assert fork_servers(platform, "sales") == []
