"""What deploy/Dockerfile installs for a location, resolved from the one lock (no Docker needed)."""

import re
import subprocess

import pytest
from support import REPO, uv

DOCKERFILE = (REPO / "deploy" / "Dockerfile").read_text()


def exported(package: str) -> set[str]:
    """The requirement names the Dockerfile's `uv export` step gives for a location."""
    command = re.search(r"uv export (.+?) -o", DOCKERFILE.replace("\\\n", " "), re.S).group(1)
    args = command.replace('"${LOCATION}"', package).split()
    out = subprocess.run([*uv(), "export", *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=True).stdout
    return {line.split("==")[0].strip().lower() for line in out.splitlines() if "==" in line and not line.startswith("#")}


@pytest.mark.parametrize("package", ["sales", "inventory"])
def test_domain_images_get_dbt_and_bigquery_but_no_other_location(package):
    names = exported(package)
    assert {"dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "dbt-bigquery", "dagster-postgres"} <= names
    assert not {"shared-ingest", "sales", "inventory", "dataplatform"} & names  # installed from source
    assert "devsupport" not in names  # the tests' and benchmarks' helpers are dev only


def test_the_ingest_image_gets_no_dbt():
    names = exported("shared-ingest")
    assert {"dagster", "duckdb", "google-cloud-bigquery", "gcsfs", "dagster-postgres"} <= names
    assert not {"dbt-core", "dagster-dbt", "devsupport"} & names
    assert not {"sourcesim", "numpy", "pyarrow"} & names  # the simulated source systems are dev only
