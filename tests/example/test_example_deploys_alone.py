"""The example's domains deployed alone: each installs into a fresh virtual environment from the
one workspace lock, as its image installs it, cannot import the other locations there, and builds
its slice (days 1 and 2 in one run) on a warehouse the full workspace prepared: the example's
simulated days landed and ingested, and sales built (inventory reads its order_items), as the
other teams' deployments would have done. (Every location installing alone and loading its
definitions, and the ingest alone: tests/deploy/test_deploy_alone.py.)"""

import subprocess
import sys

import pytest
from example.example_support import EXAMPLE_CHAIN
from support import LOCATIONS, REPO, RUN_JOB, scalar, scrubbed_env

from dataplatform.partitions import PARTITIONS_START_VARIABLE, partitions_start
from devsupport.environments import install_location
from sourcesim.days import day_date
from sourcesim.generator import generate_day

DAYS = [day_date(d).isoformat() for d in (1, 2)]


def run(python: str, args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([python, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Days 1 and 2 landed by the example's simulated sources, then the example's chain up to its
    last domain (ingest, then sales) run by the full workspace: what the other teams' deployments did."""
    local = tmp_path_factory.mktemp("deploy")
    env = scrubbed_env(PLATFORM_LOCAL_DIR=str(local), PLATFORM_SCHEDULES="stopped",
                       **{PARTITIONS_START_VARIABLE: partitions_start().isoformat()})
    for day in (1, 2):
        generate_day(str(local / "landing"), day, scale=0.05)
    for location, job in EXAMPLE_CHAIN[:-1]:  # inventory reads sales.order_items
        result = run(sys.executable, ["-m", "devsupport.chain", location, job, *DAYS], env)
        assert result.returncode == 0, result.stderr[-3000:]
    return local, env


def imports(python: str, module: str, env: dict) -> bool:
    return run(python, ["-c", f"import {module}"], env).returncode == 0


EXPECTED = {
    "sales": ("select count(*) from sales.orders", "select count(*) from raw_shop.orders"),
    "inventory": ("select count(*) from inventory.days_of_supply", "select count(*) from raw_erp.products"),
}


@pytest.mark.parametrize("domain", [pytest.param("sales", marks=pytest.mark.sales),
                                    pytest.param("inventory", marks=pytest.mark.inventory)])
def test_a_domain_alone_builds_its_slice(domain, warehouse, tmp_path_factory):
    local, env = warehouse
    python = str(install_location(domain, tmp_path_factory.mktemp("venv") / domain) / "python")
    for other in set(LOCATIONS) - {domain}:
        assert not imports(python, other, env), f"{other} is importable in {domain}'s environment"
    # days 1..2, which the fixture ingested
    result = run(python, ["-c", RUN_JOB, domain, f"{domain}_build", *DAYS], env)
    assert result.returncode == 0, result.stderr[-3000:]
    built, raw = EXPECTED[domain]
    db = local / "warehouse.duckdb"
    assert scalar(db, built) == scalar(db, raw) > 0
