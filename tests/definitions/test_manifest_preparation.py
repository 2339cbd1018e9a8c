"""The manifest is parsed once, however many locations load at the same time (dagster#33993).

On copies of the platform's test project (tests/fixtures/subscriptions): a project with a vendored
package, so each preparation also installs it (`dbt deps`) where it parses."""

import subprocess
import sys

from support import copy_dbt_project

PREPARE = r"""
import logging, sys, time
logging.basicConfig(level=logging.INFO)
from pathlib import Path
from dataplatform.dbt.project import get_dbt_project, prepare_manifest
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.01)
print(prepare_manifest(get_dbt_project(Path(sys.argv[1]), "dev")))
"""


def test_three_locations_loading_at_once_parse_once(tmp_path, platform_env, fixture_root):
    import time

    project = copy_dbt_project(tmp_path / "dbt", fixture_root / "dbt")
    start = str(time.time() + 3)
    processes = [
        subprocess.Popen([sys.executable, "-c", PREPARE, str(project), start],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err[-2000:] for _, err in outputs]
    parses = sum(err.count("running dbt parse") for _, err in outputs)
    assert parses == 1, [err for _, err in outputs]
    assert sum(err.count("running dbt deps") for _, err in outputs) == 1, [err for _, err in outputs]
    assert (project / "target" / "manifest.json").is_file()


def test_an_edit_is_picked_up_on_the_next_load(tmp_path, platform_env, fixture_root):
    import json

    from dataplatform.dbt.project import get_dbt_project, prepare_manifest

    project = copy_dbt_project(tmp_path / "dbt", fixture_root / "dbt")
    dbt_project = get_dbt_project(project, "dev")
    manifest = json.loads(prepare_manifest(dbt_project).read_text())
    assert "model.warehouse.invoice_counts" not in manifest["nodes"]
    (project / "models" / "billing" / "marts" / "invoice_counts.sql").write_text(
        "select invoice_date, count(*) as invoices from {{ ref('invoices') }} group by invoice_date\n"
    )
    manifest = json.loads(prepare_manifest(dbt_project).read_text())
    assert manifest["nodes"]["model.warehouse.invoice_counts"]["config"]["group"] == "billing"


def dbt_event_names(project, target_path) -> list[str]:
    """The names of the events of one dbt command run as a Dagster run does (dagster-dbt copies
    the prepared ``partial_parse.msgpack`` into the run's own target folder)."""
    from dataplatform.dbt.project import dbt_cli, get_dbt_project

    invocation = dbt_cli(get_dbt_project(project, "dev")).cli(["ls", "--select", "invoices"], target_path=target_path)
    return [event.raw_event["info"]["name"] for event in invocation.stream_raw_events()]


def test_a_run_parses_partially_after_the_warehouse_changed(tmp_path, platform_env, monkeypatch, caplog, fixture_root):
    """dbt drops its partial parse when the rendered profile changes (another DuckDB file, another
    BigQuery project). Preparing notices that and parses once, so every run after it parses
    only what changed instead of the whole project."""
    import logging

    from dataplatform.dbt.project import get_dbt_project, prepare_manifest

    project = copy_dbt_project(tmp_path / "dbt", fixture_root / "dbt")
    prepare_manifest(get_dbt_project(project, "dev"))
    assert "UnableToPartialParse" not in dbt_event_names(project, tmp_path / "run-1")

    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "another-warehouse.duckdb"))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        prepare_manifest(get_dbt_project(project, "dev"))
    assert "running dbt parse" in caplog.text
    events = dbt_event_names(project, tmp_path / "run-2")
    assert "UnableToPartialParse" not in events, "the run parsed the whole project again"


def test_dbt_packages_are_installed_where_the_project_is_parsed_offline(tmp_path, platform_env, caplog, fixture_root):
    """A project with packages.yml (the test project's vendored package, and one more outside it):
    the preparation runs `dbt deps` (a local package needs no network), once, and again only when
    the packages or the package change."""
    import json
    import logging

    from dataplatform.dbt.project import get_dbt_project, prepare_manifest

    package = tmp_path / "vendored" / "house_rules"
    (package / "macros").mkdir(parents=True)
    (package / "dbt_project.yml").write_text("name: house_rules\nversion: '1.0.0'\nconfig-version: 2\n")
    (package / "macros" / "cents.sql").write_text("{% macro to_cents(c) %}cast({{ c }} * 100 as bigint){% endmacro %}\n")
    project = copy_dbt_project(tmp_path / "dbt", fixture_root / "dbt")
    packages = (project / "packages.yml").read_text()
    assert "  - local: vendor/subscription_utils\n" in packages
    (project / "packages.yml").write_text(f"{packages}  - local: {package}\n")
    dbt_project = get_dbt_project(project, "dev")

    def prepared() -> tuple[dict, str]:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            manifest = json.loads(prepare_manifest(dbt_project).read_text())
        return manifest, caplog.text

    manifest, logged = prepared()
    assert "running dbt deps" in logged and "running dbt parse" in logged
    assert {"macro.house_rules.to_cents", "macro.subscription_utils.to_cents"} <= set(manifest["macros"])
    _, logged = prepared()
    assert "running dbt deps" not in logged and "running dbt parse" not in logged
    (package / "macros" / "cents.sql").write_text("{% macro to_cents(c) %}cast(round({{ c }} * 100) as bigint){% endmacro %}\n")
    manifest, logged = prepared()
    assert "running dbt deps" not in logged and "running dbt parse" in logged  # a local package is a link
    assert "round(" in manifest["macros"]["macro.house_rules.to_cents"]["macro_sql"]
