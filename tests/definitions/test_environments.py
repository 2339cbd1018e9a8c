"""Dev (DuckDB) and prod (BigQuery) build the same asset graph; prod refuses to start half-configured.

On the platform's test project (tests/fixtures/subscriptions, in a copy of the repository:
``fixture_root``), each location loaded alone in a fresh interpreter.
"""

import subprocess
import sys

import pytest
from support import (
    DESCRIBE_LOCATION,
    FIXTURE_LOCATIONS,
    copy_dbt_project,
    describe_fixture_locations,
    describe_location,
    dev_simulations,
    fixture_env,
    scrubbed_env,
)

PROD = {
    "PLATFORM_ENV": "prod",
    "BIGQUERY_PROJECT": "dummy-project",
    "BIGQUERY_LOCATION": "EU",
    "BIGQUERY_AUTH_METHOD": "oauth",
    "LANDING_ROOT": "gs://dummy-bucket/landing",
    "NO_GCE_CHECK": "true",
}


@pytest.fixture(scope="module")
def scratch_dbt(tmp_path_factory, fixture_root):
    """A copy of the test project, so parsing for prod never replaces its dev manifest."""
    return copy_dbt_project(tmp_path_factory.mktemp("prod") / "dbt", fixture_root / "dbt")


def environment(overrides: dict, tmp_path) -> dict:
    return scrubbed_env(PLATFORM_SCHEDULES="stopped", PLATFORM_LOCAL_DIR=str(tmp_path), **overrides)


def graph_of(described: dict) -> dict:
    """What must not change between environments: keys, edges, groups, owners, pools, checks, and
    the observed sources."""
    return {
        "assets": {k: (a["deps"], a["group"], a["owners"], a["pool"]) for k, a in described["assets"].items()},
        "observed": described["observed"],
        "checks": described["checks"],
    }


@pytest.mark.parametrize("location", [pytest.param(name, marks=pytest.mark.shared_ingest) if name == "shared_ingest" else name
                                      for name in FIXTURE_LOCATIONS])
def test_dev_and_prod_define_the_same_graph(location, fixture_root, dev_env, scratch_dbt, tmp_path):
    dev = describe_fixture_locations(fixture_root, dev_env)[location]
    env = {**fixture_env(fixture_root, environment(PROD, tmp_path)), "DBT_PROJECT_DIR": str(scratch_dbt)}
    prod = describe_location(location, env, fixture_root)
    assert graph_of(prod) == graph_of(dev)
    assert dev["assets"]
    # Prod runs every schedule dev runs, except the dev-only simulation of source systems (if any is installed).
    simulations, _ = dev_simulations()
    assert set(prod["schedules"]) == set(dev["schedules"]) - simulations


def test_prod_without_its_settings_names_every_missing_variable(fixture_root, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", DESCRIBE_LOCATION, "billing"],
        env=fixture_env(fixture_root, environment({"PLATFORM_ENV": "prod", "BIGQUERY_AUTH_METHOD": "service-account"}, tmp_path)),
        capture_output=True, text=True, timeout=300, cwd=fixture_root,
    )
    assert result.returncode != 0
    # The cause, in one line; then dg's report of where: the domain's defs.yaml.
    assert (
        "dataplatform.settings.SettingsError: PLATFORM_ENV=prod cannot start: missing: "
        "BIGQUERY_PROJECT, LANDING_ROOT, BIGQUERY_KEYFILE (BIGQUERY_AUTH_METHOD=service-account)"
    ) in result.stderr.splitlines()
    assert "defs.yaml (DbtDomain) (error)" in result.stderr
    assert "google" not in result.stderr
