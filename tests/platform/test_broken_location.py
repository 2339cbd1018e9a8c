"""One location's code fails to load (a syntax error): the other two load and run, and the
webserver shows that location's error instead of refusing to start.

The platform runs from a scratch copy of the repo whose inventory package has a syntax error,
as a bad deploy of that team's code would be.
"""


import pytest
from dagster import DagsterRunStatus
from platform_support import start_platform, stop_platform, tasks_up
from support import scalar, scratch_repo

from sourcesim.days import day_date

LOCATION_ENTRIES = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message stack
        errorChain { error { message stack } } } } } } } }"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    scratch = scratch_repo(tmp_path_factory.mktemp("repo"))
    definitions = scratch / "locations" / "inventory" / "src" / "inventory" / "definitions.py"
    definitions.write_text(definitions.read_text() + "\ndef half_written_change(:\n")
    platform = start_platform(tmp_path_factory.mktemp("platform"), command=lambda port: tasks_up(port, scratch))
    yield platform
    stop_platform(platform)


def test_the_webserver_shows_the_load_error_of_the_broken_location_only(platform):
    entries = platform.graphql(LOCATION_ENTRIES)["workspaceOrError"]["locationEntries"]
    by_name = {e["name"]: e["locationOrLoadError"] for e in entries}
    assert by_name["shared_ingest"]["__typename"] == by_name["sales"]["__typename"] == "RepositoryLocation"
    error = by_name["inventory"]
    assert error["__typename"] == "PythonError"
    chain = [error, *(link["error"] for link in error["errorChain"])]
    text = "\n".join(line for e in chain for line in [e["message"], *e["stack"]])
    assert "SyntaxError" in text and "inventory/definitions.py" in text, text


def test_the_other_locations_keep_running(platform):
    day_1 = day_date(1).isoformat()
    jobs = [("shared_ingest", "ingest_sources", day_1), ("sales", "sales_build", day_1)]
    runs = platform.wait_for_runs([platform.launch_job(*launch) for launch in jobs])
    assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS] * 2, [(r.job_name, r.status) for r in runs]
    assert scalar(platform.warehouse, "select count(*) from sales.daily_revenue") > 0
