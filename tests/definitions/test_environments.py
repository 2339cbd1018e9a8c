"""Dev (DuckDB) and prod (BigQuery) build the same asset graph; prod refuses to start half-configured."""

import subprocess
import sys

import pytest
from support import DESCRIBE_LOCATION, LOCATIONS, REPO, copy_dbt_project, describe_location, scrubbed_env

PROD = {
    "PLATFORM_ENV": "prod",
    "BIGQUERY_PROJECT": "dummy-project",
    "BIGQUERY_LOCATION": "EU",
    "BIGQUERY_AUTH_METHOD": "oauth",
    "LANDING_ROOT": "gs://dummy-bucket/landing",
    "NO_GCE_CHECK": "true",
}


@pytest.fixture(scope="module")
def scratch_dbt(tmp_path_factory):
    """A copy of the dbt project, so parsing for prod never replaces the repo's dev manifest."""
    return copy_dbt_project(tmp_path_factory.mktemp("prod") / "dbt")


def environment(overrides: dict, tmp_path) -> dict:
    return scrubbed_env(PLATFORM_SCHEDULES="stopped", PLATFORM_LOCAL_DIR=str(tmp_path), **overrides)


def graph_of(described: dict) -> dict:
    """What must not change between environments: keys, edges, groups, owners, pools, checks."""
    return {
        "assets": {k: (a["deps"], a["group"], a["owners"], a["pool"]) for k, a in described["assets"].items()},
        "checks": described["checks"],
    }


@pytest.mark.parametrize("location", LOCATIONS)
def test_dev_and_prod_define_the_same_graph(location, dev_locations, scratch_dbt, tmp_path):
    dev = dev_locations[location]
    prod = describe_location(location, environment({**PROD, "DBT_PROJECT_DIR": str(scratch_dbt)}, tmp_path))
    assert graph_of(prod) == graph_of(dev)
    # Prod runs every schedule dev runs, except the dev-only simulation of the source systems.
    assert set(prod["schedules"]) == set(dev["schedules"]) - {"simulate_source_day_daily"}


def test_prod_without_its_settings_names_every_missing_variable(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", DESCRIBE_LOCATION, "sales"],
        env=environment({"PLATFORM_ENV": "prod", "BIGQUERY_AUTH_METHOD": "service-account"}, tmp_path),
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert result.returncode != 0
    # The cause, in one line; then dg's report of where: the domain's defs.yaml.
    assert (
        "dataplatform.settings.SettingsError: PLATFORM_ENV=prod cannot start: missing: "
        "BIGQUERY_PROJECT, LANDING_ROOT, BIGQUERY_KEYFILE (BIGQUERY_AUTH_METHOD=service-account)"
    ) in result.stderr.splitlines()
    assert "defs.yaml (DbtDomain) (error)" in result.stderr
    assert "google" not in result.stderr
