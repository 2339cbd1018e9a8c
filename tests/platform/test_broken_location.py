"""One location's code fails to load (a syntax error): the other two load and run, and the
webserver shows that location's error instead of refusing to start.

The platform runs from a scratch copy of the platform's test project's workspace
(tests/fixtures/subscriptions, `fixture_root`) whose care package has a syntax error, as a bad
deploy of that team's code would be; its day 1 landed by the test.
"""

import shutil

import pytest
from dagster import DagsterRunStatus
from platform_support import start_platform, stop_platform
from support import day, land_fixture_days, scalar

LOCATION_ENTRIES = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
    locationOrLoadError { __typename ... on PythonError { message stack
        errorChain { error { message stack } } } } } } } }"""


@pytest.fixture(scope="module")
def platform(fixture_root, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("repo") / "repo"
    shutil.copytree(fixture_root, scratch, symlinks=True,  # its .venv stays a link to this checkout's
                    ignore=shutil.ignore_patterns("__pycache__", "target", "logs", "dbt_packages", ".local"))
    definitions = scratch / "locations" / "care" / "src" / "care" / "definitions.py"
    definitions.write_text(definitions.read_text() + "\ndef half_written_change(:\n")
    local = tmp_path_factory.mktemp("platform")
    land_fixture_days(local, (1,))
    platform = start_platform(local, root=scratch)
    yield platform
    stop_platform(platform)


def test_the_webserver_shows_the_load_error_of_the_broken_location_only(platform):
    entries = platform.graphql(LOCATION_ENTRIES)["workspaceOrError"]["locationEntries"]
    by_name = {e["name"]: e["locationOrLoadError"] for e in entries}
    assert by_name["shared_ingest"]["__typename"] == by_name["billing"]["__typename"] == "RepositoryLocation"
    error = by_name["care"]
    assert error["__typename"] == "PythonError"
    chain = [error, *(link["error"] for link in error["errorChain"])]
    text = "\n".join(line for e in chain for line in [e["message"], *e["stack"]])
    assert "SyntaxError" in text and "care/definitions.py" in text, text


def test_the_other_locations_keep_running(platform):
    day_1 = day(1)
    jobs = [("shared_ingest", "ingest_sources", day_1), ("billing", "billing_build", day_1)]
    runs = platform.wait_for_runs([platform.launch_job(*launch) for launch in jobs])
    assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS] * 2, [(r.job_name, r.status) for r in runs]
    assert scalar(platform.warehouse, "select count(*) from billing.daily_billing") > 0
