"""A team deploys its domain alone: its package installs into a fresh virtual environment from
the one workspace lock, loads and materializes its assets there, without the others' code."""

import os
import shutil
import subprocess
import sys

import pytest
from support import REPO, scalar

RUN_JOB = r"""
import importlib, sys
location, job = sys.argv[1], sys.argv[2]
defs = importlib.import_module(f"{location}.definitions").defs()
result = defs.resolve_job_def(job).execute_in_process()
assert result.success, job
print("materialized", len(result.get_asset_materialization_events()))
"""


def uv() -> list[str]:
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def install_alone(package: str, venv) -> str:
    """`uv sync --package <location> --frozen` into its own environment; returns its python."""
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(
        [*uv(), "sync", "--frozen", "--package", package, "--no-default-groups", "--quiet"],
        cwd=REPO, env=env, check=True, timeout=900,
    )
    return str(venv / "bin" / "python")


def run(python: str, args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([python, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Day 1 landed and ingested (by the full workspace): what the ingest team's deployment did."""
    local = tmp_path_factory.mktemp("deploy")
    env = {**os.environ, "PLATFORM_LOCAL_DIR": str(local), "PLATFORM_SCHEDULES": "stopped"}
    for name in ("DUCKDB_PATH", "LANDING_ROOT", "DBT_TARGET", "PLATFORM_ENV"):
        env.pop(name, None)
    for args in (["-m", "shared_ingest.generator", "--day", "1", "--scale", "0.05"],
                 ["-c", RUN_JOB, "shared_ingest", "ingest_sources"]):
        result = run(sys.executable, args, env)
        assert result.returncode == 0, result.stderr[-3000:]
    return local, env


def imports(python: str, module: str, env: dict) -> bool:
    return run(python, ["-c", f"import {module}"], env).returncode == 0


@pytest.mark.shared_ingest
def test_shared_ingest_alone_ingests_without_dbt(warehouse, tmp_path_factory):
    local, env = warehouse
    python = install_alone("shared-ingest", tmp_path_factory.mktemp("venv") / "shared_ingest")
    for other in ("sales", "inventory", "dagster_dbt", "dbt.cli"):
        assert not imports(python, other, env), f"{other} is importable in shared_ingest's environment"
    generated = run(python, ["-m", "shared_ingest.generator", "--day", "2", "--scale", "0.05"], env)
    assert generated.returncode == 0, generated.stderr[-3000:]
    result = run(python, ["-c", RUN_JOB, "shared_ingest", "ingest_sources"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    db = local / "warehouse.duckdb"
    assert scalar(db, "select count(distinct cast(ordered_at as date)) from raw_shop.orders") == 2


@pytest.mark.sales
def test_sales_alone_builds_its_slice(warehouse, tmp_path_factory):
    local, env = warehouse
    python = install_alone("sales", tmp_path_factory.mktemp("venv") / "sales")
    for other in ("shared_ingest", "inventory"):
        assert not imports(python, other, env), f"{other} is importable in sales' environment"
    for job in ("sales_snapshots", "sales_build"):
        result = run(python, ["-c", RUN_JOB, "sales", job], env)
        assert result.returncode == 0, result.stderr[-3000:]
    db = local / "warehouse.duckdb"
    assert scalar(db, "select count(*) from sales.orders") == scalar(db, "select count(*) from raw_shop.orders")


@pytest.mark.inventory
def test_inventory_alone_builds_its_slice(warehouse, tmp_path_factory):
    local, env = warehouse
    python = install_alone("inventory", tmp_path_factory.mktemp("venv") / "inventory")
    for other in ("shared_ingest", "sales"):
        assert not imports(python, other, env), f"{other} is importable in inventory's environment"
    for job in ("inventory_snapshots", "inventory_build"):
        result = run(python, ["-c", RUN_JOB, "inventory", job], env)
        assert result.returncode == 0, result.stderr[-3000:]
    db = local / "warehouse.duckdb"
    assert scalar(db, "select count(*) from inventory.days_of_supply") == scalar(db, "select count(*) from raw_erp.products")
