"""A team deploys its domain alone: its package installs into a fresh virtual environment from
the one workspace lock, loads and materializes its assets there, without the others' code."""

import subprocess
import sys

import pytest
from support import REPO, scalar, scrubbed_env

from devsupport.environments import install_location

# A job of one location; a partitioned one for the days argv[3]..argv[4] in one run.
RUN_JOB = r"""
import importlib, sys
from dataplatform.partitions import partition_range_tags
location, job, days = sys.argv[1], sys.argv[2], sys.argv[3:] or ["2026-01-01"]
job_def = importlib.import_module(f"{location}.definitions").defs().resolve_job_def(job)
result = job_def.execute_in_process(tags=partition_range_tags(days[0], days[-1]) if job_def.partitions_def else {})
assert result.success, job
print("materialized", len(result.get_asset_materialization_events()))
"""


def install_alone(package: str, venv) -> str:
    """The location alone in its own environment, as its image installs it; returns its python."""
    return str(install_location(package, venv) / "python")


def run(python: str, args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([python, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Days 1 and 2 ingested and sales built by the full workspace: what the other teams' deployments did."""
    local = tmp_path_factory.mktemp("deploy")
    env = scrubbed_env(PLATFORM_LOCAL_DIR=str(local), PLATFORM_SCHEDULES="stopped")
    for args in (["-m", "sourcesim.generator", "--day", "1", "2", "--scale", "0.05"],
                 ["-c", RUN_JOB, "shared_ingest", "ingest_sources", "2026-01-01", "2026-01-02"],
                 ["-c", RUN_JOB, "sales", "sales_build", "2026-01-01", "2026-01-02"]):  # inventory reads sales.order_items
        result = run(sys.executable, args, env)
        assert result.returncode == 0, result.stderr[-3000:]
    return local, env


def imports(python: str, module: str, env: dict) -> bool:
    return run(python, ["-c", f"import {module}"], env).returncode == 0


@pytest.mark.shared_ingest
def test_shared_ingest_alone_ingests_without_dbt(tmp_path_factory):
    """On a warehouse of its own: the domains' tests reconcile their builds with every raw day."""
    local = tmp_path_factory.mktemp("ingest_alone")
    env = scrubbed_env(PLATFORM_LOCAL_DIR=str(local), PLATFORM_SCHEDULES="stopped")
    python = install_alone("shared-ingest", tmp_path_factory.mktemp("venv") / "shared_ingest")
    for other in ("sales", "inventory", "dagster_dbt", "dbt.cli"):
        assert not imports(python, other, env), f"{other} is importable in shared_ingest's environment"
    # The source systems export, not the deployment: the simulator is dev only, not in the image.
    assert not imports(python, "sourcesim", env), "the dev-only simulator is in shared_ingest's environment"
    generated = run(sys.executable, ["-m", "sourcesim.generator", "--day", "1", "2", "--scale", "0.05"], env)
    assert generated.returncode == 0, generated.stderr[-3000:]
    result = run(python, ["-c", RUN_JOB, "shared_ingest", "ingest_sources", "2026-01-01", "2026-01-02"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    db = local / "warehouse.duckdb"
    assert scalar(db, "select count(distinct cast(ordered_at as date)) from raw_shop.orders") == 2


EXPECTED = {
    "sales": ("select count(*) from sales.orders", "select count(*) from raw_shop.orders"),
    "inventory": ("select count(*) from inventory.days_of_supply", "select count(*) from raw_erp.products"),
}


@pytest.mark.parametrize("domain", [pytest.param("sales", marks=pytest.mark.sales),
                                    pytest.param("inventory", marks=pytest.mark.inventory)])
def test_a_domain_alone_builds_its_slice(domain, warehouse, tmp_path_factory):
    local, env = warehouse
    python = install_alone(domain, tmp_path_factory.mktemp("venv") / domain)
    for other in {"shared_ingest", "sales", "inventory"} - {domain}:
        assert not imports(python, other, env), f"{other} is importable in {domain}'s environment"
    # days 1..2, which the fixture ingested
    result = run(python, ["-c", RUN_JOB, domain, f"{domain}_build", "2026-01-01", "2026-01-02"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    built, raw = EXPECTED[domain]
    db = local / "warehouse.duckdb"
    assert scalar(db, built) == scalar(db, raw) > 0
