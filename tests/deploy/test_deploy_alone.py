"""A team deploys its location alone: its package installs into a fresh virtual environment from
the one workspace lock, as its image installs it, without the other locations' code, and its
definitions load there. For every location the workspace declares, whatever it is named; the
ingest location alone also loads a day of the platform's test project's sources
(tests/fixtures/subscriptions). A domain alone building its slice is the example's
(tests/example/test_example_deploys_alone.py)."""

import subprocess

import pytest
from support import LOCATIONS, REPO, RUN_JOB, copy_dbt_project, day, land_fixture_days, query, scalar, scrubbed_env

from dataplatform.partitions import PARTITIONS_START_VARIABLE, partitions_start
from devsupport.environments import install_location
from devsupport.workspace import INGEST, locations

PACKAGES = {location.name: location.package(REPO) for location in locations(REPO)}  # location -> distribution

# The jobs a location's definitions hold, loaded in the python that runs this.
JOBS = r"""
import importlib, sys
repo = importlib.import_module(f"{sys.argv[1]}.definitions").defs().get_repository_def()
print(" ".join(sorted(job.name for job in repo.get_all_jobs() if not job.name.startswith("__"))))
"""


def by_location(names) -> list:
    return [pytest.param(name, marks=getattr(pytest.mark, name)) for name in names]


def run(python: str, args: list[str], env: dict, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([python, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def imports(python: str, module: str, env: dict, cwd) -> bool:
    return run(python, ["-c", f"import {module}"], env, cwd).returncode == 0


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """The python of a location installed alone in its own environment, as its image installs it
    (once per location and module)."""
    pythons = {}

    def python(name: str) -> str:
        if name not in pythons:
            pythons[name] = str(install_location(PACKAGES[name], tmp_path_factory.mktemp("venv") / name) / "python")
        return pythons[name]

    return python


@pytest.mark.parametrize("name", by_location(LOCATIONS))
def test_a_location_alone_imports_no_other_and_loads_its_definitions(name, alone, tmp_path):
    python = alone(name)
    env = scrubbed_env(PLATFORM_LOCAL_DIR=str(tmp_path / "local"), PLATFORM_SCHEDULES="stopped",
                       DBT_PROJECT_DIR=str(REPO / "dbt"))
    for other in set(LOCATIONS) - {name}:
        assert not imports(python, other, env, tmp_path), f"{other} is importable in {name}'s environment"
    validated = subprocess.run([f"{python.removesuffix('python')}dagster", "definitions", "validate", "-m", f"{name}.definitions"],
                               cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert validated.returncode == 0, (validated.stdout + validated.stderr)[-4000:]
    loaded = run(python, ["-c", JOBS, name], env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr[-4000:]
    assert ("ingest_sources" if name == INGEST else f"{name}_build") in loaded.stdout.split()


@pytest.mark.shared_ingest
def test_shared_ingest_alone_ingests_the_test_projects_sources_without_dbt(alone, fixture_root, tmp_path):
    """On a warehouse of its own, the test project's sources YAML its catalogue: two days of the
    billing system's and support's exports land in the raw tables, every row of them (the domains'
    tests reconcile their builds with every raw day)."""
    from fixtures.subscriptions.landing import day_exports

    python = alone(INGEST)
    local = tmp_path / "local"
    project = copy_dbt_project(tmp_path / "dbt", fixture_root / "dbt")
    env = scrubbed_env(PLATFORM_LOCAL_DIR=str(local), PLATFORM_SCHEDULES="stopped", DBT_PROJECT_DIR=str(project),
                       **{PARTITIONS_START_VARIABLE: partitions_start().isoformat()})
    for other in ("dagster_dbt", "dbt.cli"):
        assert not imports(python, other, env, tmp_path), f"{other} is importable in {INGEST}'s environment"
    # The source systems export, not the deployment: simulated ones are dev only, not in the image.
    from shared_ingest.dev_sources import GROUP

    dev_sources = run(python, ["-c", f"import importlib.metadata as m; print(len(m.entry_points(group={GROUP!r})))"], env, tmp_path)
    assert dev_sources.stdout.strip() == "0", "a simulated source system is in shared_ingest's environment"
    land_fixture_days(local, (1, 2))
    result = run(python, ["-c", RUN_JOB, INGEST, "ingest_sources", day(1), day(2)], env, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    db = local / "warehouse.duckdb"
    assert scalar(db, "select count(distinct cast(issued_at as date)) from raw_billing.invoices") == 2
    exported = [day_exports(partitions_start(), k) for k in (1, 2)]
    for source, table in (("billing", "invoices"), ("billing", "invoice_lines"), ("support", "tickets")):  # events
        assert scalar(db, f"select count(*) from raw_{source}.{table}") == sum(len(e[source, table]) for e in exported)
    assert query(db, "select distinct account_id from raw_billing.accounts order by 1") == [
        (row["account_id"],) for row in exported[-1]["billing", "accounts"]]
