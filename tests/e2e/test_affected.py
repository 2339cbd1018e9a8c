"""What a change touches (`python -m devsupport.affected`), on a scratch git repository holding
the platform's test project (its dbt project and locations, tests/fixtures/subscriptions): one
commit is the base, each test edits the working tree as a pull request would, and reads what the
command prints as JSON (real git, real dbt deps, parse and `dbt ls --select state:modified+`)."""

import json
import shutil
import subprocess
import sys

import pytest
from support import REPO, day, execute_job, land_fixture_days, point_platform_at, query, scalar, scrubbed_env

GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]


@pytest.fixture(scope="module")
def repo(fixture_root, tmp_path_factory):
    """A git repository whose one commit holds the test project's dbt project, locations and README."""
    root = tmp_path_factory.mktemp("pr")
    shutil.copytree(fixture_root / "dbt", root / "dbt", ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    shutil.copytree(fixture_root / "locations", root / "locations",
                    ignore=shutil.ignore_patterns(".venv", "__pycache__", "*.egg-info"))
    shutil.copyfile(REPO / "README.md", root / "README.md")
    (root / ".gitignore").write_text("dbt/target/\ndbt/logs/\ndbt/dbt_packages/\ndbt/package-lock.yml\n.local/\n")
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
    return subprocess.run([sys.executable, "-m", "devsupport.affected", "--base", "main", *args],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)


def touched(repo) -> dict:
    result = affected(repo, "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def names(uids: list[str]) -> set[str]:
    """Model and snapshot names (tests left out) of unique ids."""
    return {uid.split(".", 2)[2] for uid in uids if uid.split(".")[0] in ("model", "snapshot")}


def test_a_private_billing_model_touches_billing_only(repo, change):
    change("dbt/models/billing/marts/daily_billing.sql", "select", "select -- reviewed\n   ")
    result = touched(repo)
    assert set(result["locations"]) == {"billing"}
    assert set(result["nodes"]) == {"billing"}
    assert names(result["nodes"]["billing"]) == {"daily_billing"}
    assert any(uid.startswith("test.") and "daily_billing" in uid for uid in result["nodes"]["billing"])
    assert result["markers"] == "billing"


def test_billings_public_invoices_touches_cares_readers_too(repo, change):
    change("dbt/models/billing/marts/invoices.sql", "select", "select -- reviewed\n   ")
    result = touched(repo)
    assert set(result["locations"]) == {"billing", "care"}
    assert {"invoices.v1", "accounts", "daily_billing"} <= names(result["nodes"]["billing"])
    assert names(result["nodes"]["care"]) == {"account_health"}
    assert any(uid.startswith("test.") and "account_health" in uid for uid in result["nodes"]["care"])
    assert result["markers"] == "billing or care"


def test_a_macro_touches_exactly_the_models_that_call_it_and_their_dependents(repo, change):
    change("dbt/macros/daily_partition_by.sql", "{{ return(none) }}", "{{ return(none) }}  {#- reviewed -#}")
    result = touched(repo)
    nodes = {domain: names(uids) for domain, uids in result["nodes"].items()}
    # the three models whose config calls daily_partition_by, and what reads them
    assert nodes == {"billing": {"invoices.v1", "daily_billing", "accounts"}, "care": {"tickets", "account_health"}}


def test_a_vendored_packages_macro_touches_the_models_that_call_it(repo, change):
    change("dbt/vendor/subscription_utils/macros/money.sql", "{%- endmacro %}", "{#- reviewed -#}\n{%- endmacro %}")
    result = touched(repo)
    assert {domain: names(uids) for domain, uids in result["nodes"].items()} == {
        "billing": {"invoices.v1", "daily_billing", "accounts"}, "care": {"account_health"}}


def test_a_placement_macro_touches_every_model_it_places(repo, change):
    """dbt lists no node as depending on generate_schema_name; its code versions do."""
    change("dbt/macros/generate_schema_name.sql", "{%- endmacro %}", "{#- reviewed -#}\n{%- endmacro %}")
    result = touched(repo)
    assert {"invoices.v1", "accounts", "stg_billing__invoices", "accounts_snapshot"} <= names(result["nodes"]["billing"])
    assert {"account_health", "stg_support__tickets", "stg_crm__contacts"} <= names(result["nodes"]["care"])


def test_ingests_loader_touches_ingest_and_the_models_reading_the_sources(repo, change):
    change("locations/shared_ingest/src/shared_ingest/duckdb_loader.py", '"""', '"""Reviewed. ')
    result = touched(repo)
    assert set(result["locations"]) == {"shared_ingest", "billing", "care"}
    assert result["locations"]["shared_ingest"] == ["files changed: locations/shared_ingest/src/shared_ingest/duckdb_loader.py"]
    assert names(result["nodes"]["billing"]) == {"stg_billing__accounts", "stg_billing__invoices",
                                                 "stg_billing__invoice_lines", "accounts_snapshot"}
    assert "stg_support__tickets" in names(result["nodes"]["care"])
    assert not {"account_health", "tickets"} & names(result["nodes"]["care"])
    # the source tests, which a loader change can fail, are the sources' consumers too
    assert any(uid.startswith("test.warehouse.source_") for uid in result["nodes"]["billing"])


def test_only_the_readme_touches_nothing(repo, change):
    change("README.md", "# ", "# (reviewed) ")
    result = affected(repo)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "touches no location: nothing to build or test" in result.stdout
    assert "parsing" not in result.stderr  # no dbt at all
    assert touched(repo)["locations"] == {}


def test_removing_a_version_another_domain_reads_on_the_base_is_refused(repo, change):
    """Even when the same change moves care to v2: care's deployed code reads v1 until it deploys."""
    change("dbt/models/billing/marts/_billing__marts.yml", "latest_version: 1", "latest_version: 2")
    change("dbt/models/billing/marts/_billing__marts.yml", "      - v: 1\n", "      - v: 2\n")
    change("dbt/models/care/marts/account_health.sql", "v=1", "v=2")
    result = affected(repo)
    assert result.returncode == 1
    assert "invoices v1 (billing) is removed, but care's account_health" in result.stderr
    assert "models/care/marts/account_health.sql" in result.stderr


def test_build_runs_only_the_touched_nodes_in_a_scratch_copy_deferring_to_the_base(repo, change, tmp_path, monkeypatch):
    """The base warehouse is day 1 of the test project's real locations; the change edits billing's
    daily_billing, which the scratch copy shows and the base warehouse does not."""
    root, _ = repo
    warehouse = point_platform_at(monkeypatch, tmp_path)
    monkeypatch.setenv("DBT_PROJECT_DIR", str(root / "dbt"))
    day_1 = day(1)
    land_fixture_days(tmp_path, (1,))
    for location, job in (("shared_ingest", "ingest_sources"), ("billing", "billing_build")):
        assert execute_job(location, job, day_1).success
    before = query(warehouse, "select invoice_date, invoice_count from billing.daily_billing order by 1")
    invoices = scalar(warehouse, "select count(*) from billing.invoices")
    change("dbt/models/billing/marts/daily_billing.sql", "count(*) as invoice_count", "count(*) + 1 as invoice_count")

    root, env = repo
    _, env = repo
    result = subprocess.run([sys.executable, "-m", "devsupport.affected", "--base", "main", "--build", "--day", day_1,
                             "--warehouse", str(warehouse)], cwd=root, env={**env, "DUCKDB_PATH": str(warehouse)},
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    scratch = root / ".local" / "affected" / "scratch" / warehouse.name
    assert query(scratch, "select invoice_date, invoice_count from billing.daily_billing order by 1") == [
        (invoice_day, count + 1) for invoice_day, count in before]
    # dbt built daily_billing and its tests, nothing else: invoices (not selected) was deferred to, not rebuilt
    built = [line for line in result.stderr.splitlines() if "OK created" in line]
    assert any("daily_billing" in line for line in built), result.stderr[-3000:]
    assert not any(".invoices" in line or "stg_billing" in line for line in built), built
    assert scalar(scratch, "select count(*) from billing.invoices") == invoices
    assert query(warehouse, "select invoice_date, invoice_count from billing.daily_billing order by 1") == before
