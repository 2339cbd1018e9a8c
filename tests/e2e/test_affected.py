"""What a change touches (`python -m dataplatform.affected`), on a scratch git repository holding
the repo's dbt project and locations: one commit is the base, each test edits the working tree
as a pull request would, and reads what the command prints as JSON (real git, real dbt parse and
`dbt ls --select state:modified+`)."""

import json
import shutil
import subprocess
import sys

import pytest
from support import REPO, execute_job, point_platform_at, query, scalar, scrubbed_env

from sourcesim.days import day_date
from sourcesim.generator import generate_day

GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A git repository whose one commit holds the repo's dbt project, locations and README."""
    root = tmp_path_factory.mktemp("pr")
    shutil.copytree(REPO / "dbt", root / "dbt", ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    shutil.copytree(REPO / "locations", root / "locations", ignore=shutil.ignore_patterns(".venv", "__pycache__", "*.egg-info"))
    shutil.copyfile(REPO / "README.md", root / "README.md")
    (root / ".gitignore").write_text("dbt/target/\ndbt/logs/\n.local/\n")
    for command in (["init", "--quiet", "-b", "main"], ["add", "."], ["commit", "--quiet", "-m", "base"]):
        subprocess.run([*GIT, *command], cwd=root, check=True)
    local = tmp_path_factory.mktemp("local")
    env = scrubbed_env(PLATFORM_ENV="dev", PLATFORM_LOCAL_DIR=str(local), DUCKDB_PATH=str(local / "warehouse.duckdb"))
    yield root, env


@pytest.fixture
def change(repo):
    """Edit files of the scratch repo's working tree (path -> (old, new) or new file text); reset after."""
    root, _ = repo

    def edit(path: str, old: str | None = None, new: str = "") -> None:
        target = root / path
        text = target.read_text() if old is not None else ""
        assert old is None or old in text, f"{old!r} not in {path}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace(old, new, 1) if old is not None else new)

    yield edit
    subprocess.run(["git", "checkout", "--quiet", "."], cwd=root, check=True)
    subprocess.run(["git", "clean", "--quiet", "-fd"], cwd=root, check=True)


def affected(repo, *args: str) -> subprocess.CompletedProcess:
    root, env = repo
    return subprocess.run([sys.executable, "-m", "dataplatform.affected", "--base", "main", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


def touched(repo) -> dict:
    result = affected(repo, "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def names(uids: list[str]) -> set[str]:
    """Model and snapshot names (tests left out) of unique ids."""
    return {uid.split(".", 2)[2] for uid in uids if uid.split(".")[0] in ("model", "snapshot")}


def test_a_private_sales_model_touches_sales_only(repo, change):
    change("dbt/models/sales/intermediate/int_payments_summed_to_orders.sql", "select", "select -- reviewed\n   ")
    result = touched(repo)
    assert set(result["locations"]) == {"sales"}
    assert set(result["nodes"]) == {"sales"}
    assert names(result["nodes"]["sales"]) == {"int_payments_summed_to_orders", "orders", "customers"}
    assert any(uid.startswith("test.") and "orders" in uid for uid in result["nodes"]["sales"])
    assert result["markers"] == "sales"


def test_sales_public_order_items_touches_inventorys_readers_too(repo, change):
    change("dbt/models/sales/marts/order_items.sql", "select", "select -- reviewed\n   ")
    result = touched(repo)
    assert set(result["locations"]) == {"sales", "inventory"}
    assert "order_items.v1" in names(result["nodes"]["sales"])
    assert names(result["nodes"]["inventory"]) == {"days_of_supply"}
    assert any(uid.startswith("test.") and "days_of_supply" in uid for uid in result["nodes"]["inventory"])
    assert result["markers"] == "inventory or sales"


def test_a_macro_touches_exactly_the_models_that_call_it_and_their_dependents(repo, change):
    change("dbt/macros/daily_partition_by.sql", "{{ return(none) }}", "{{ return(none) }}  {#- reviewed -#}")
    result = touched(repo)
    nodes = {domain: names(uids) for domain, uids in result["nodes"].items()}
    # the four models whose config calls daily_partition_by, and what reads them
    assert nodes == {"sales": {"orders", "order_items.v1", "daily_revenue", "customers"},
                     "inventory": {"int_stock_movements_summed_to_days", "int_stock_movements_summed_to_levels",
                                   "stock_levels", "days_of_supply"}}


def test_a_placement_macro_touches_every_model_it_places(repo, change):
    """dbt lists no node as depending on generate_schema_name; its code versions do."""
    change("dbt/macros/generate_schema_name.sql", "{%- endmacro %}", "{#- reviewed -#}\n{%- endmacro %}")
    result = touched(repo)
    assert {"orders", "customers", "stg_shop__orders", "customers_snapshot"} <= names(result["nodes"]["sales"])
    assert {"days_of_supply", "stg_erp__products"} <= names(result["nodes"]["inventory"])


def test_ingests_loader_touches_ingest_and_the_models_reading_the_sources(repo, change):
    change("locations/shared_ingest/src/shared_ingest/duckdb_loader.py", '"""', '"""Reviewed. ')
    result = touched(repo)
    assert set(result["locations"]) == {"shared_ingest", "sales", "inventory"}
    assert result["locations"]["shared_ingest"] == ["files changed: locations/shared_ingest/src/shared_ingest/duckdb_loader.py"]
    assert names(result["nodes"]["sales"]) == {"stg_shop__customers", "stg_shop__orders", "stg_shop__order_items",
                                                "stg_shop__payments", "customers_snapshot"}
    assert "stg_erp__stock_movements" in names(result["nodes"]["inventory"])
    assert not {"days_of_supply", "products", "stock_levels"} & names(result["nodes"]["inventory"])
    # the source tests, which a loader change can fail, are the sources' consumers too
    assert any(uid.startswith("test.warehouse.source_") for uid in result["nodes"]["sales"])


def test_only_the_readme_touches_nothing(repo, change):
    change("README.md", "# ", "# (reviewed) ")
    result = affected(repo)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "touches no location: nothing to build or test" in result.stdout
    assert "parsing" not in result.stderr  # no dbt at all
    assert touched(repo)["locations"] == {}


def test_removing_a_version_another_domain_reads_on_the_base_is_refused(repo, change):
    """Even when the same change moves inventory to v2: inventory's deployed code reads v1 until it deploys."""
    change("dbt/models/sales/marts/_sales__marts.yml", "latest_version: 1", "latest_version: 2")
    change("dbt/models/sales/marts/_sales__marts.yml", "      - v: 1\n", "      - v: 2\n")
    change("dbt/models/inventory/marts/days_of_supply.sql", "v=1", "v=2")
    result = affected(repo)
    assert result.returncode == 1
    assert "order_items v1 (sales) is removed, but inventory's days_of_supply" in result.stderr
    assert "models/inventory/marts/days_of_supply.sql" in result.stderr


def test_build_runs_only_the_touched_nodes_in_a_scratch_copy_deferring_to_the_base(repo, change, tmp_path, monkeypatch):
    """The base warehouse is day 1 of the real locations; the change edits sales' daily_revenue,
    which the scratch copy shows and the base warehouse does not."""
    warehouse = point_platform_at(monkeypatch, tmp_path)
    day = day_date(1).isoformat()
    generate_day(str(tmp_path / "landing"), 1, scale=0.05)
    for location, job in (("shared_ingest", "ingest_sources"), ("sales", "sales_build")):
        assert execute_job(location, job, day).success
    before = query(warehouse, "select order_date, unit_count from sales.daily_revenue order by 1")
    orders = scalar(warehouse, "select count(*) from sales.orders")
    change("dbt/models/sales/marts/daily_revenue.sql", "sum(quantity) as unit_count", "sum(quantity) + 1 as unit_count")

    root, env = repo
    result = subprocess.run([sys.executable, "-m", "dataplatform.affected", "--base", "main", "--build", "--day", day,
                             "--warehouse", str(warehouse)], cwd=root, env={**env, "DUCKDB_PATH": str(warehouse)},
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    scratch = root / ".local" / "affected" / "scratch" / warehouse.name
    assert query(scratch, "select order_date, unit_count from sales.daily_revenue order by 1") == [
        (day, units + 1) for day, units in before]
    # dbt built daily_revenue and its tests, nothing else: orders (not selected) was deferred to, not rebuilt
    built = [line for line in result.stderr.splitlines() if "OK created" in line]
    assert any("daily_revenue" in line for line in built), result.stderr[-3000:]
    assert not any(".orders" in line or "stg_shop" in line for line in built), built
    assert scalar(scratch, "select count(*) from sales.orders") == orders
    assert query(warehouse, "select order_date, unit_count from sales.daily_revenue order by 1") == before
