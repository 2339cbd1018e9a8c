"""Dagster's own processes over the workspace's files, as a Dagster user starts them by habit.

`dagster-webserver -w workspace.yaml` and a plain `dagster-daemon run -w workspace.yaml`, the
instance configured by a copy of deploy/dev/dagster.yaml, each process starting its own code
servers: the webserver loads the three locations into one graph, and a job launched from it
queues, is dequeued by the daemon through the run coordinator dagster.yaml names (which installs
the backfill fix in the stock daemon, dataplatform.patches) and succeeds. `dg dev` starts the
same daemon (`python -m dagster._daemon run`) on the same instance config. "Materialize all" of
three days under stock processes is tests/platform/test_version_skew.py, on one `dagster api
grpc` per location, as deployed.

On the platform's test project (tests/fixtures/subscriptions, `fixture_root`): its workspace files
name its locations (shared_ingest, billing, care), its day 1 landed by the test.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterRunStatus
from platform_support import dev_instance_home, fork_servers, start_platform, stop_platform
from support import FIXTURE_LOCATIONS, day, fixture_pythonpath, land_fixture_days, scalar, scrubbed_env

from dataplatform.run_coordinator import PlatformRunCoordinator

BIN = Path(sys.executable).parent
DAY = day(1)


def stock_processes(port: int) -> list[str]:
    """The webserver and the daemon, nothing of the platform's own: a shell starts both."""
    return ["bash", "-c", f"'{BIN}/dagster-daemon' run -w workspace.yaml & "
                          f"exec '{BIN}/dagster-webserver' -w workspace.yaml -h 127.0.0.1 -p {port}"]


@pytest.fixture(scope="module")
def platform(fixture_root, tmp_path_factory):
    local = tmp_path_factory.mktemp("stock")
    land_fixture_days(local, (1,))
    home = dev_instance_home(local)
    # What `tasks.py up` prepares and the stock processes do not: the workspace's dbt manifest.
    subprocess.run([sys.executable, "-m", "dataplatform.dbt.project", "prepare"], check=True, cwd=fixture_root,
                   env=scrubbed_env(PLATFORM_LOCAL_DIR=str(local), PLATFORM_ENV="dev", DBT_PROJECT_DIR=str(fixture_root / "dbt"),
                                    PYTHONPATH=fixture_pythonpath(fixture_root)))
    platform = start_platform(local, root=fixture_root, command=stock_processes, extra_env={"DAGSTER_HOME": str(home)})
    yield platform
    stop_platform(platform)


def test_the_stock_processes_serve_one_graph_and_run_a_queued_job(platform):
    nodes = platform.graphql("{ assetNodes { assetKey { path } repository { location { name } } } }")["assetNodes"]
    assert {n["repository"]["location"]["name"] for n in nodes} == set(FIXTURE_LOCATIONS)
    keys = ["/".join(n["assetKey"]["path"]) for n in nodes]
    assert len(keys) == len(set(keys)) and {"raw/billing/invoices", "billing/invoices", "care/account_health"} <= set(keys)
    run_id = platform.launch_job("shared_ingest", "ingest_sources", DAY)
    [run] = platform.wait_for_runs([run_id])
    assert run.status == DagsterRunStatus.SUCCESS, run.status
    with platform.instance() as instance:
        starting = instance.get_records_for_run(run_id, of_type=DagsterEventType.RUN_STARTING).records
        assert starting, "the daemon never dequeued the run"
        assert isinstance(instance.run_coordinator, PlatformRunCoordinator)
    assert scalar(platform.warehouse, "select count(distinct _export_date) from raw_billing.invoices") == 1
    # The run was forked from a fork server that its code server started for it, with the
    # location preloaded (dataplatform.patches.warm_runs); billing's code servers started no run, and none.
    [fork_server] = fork_servers(platform, "shared_ingest")
    assert "'shared_ingest.definitions'" in fork_server and "'dagster_dbt'" in fork_server, fork_server
    assert fork_servers(platform, "billing") == []
