"""The prod (BigQuery) dbt target parses, lists and compiles offline, with a throwaway key.

dbt runs on scratch copies of the platform's test project (tests/fixtures/subscriptions, its
vendored package installed by `dbt deps`, offline), so no project's target is ever touched. Nothing
may reach Google: NO_GCE_CHECK stops google-auth probing the metadata server, the key is a
fresh RSA key that no token endpoint would accept, `--no-populate-cache` skips the catalog
queries, and every dbt call has a timeout.
"""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from support import copy_dbt_project, scrubbed_env

from dataplatform.dbt.project import dbt_executable

DBT_TIMEOUT_SECONDS = 300


def _dummy_keyfile(path: Path) -> Path:
    """A syntactically valid service-account key: google-auth parses it without any network."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "dummy", "private_key_id": "0" * 40, "private_key": pem,
        "client_email": "dbt@dummy.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }))
    return path


def _start(project: Path, target: str, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [dbt_executable(), *args, "--project-dir", str(project), "--profiles-dir", str(project), "--target", target],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=project,
    )


def _finish(process: subprocess.Popen) -> str:
    """dbt's stdout once it succeeded; killed (and failing the test) after the timeout."""
    try:
        stdout, stderr = process.communicate(timeout=DBT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 0, f"dbt {' '.join(process.args[1:])} failed:\n{stdout[-4000:]}\n{stderr[-2000:]}"
    return stdout


def _listed(stdout: str) -> set[str]:
    return {json.loads(line)["unique_id"] for line in stdout.splitlines() if line.startswith("{")}


LS = ("ls", "--quiet", "--output", "json", "--output-keys", "unique_id")


@pytest.fixture(scope="module")
def projects(tmp_path_factory, fixture_root) -> Iterator[dict]:
    """One scratch project per target, and the environment each target's dbt runs with."""
    root = tmp_path_factory.mktemp("prod_target")
    base = scrubbed_env(NO_GCE_CHECK="true", DO_NOT_TRACK="1", PLATFORM_PARTITIONS_START="2026-01-01")
    envs = {
        "dev": base | {"DUCKDB_PATH": str(root / "warehouse.duckdb")},
        "prod": base | {"BIGQUERY_PROJECT": "dummy", "BIGQUERY_LOCATION": "EU",
                        "BIGQUERY_AUTH_METHOD": "service-account",
                        "BIGQUERY_KEYFILE": str(_dummy_keyfile(root / "key.json"))},
    }
    dirs = {}
    for target in envs:
        dirs[target] = copy_dbt_project(root / target / "dbt", fixture_root / "dbt")
        _finish(_start(dirs[target], target, envs[target], "deps"))
    dev_ls = _start(dirs["dev"], "dev", envs["dev"], *LS)  # its own copy: runs beside the prod commands
    yield {"dirs": dirs, "envs": envs, "dev_ls": dev_ls}
    if dev_ls.poll() is None:
        dev_ls.kill()
        dev_ls.communicate()


def _run(projects: dict, target: str, *args: str) -> str:
    return _finish(_start(projects["dirs"][target], target, projects["envs"][target], *args))


def test_prod_target_parses_with_the_bigquery_adapter(projects):
    _run(projects, "prod", "parse")
    manifest = json.loads((projects["dirs"]["prod"] / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "bigquery"
    invoices = manifest["sources"]["source.warehouse.billing.invoices"]
    assert (invoices["database"], invoices["schema"]) == ("dummy", "raw_billing")


def test_prod_target_lists_the_same_nodes_as_dev(projects):
    prod, dev = _listed(_run(projects, "prod", *LS)), _listed(_finish(projects["dev_ls"]))
    assert prod == dev
    assert {"model.warehouse.account_health", "snapshot.warehouse.accounts_snapshot",
            "source.warehouse.support.tickets", "source.warehouse.crm.contacts"} <= prod


def test_prod_target_compiles_offline_to_bigquery_sql(projects):
    assert "target='prod'" in _run(projects, "prod", "compile", "--no-populate-cache")
    compiled = projects["dirs"]["prod"] / "target" / "compiled" / "warehouse" / "models"
    account_health = (compiled / "care" / "marts" / "account_health.sql").read_text()
    # dbt.dateadd: DuckDB would say `+ cast(-7 as bigint) * interval 1 day`.
    assert "datetime_add(" in account_health and "interval -7 day" in account_health
    assert "bigint" not in account_health.lower()
    # dbt.type_string, over a model's relation: DuckDB would say TEXT.
    stdout = _run(projects, "prod", "compile", "--no-populate-cache", "--inline",
                  "select cast(account_id as {{ dbt.type_string() }}) as account_key from {{ ref('accounts') }}")
    assert "cast(account_id as string)" in stdout and "TEXT" not in stdout, stdout
    # Relations are project.dataset.table in backticks, not DuckDB's double quotes.
    invoices = (compiled / "billing" / "staging" / "billing" / "stg_billing__invoices.sql").read_text()
    assert "`dummy`.`raw_billing`.`invoices`" in invoices


def test_prod_incremental_models_replace_day_partitions_on_bigquery(projects):
    """dbt-bigquery's microbatch replaces one day's partition per batch (insert_overwrite): each
    incremental model is partitioned by day on its event_time column in prod (DuckDB has no
    table partitions: its microbatch deletes and inserts the day's rows in one transaction)."""
    _run(projects, "prod", "parse")
    prod = json.loads((projects["dirs"]["prod"] / "target" / "manifest.json").read_text())
    incremental = {n["name"]: n["config"] for n in prod["nodes"].values() if n["config"].get("incremental_strategy") == "microbatch"}
    assert set(incremental) == {"invoices", "daily_billing", "tickets"}
    for name, config in incremental.items():
        assert config["partition_by"] == {"field": config["event_time"], "data_type": "date", "granularity": "day"}, name
    # A batch reads its inputs through their event_time; on the staging views that is the raw
    # tables' partition column, so BigQuery prunes to one day's partition.
    _run(projects, "prod", "compile", "--no-populate-cache", "--select", "stg_billing__invoices")
    compiled = (projects["dirs"]["prod"] / "target" / "compiled" / "warehouse" / "models" / "billing" / "staging"
                / "billing" / "stg_billing__invoices.sql").read_text()
    assert "_export_date as invoice_date" in compiled and "`dummy`.`raw_billing`.`invoices`" in compiled


def test_prod_publishes_blue_to_green_with_bigquery_clone_and_copy(projects):
    """On BigQuery an incremental mart's blue (dataset billing_blue) starts as a clone of green
    (dataset billing) and is published by a copy onto green (both metadata operations: no bytes are
    rewritten); and a domain reads another domain's mart where consumers read it, green, never its
    blue build (care's account_health, billing's invoices v1 and accounts)."""
    stdout = _run(projects, "prod", "compile", "--no-populate-cache", "--inline",
                  "{% set blue = api.Relation.create(database='dummy', schema='billing_blue', identifier='invoices') %}"
                  "{{ adapter.dispatch('clone_green_into_blue')(green_of(blue), blue) }};"
                  "{{ adapter.dispatch('promote_blue_to_green')([{'blue': blue, 'green': green_of(blue), 'green_exists': true, "
                  "'incremental': true}]) }}")
    sql = " ".join(stdout.split())
    # Two datasets: billing_blue (the builds, not granted to consumers) and billing (published marts only).
    assert "create or replace table `dummy`.`billing_blue`.`invoices` clone `dummy`.`billing`.`invoices`" in sql, sql
    assert "create schema if not exists `dummy`.`billing`" in sql, sql
    assert "create or replace table `dummy`.`billing`.`invoices` copy `dummy`.`billing_blue`.`invoices`" in sql, sql
    assert "drop table `dummy`.`billing_blue`.`invoices`" in sql, sql

    _run(projects, "prod", "compile", "--no-populate-cache", "--select", "account_health")
    compiled = (projects["dirs"]["prod"] / "target" / "compiled" / "warehouse" / "models" / "care" / "marts"
                / "account_health.sql").read_text()
    assert "`dummy`.`billing`.`invoices`" in compiled and "`dummy`.`billing`.`accounts`" in compiled
    assert "billing_blue" not in compiled
