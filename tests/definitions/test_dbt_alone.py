"""The dbt project works on its own, as an analytics engineer (or an editor's dbt extension) runs
it: `dbt parse`, `dbt build -s <model>` and `dbt test` from dbt/, with no environment prepared,
against the dev warehouse of a fresh clone (.local/, which the clone holds)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from support import REPO, copy_dbt_project, scrubbed_env

DBT = str(Path(sys.executable).parent / "dbt")


def dbt(project: Path, *args: str) -> subprocess.CompletedProcess:
    # No PLATFORM_*, DUCKDB_* or DBT_* variable: what a fresh shell has.
    return subprocess.run([DBT, *args], cwd=project, env=scrubbed_env(NO_COLOR="1"), capture_output=True, text=True,
                          timeout=600)


def test_dbt_parses_builds_a_model_and_tests_from_its_folder_with_nothing_prepared(tmp_path):
    clone = tmp_path / "clone"
    project = copy_dbt_project(clone / "dbt")
    shutil.copytree(REPO / ".local", clone / ".local", ignore=lambda folder, names: [n for n in names if n != "README.md"])

    parsed = dbt(project, "parse")
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    # A staging model on a source the platform loads: on a warehouse ingest never loaded, the
    # sources are created empty, as declared (macros/dev_sources.sql), and the model builds.
    staging = sorted(n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"
                     and any(p.startswith("source.") for p in n["depends_on"]["nodes"]))
    assert staging, "no model reads a source"
    built = dbt(project, "build", "--select", staging[0])
    assert built.returncode == 0, built.stdout[-3000:]
    assert "creating" in built.stdout and "empty, as declared" in built.stdout
    assert (clone / ".local" / "warehouse.duckdb").is_file()

    tested = dbt(project, "test", "--select", staging[0])
    assert tested.returncode == 0, tested.stdout[-3000:]
    # Every data test compiles and runs (a source never loaded fails its freshness: data, not
    # set-up). dbt's unit tests read their inputs' columns from the warehouse, so they run in a
    # build, after the models they read (tests/example: in a domain's build).
    everything = dbt(project, "test", "--exclude-resource-type", "unit_test")
    assert "Compilation Error" not in everything.stdout and "Env var required" not in everything.stdout, everything.stdout
    assert "Done. PASS=" in everything.stdout
