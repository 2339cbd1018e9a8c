"""The platform as deployed on one host (`python3 tasks.py host`: a code server per location under
supervisord, the stock webserver and daemon over their ``grpc_server`` entries), on the platform's
test project (issue 34).

Each location's code server runs once, shared by the webserver and the daemon. Killed mid-run
(SIGKILL), billing's code server is started again by supervisord; the run it launched ends
SUCCESS; the webserver reloads billing on its own (no Reload pressed) and launches its next run.
SIGTERM to `tasks.py host` stops every process it started (stop_platform checks it).
"""

import time

import psutil
import pytest
from dagster import DagsterRunStatus
from platform_support import start_platform, stop_platform, wait_until
from support import day, fixture_domains, land_fixture_days

DOMAINS = tuple(fixture_domains())


def tasks_host(port: int) -> list[str]:
    """`python3 tasks.py host` after its sync."""
    import sys

    return [sys.executable, "tasks.py", "serve-host", "--port", str(port)]


@pytest.fixture(scope="module")
def platform(fixture_root, tmp_path_factory):
    local = tmp_path_factory.mktemp("host")
    land_fixture_days(local, (1,))
    platform = start_platform(local, root=fixture_root, command=tasks_host)
    yield platform
    stop_platform(platform)


def code_servers(platform) -> dict[str, list[psutil.Process]]:
    """The `dagster api grpc` processes under the platform, by location."""
    found: dict[str, list[psutil.Process]] = {}
    for process in psutil.Process(platform.process.pid).children(recursive=True):
        try:
            command = process.cmdline()
        except psutil.Error:
            continue
        if "api" in command and "grpc" in command and "--location-name" in command:
            found.setdefault(command[command.index("--location-name") + 1], []).append(process)
    return found


def location_reloads(platform, location: str) -> int:
    """How often the webserver reloaded ``location`` because its server changed (its log says so)."""
    return platform.log.read_text(errors="replace").count(f"event for location {location}, refreshing")


def test_each_location_has_one_code_server_shared_by_webserver_and_daemon(platform):
    servers = code_servers(platform)
    assert sorted(servers) == sorted(["shared_ingest", *DOMAINS]) and all(len(s) == 1 for s in servers.values()), servers


def test_a_killed_code_server_comes_back_and_its_run_ends_success(platform):
    [ingest] = platform.wait_for_runs([platform.launch_job("shared_ingest", "ingest_sources", day(1))])
    assert ingest.status == DagsterRunStatus.SUCCESS
    run_id = platform.launch_job("billing", "billing_build", day(1))
    with platform.instance() as instance:
        wait_until(lambda: instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTED, "billing's run to start", 120)
    [killed] = code_servers(platform)["billing"]
    reloads = location_reloads(platform, "billing")
    killed.kill()
    killed_at = time.monotonic()

    [run] = platform.wait_for_runs([run_id])
    assert run.status == DagsterRunStatus.SUCCESS
    [restarted] = wait_until(lambda: [p for p in code_servers(platform).get("billing", []) if p.pid != killed.pid] or None,
                             "supervisord to start billing's code server again", 60)
    # The webserver reloads the location by itself, once the new server answers: no Reload pressed.
    wait_until(lambda: location_reloads(platform, "billing") > reloads, "the webserver to reload billing", 90)
    back_after = time.monotonic() - killed_at
    [status] = [e["loadStatus"] for e in platform.graphql(
        "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }")["workspaceOrError"][
        "locationEntries"] if e["name"] == "billing"]
    assert status == "LOADED"
    [again] = platform.wait_for_runs([platform.launch_job("billing", "billing_build", day(1))])
    assert again.status == DagsterRunStatus.SUCCESS
    print(f"code server killed: its run {run.status.value}; billing back in the webserver after {back_after:.0f} s "
          f"(new server pid {restarted.pid}), its next run {again.status.value}")
