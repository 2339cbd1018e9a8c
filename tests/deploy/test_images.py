"""What deploy/Dockerfile installs for a location, resolved from the one lock (no Docker needed):
for each of the workspace's domains, and for its ingest location, whatever they are named."""

import importlib.metadata
import re
import subprocess

import pytest
from support import DOMAINS, REPO, uv

from devsupport.workspace import INGEST, locations

DOCKERFILE = (REPO / "deploy" / "Dockerfile").read_text()
PACKAGES = {location.name: location.package(REPO) for location in locations(REPO)}  # location -> distribution
# The simulated source systems installed in dev (the example's, until it is removed): dev only.
DEV_SOURCES = {entry.dist.name.lower() for entry in importlib.metadata.entry_points(group="dataplatform.dev_sources")}


def exported(package: str) -> set[str]:
    """The requirement names the Dockerfile's `uv export` step gives for a location."""
    command = re.search(r"uv export (.+?) -o", DOCKERFILE.replace("\\\n", " "), re.S).group(1)
    args = command.replace('"${LOCATION}"', package).split()
    out = subprocess.run([*uv(), "export", *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=True).stdout
    return {line.split("==")[0].strip().lower() for line in out.splitlines() if "==" in line and not line.startswith("#")}


def test_the_workspace_has_an_ingest_location_and_domains():
    assert INGEST in PACKAGES and set(DOMAINS) <= set(PACKAGES)


@pytest.mark.parametrize("domain", [pytest.param(domain, marks=getattr(pytest.mark, domain)) for domain in DOMAINS])
def test_domain_images_get_dbt_and_bigquery_but_no_other_location(domain):
    names = exported(PACKAGES[domain])
    assert {"dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "dbt-bigquery", "dagster-postgres"} <= names
    assert not {*PACKAGES.values(), "dataplatform"} & names  # installed from source
    assert "devsupport" not in names  # the tests' and benchmarks' helpers are dev only


@pytest.mark.parametrize("ingest", [pytest.param(INGEST, marks=getattr(pytest.mark, INGEST))])
def test_the_ingest_image_gets_no_dbt(ingest):
    names = exported(PACKAGES[ingest])
    assert {"dagster", "duckdb", "google-cloud-bigquery", "gcsfs", "dagster-postgres"} <= names
    assert not {"dbt-core", "dagster-dbt", "devsupport"} & names
    assert not {*PACKAGES.values(), "dataplatform"} & names  # installed from source
    assert not {*DEV_SOURCES, "numpy", "pyarrow"} & names  # the simulated source systems are dev only
