"""A team brings its own dbt project (docs/adopt.md), step by step, in a scratch clone: the example
removed, two domains created with `new-domain`, the platform's test project dropped in (another
shape than the example: three source systems, one of them loaded by Fivetran, a key of two columns,
booleans, a vendored dbt package, unit tests, a model reading the other domain's public model).

Then, in that clone and its own environment: what the new domains' pull request runs (the static
and unit tiers and the checks of its locations: `-m "static or unit or billing or care"`) passes,
`dg check defs` passes, `python3 tasks.py up` starts without the example and says what to do, and
a day runs through ingest and both domains with lineage across the three locations. (The whole
suite but the example's tier, run there by hand, is in the closing note of issue 29.)
"""

import json
import signal
import subprocess
import sys
from pathlib import Path

from support import FIXTURE, bring_fixture_project, fixture_domains, free_port, own_process_group, scratch_clone, scrubbed_env

from devsupport.platform import wait_for_locations
from devsupport.processes import stop_group

# What the commands may change outside the new domains' folders and the dbt project: the lists.
LISTS = {"dg.toml", "workspace.yaml", "pyproject.toml", "uv.lock", "deploy/helm/values.yaml", "mkdocs.yml"}


def run(root: Path, *args: str, timeout: float = 1200, **env: str) -> subprocess.CompletedProcess:
    environment = scrubbed_env(PLATFORM_SCHEDULES="stopped", NO_COLOR="1", **env)
    environment.pop("VIRTUAL_ENV", None)
    return subprocess.run(args, cwd=root, env=environment, capture_output=True, text=True, timeout=timeout)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


# One day of the adopted workspace, in its own environment and one instance: ingest, the observation
# of the source Fivetran loads, then each domain's build; and the graph each location defines.
A_DAY = r"""
import json, sys
from datetime import date
from pathlib import Path
sys.path.insert(0, "tests")
from dagster import AssetKey, DagsterInstance
from devsupport.chain import execute_job
from fixtures.subscriptions.landing import land_day, load_crm
local = Path(sys.argv[1])
first = date(2026, 1, 1)
land_day(local / "landing", first, 1)
load_crm(local / "warehouse.duckdb", first, 1)
graph = {}
with DagsterInstance.ephemeral() as instance:
    for location, job in (("shared_ingest", "ingest_sources"), ("shared_ingest", "observe_sources"),
                          ("billing", "billing_build"), ("care", "care_build")):
        result = execute_job(location, job, "2026-01-01" if job != "observe_sources" else None, instance=instance)
        assert result.success, job
    for location in ("shared_ingest", "billing", "care"):
        import importlib
        asset_graph = importlib.import_module(f"{location}.definitions").defs().get_repository_def().asset_graph
        graph[location] = {k.to_user_string(): sorted(p.to_user_string() for p in asset_graph.get(k).parent_keys)
                           for k in asset_graph.get_all_asset_keys()
                           if asset_graph.get(k).is_materializable or asset_graph.get(k).is_observable}
print(json.dumps(graph))
"""


def test_a_team_brings_its_own_dbt_project_and_domains(tmp_path):
    root = scratch_clone(tmp_path / "repo")

    # 1. The example removed (its lock and environment follow).
    removed = ok(run(root, sys.executable, "tasks.py", "remove-example"))
    assert "removed the example" in removed
    assert not (root / "example.toml").exists() and not (root / "locations" / "sales").exists()
    assert not (root / "dbt" / "models" / "inventory").exists() and not (root / "libs" / "sourcesim").exists()

    # 2. Two domains, one command each.
    for name, declared in fixture_domains().items():
        flags = [part for field, value in declared.items() for part in (f"--{field.replace('_', '-')}", value)]
        ok(run(root, sys.executable, "tasks.py", "new-domain", name, *flags))

    # 3-4. The team's dbt project: its models, sources, snapshots, tests, packages and vendored package.
    bring_fixture_project(root)
    status = run(root, "git", "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
    touched = {line[3:] for line in status}
    outside = {path for path in touched if not path.startswith(("dbt/", "locations/billing/", "locations/care/"))}
    # Outside the new domains' folders and the dbt project, only the lists changed and the example left.
    example = ("libs/sourcesim/", "tests/example/", "docs/example.md", "example.toml", "locations/sales/",
               "locations/inventory/")
    assert {path for path in outside if not path.startswith(example)} == LISTS, outside
    assert all(line.startswith(" D") for line in status if line[3:].startswith(example))  # deleted, not edited
    dbt_touched = {path for path in touched if path.startswith("dbt/")}
    assert dbt_touched - {p for p in dbt_touched if p.startswith(("dbt/models/", "dbt/snapshots/", "dbt/data-tests/",
                                                                    "dbt/vendor/", "dbt/packages.yml"))} == {"dbt/dbt_project.yml"}
    print(f"adoption: files touched outside the new domains' folders: {sorted(p for p in outside if not p.startswith(example))}"
          " (and the example's, deleted); in dbt/: the domains' folders, packages.yml, vendor/, dbt_project.yml")

    # What the new domains' pull request runs, in the clone's own environment.
    tiers = run(root, sys.executable, "tasks.py", "test", "-m", "static or unit or billing or care", "-p", "no:cacheprovider",
                "-q", timeout=1800)
    assert tiers.returncode == 0, tiers.stdout[-6000:]
    print("adoption: " + [line for line in tiers.stdout.splitlines() if " passed" in line][-1])

    dg = str(root / ".venv" / "bin" / "dg")
    ok(run(root, dg, "check", "defs"))

    # `tasks.py up` without the example: it starts, says where exports land, and loads the three locations.
    local, port = tmp_path / "local", free_port()
    log = tmp_path / "up.log"
    environment = scrubbed_env(PLATFORM_LOCAL_DIR=str(local), PLATFORM_SCHEDULES="stopped")
    environment.pop("VIRTUAL_ENV", None)
    up = subprocess.Popen([sys.executable, "tasks.py", "up", "--port", str(port)], cwd=root, env=environment,
                          stdout=log.open("wb"), stderr=subprocess.STDOUT, preexec_fn=own_process_group)
    try:
        wait_for_locations(f"http://127.0.0.1:{port}", [up], log, timeout=600, count=3, errors_count=False)
    finally:
        # Ctrl-C, as a terminal sends it: to the whole process group; every process ends within 30 s.
        left = stop_group(up, signal.SIGINT, group=True, timeout=30)
    assert not left, f"still running 30 s after Ctrl-C to tasks.py up: {left}"
    assert "no simulated source system is installed: ingest loads what your sources export to" in log.read_text()

    # A day through ingest and both domains, with lineage across the locations.
    day = run(root, str(root / ".venv" / "bin" / "python"), "-c", A_DAY, str(tmp_path / "day"),
               PLATFORM_LOCAL_DIR=str(tmp_path / "day"), PLATFORM_PARTITIONS_START="2026-01-01")
    ok(day)
    graph = json.loads(day.stdout.strip().splitlines()[-1])  # stderr holds the runs' logs
    assert {"raw/billing/accounts", "raw/billing/invoices", "raw/billing/invoice_lines", "raw/support/tickets",
            "raw/crm/contacts"} <= set(graph["shared_ingest"])
    assert graph["billing"]["billing/stg_billing__invoice_lines"] == ["raw/billing/invoice_lines"]  # ingest -> billing
    assert graph["care"]["care/stg_crm__contacts"] == ["raw/crm/contacts"]  # the observed source -> care
    assert {"billing/accounts", "billing/invoices"} <= set(graph["care"]["care/account_health"])  # billing -> care
    assert FIXTURE.is_dir()
