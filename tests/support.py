"""Helpers the test tiers share: running the locations, reading the warehouse."""

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

# What the tests share with the benchmarks is the dev-only devsupport package (libs/devsupport),
# re-exported here for the tests' one import.
from devsupport import DOMAINS, LOCATIONS, REPO  # noqa: F401
from devsupport.chain import execute_job  # noqa: F401
from devsupport.dbt import copy_dbt_project
from devsupport.environments import MACHINE_VARIABLES, copy_checkout, scrub_env, scrubbed_env, uv  # noqa: F401
from devsupport.processes import free_port, own_process_group, wait_until  # noqa: F401
from devsupport.warehouse import checksum, checksums_by, query, scalar  # noqa: F401

DESCRIBE_LOCATION = r"""
import json, sys, importlib
name = sys.argv[1]
defs = importlib.import_module(f"{name}.definitions").defs()
repo = defs.get_repository_def()
graph = repo.asset_graph
assets = {}
for key in graph.get_all_asset_keys():
    node = graph.get(key)
    if not node.is_materializable:
        continue
    assets_def = graph.assets_def_for_key(key)
    assets[key.to_user_string()] = {
        "deps": sorted(k.to_user_string() for k in node.parent_keys),
        "group": node.group_name,
        "owners": list(node.owners),
        "pool": assets_def.op.pool if assets_def.is_executable else None,
        "dbt_unique_id": (assets_def.metadata_by_key.get(key) or {}).get("dagster_dbt/unique_id"),
        "partitions": repr(node.partitions_def) if node.partitions_def else None,
        "backfill_policy": str(node.backfill_policy.policy_type) if node.backfill_policy else None,
    }
checks = sorted(c.to_user_string() for c in graph.asset_check_keys)
print(json.dumps({
    "assets": assets,
    "checks": checks,
    "schedules": sorted(s.name for s in repo.schedule_defs),
    "sensors": sorted(s.name for s in repo.sensor_defs),
    "jobs": sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")),
    # the modules it imported among its workspace's location packages (sys.argv[2:])
    "modules": sorted(m for m in sys.modules if m.split(".")[0] in set(sys.argv[2:])),
    # the sources another tool loads: observable source assets, never materialized
    "observed": {
        key.to_user_string(): {"group": graph.get(key).group_name, "owners": list(graph.get(key).owners),
                               "partitions": repr(graph.get(key).partitions_def) if graph.get(key).partitions_def else None}
        for key in graph.get_all_asset_keys() if graph.get(key).is_observable and not graph.get(key).is_materializable
    },
}))
"""


def printed_json(script: str, *args, **run) -> object:
    """What ``script``, run in a fresh interpreter of this environment with ``args``, prints as JSON
    on its last line; its error output if it fails. ``run``: subprocess.run's options (cwd, env)."""
    result = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True, **run)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def describe_location(name: str, env: dict | None = None, root: Path = REPO) -> dict:
    """Load one code location of the workspace at ``root`` (this checkout, or the fixture's with
    ``fixture_env``) in a fresh interpreter, no other location imported, and describe it."""
    from devsupport.workspace import locations

    result = subprocess.run(
        [sys.executable, "-c", DESCRIBE_LOCATION, name, *(location.name for location in locations(root))],
        capture_output=True, text=True, env=env, timeout=300, cwd=root,
    )
    assert result.returncode == 0, f"location {name} failed to load:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def evaluated_checks(result, failed_only: bool = False) -> set[tuple[str, str]]:
    """(asset key, check name) of every check the run evaluated, or of those that failed."""
    return {
        (e.asset_check_evaluation_data.asset_key.to_user_string(), e.asset_check_evaluation_data.check_name)
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not (failed_only and e.asset_check_evaluation_data.passed)
    }


def unevaluated_checks(result) -> set[str]:
    """The checks a whole job's run planned (all of the job's) that got no evaluation, passed or failed."""
    planned = result.dagster_run.asset_check_selection
    if planned is None:
        planned = result.job_def.asset_layer.asset_graph.asset_check_keys
    evaluated = {e.asset_check_evaluation_data.asset_check_key for e in result.all_events
                 if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    return {k.to_user_string() for k in set(planned) - evaluated}


def failed_checks(result) -> set[tuple[str, str]]:
    return evaluated_checks(result, failed_only=True)


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}


def run_days(first_day: str, last_day: str | None = None, chain=None) -> None:
    """The daily chain (the fixture's, unless ``chain`` says otherwise) for one day, or for a range
    of days with one run per job (a backfill)."""
    for location, job in chain or FIXTURE_CHAIN:
        result = execute_job(location, job, first_day, last_day)
        assert result.success, f"{job} failed for {first_day}..{last_day}"
        assert not failed_checks(result), failed_checks(result)
        assert not unevaluated_checks(result), f"{job} planned checks it did not evaluate: {unevaluated_checks(result)}"


def point_platform_at(mp, local: Path) -> Path:
    """Make the locations built in this process use a fresh local warehouse and landing zone
    under ``local`` (dev settings, schedules stopped); returns the warehouse file."""
    scrub_env(mp, PLATFORM_LOCAL_DIR=str(local), PLATFORM_SCHEDULES="stopped", DUCKDB_PATH=str(local / "warehouse.duckdb"))
    return local / "warehouse.duckdb"






def scratch_clone(to: Path) -> Path:
    """What a fresh clone of this checkout holds, as a git repository with one commit, for tests
    that run the workspace's commands on a whole tree. Its environment is its own: `python3
    tasks.py ...` there syncs it (uv links from its cache)."""
    return copy_checkout(to)


# The platform's own test project (tests/fixtures/subscriptions/README.md): a public-style dbt
# project of two domains, brought into a copy of the repository as docs/adopt.md says.
FIXTURE = REPO / "tests" / "fixtures" / "subscriptions"
FIXTURE_LOCATIONS = ("shared_ingest", "billing", "care")
FIXTURE_CHAIN = (("shared_ingest", "ingest_sources"), ("billing", "billing_build"), ("care", "care_build"))


def fixture_domains() -> dict[str, dict[str, str]]:
    import tomllib

    return tomllib.loads((FIXTURE / "domains.toml").read_text())


def bring_fixture_project(root: Path) -> None:
    """The fixture's dbt files over the workspace's dbt project at ``root``: each domain's models,
    snapshots and singular tests into its folders, the packages and the vendored package."""
    import shutil

    shutil.copytree(FIXTURE / "dbt", root / "dbt", dirs_exist_ok=True)


def fixture_workspace(root: Path) -> Path:
    """A copy of this checkout with its domains removed (the example's, or a team's own), the
    fixture's two domains created and its dbt project brought in: the functions `python3 tasks.py
    remove-example` and `new-domain` run, without their lock and sync (the new packages run from
    their folders: ``fixture_pythonpath``)."""
    from devsupport.workspace import EXAMPLE_TOML, domains, new_domain, remove_domains, remove_example

    scratch_clone(root)
    (root / ".venv").symlink_to(REPO / ".venv")  # each project's .env points at ../../.venv
    if (root / EXAMPLE_TOML).is_file():
        remove_example(root, lock=False)
    remove_domains(root, list(domains(root)), lock=False, check_readers=False)
    for name, declared in fixture_domains().items():
        new_domain(root, name, lock=False, **declared)
    bring_fixture_project(root)
    return root


def day(k: int) -> str:
    """The partition key of day ``k`` of the calendar (day 1: its first day)."""
    from datetime import timedelta

    from dataplatform.partitions import partitions_start

    return (partitions_start() + timedelta(days=k - 1)).isoformat()


def land_fixture_days(local: Path, days: tuple[int, ...], warehouse: Path | None = None) -> None:
    """The fixture's exports of ``days`` in the landing zone under ``local``, and the crm loaded
    (as Fivetran would) through the last of them, into ``warehouse`` (``local``'s by default)."""
    from fixtures.subscriptions.landing import land_day, load_crm

    from dataplatform.partitions import partitions_start

    local.mkdir(parents=True, exist_ok=True)
    for k in days:
        land_day(local / "landing", partitions_start(), k)
    load_crm(warehouse or local / "warehouse.duckdb", partitions_start(), max(days))


@contextmanager
def fixture_platform(root: Path, local: Path, days: tuple[int, ...] = (1,)):
    """The fixture's locations built in this process, pointed at a fresh warehouse and landing
    zone under ``local`` (``days`` landed) and at a scratch copy of the fixture workspace's dbt
    project (``root``, see ``fixture_workspace``), for tests that run and edit it; yields the
    warehouse file and the project folder."""
    import pytest

    mp = pytest.MonkeyPatch()
    try:
        warehouse = point_platform_at(mp, local)
        project = copy_dbt_project(local / "dbt", root / "dbt")
        mp.setenv("DBT_PROJECT_DIR", str(project))
        land_fixture_days(local, days)
        yield warehouse, project
    finally:
        mp.undo()


def fixture_pythonpath(root: Path) -> str:
    """The fixture's domain packages, importable from their folders (this environment has the
    workspace's packages installed, not theirs)."""
    return ":".join(str(root / "locations" / name / "src") for name in fixture_domains())


def dg_workspace(root: Path) -> list[dict]:
    """The code locations `dg dev` serves from ``root``: the workspace dg writes for it."""
    import yaml
    from dagster_dg_cli.cli.utils import create_temp_workspace_file  # what `dg dev` calls
    from dagster_dg_core.context import DgContext

    context = DgContext.for_workspace_environment(root, {})
    with create_temp_workspace_file(context) as workspace_file:
        return yaml.safe_load(Path(workspace_file).read_text())["load_from"]


def locations_of(load_from: list[dict]) -> list[tuple[str, str]]:
    return [(e["python_module"]["location_name"], e["python_module"]["module_name"]) for e in load_from]


def fixture_sources(to: Path) -> Path:
    """The test project's sources YAML as shared_ingest reads it (no dbt, no workspace: what the
    ingest image keeps), at ``to``: its models beside the workspace's dbt_project.yml (model-paths).
    The fixture's dbt folder is brought over a workspace's project: it has no dbt_project.yml."""
    import shutil

    to.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "dbt" / "dbt_project.yml", to / "dbt_project.yml")
    shutil.copytree(FIXTURE / "dbt" / "models", to / "models")
    return to


def fixture_catalogue():
    """The source tables the test project declares (shared_ingest.catalogue, ``fixture_sources``)."""
    import tempfile

    from shared_ingest.catalogue import load_catalogue

    with tempfile.TemporaryDirectory(prefix="fixture-catalogue-") as scratch:
        return load_catalogue(fixture_sources(Path(scratch)))


def fixture_env(root: Path, env: dict) -> dict:
    """``env`` for a fresh interpreter that loads a location of the fixture workspace at ``root``."""
    return {**env, "PYTHONPATH": fixture_pythonpath(root), "DBT_PROJECT_DIR": str(root / "dbt")}


_FIXTURE_DESCRIPTIONS: dict[tuple, dict] = {}


def describe_fixture_locations(root: Path, env: dict) -> dict[str, dict]:
    """Each location of the fixture workspace at ``root`` loaded alone in a fresh interpreter
    (``describe_location``), once per session and environment."""
    cache = (str(root), tuple(sorted(env.items())))
    if cache not in _FIXTURE_DESCRIPTIONS:
        _FIXTURE_DESCRIPTIONS[cache] = {name: describe_location(name, fixture_env(root, env), root)
                                        for name in FIXTURE_LOCATIONS}
    return _FIXTURE_DESCRIPTIONS[cache]


def dev_simulations() -> tuple[set[str], set[str]]:
    """The schedules and jobs that the simulated source systems installed in this environment (the
    example's, until it is removed) add to shared_ingest in dev: not the workspace's own."""
    from dagster import DefaultScheduleStatus

    from shared_ingest.dev_sources import dev_sources

    schedules = [source.schedule("0 5 * * *", DefaultScheduleStatus.STOPPED) for source in dev_sources()]
    return {s.name for s in schedules}, {s.job_name for s in schedules}


# v2 of billing's public invoices, as "Changing a public model" ships one: invoice_amount renamed
# to amount, built beside v1 (relation billing.invoices_v2), v1 deprecated.
INVOICES_V2_VERSION = """      - v: 2
        columns:
          - include: all
            exclude: [invoice_amount]
          - name: amount
            description: Sum of the lines' amounts (was invoice_amount in v1).
            data_type: decimal(18, 2)
"""
INVOICES_V1_BLOCK = "        defined_in: invoices\n        config:\n          alias: invoices\n"
INVOICES_AMOUNT = " as invoice_amount,\n"


def add_invoices_v2(project: Path) -> str:
    """Add v2 of billing's ``invoices`` to the test project's dbt project at ``project`` beside v1,
    which gets a deprecation date 90 days ahead; returns that date."""
    import datetime

    marts = project / "models" / "billing" / "marts"
    schema = marts / "_billing__marts.yml"
    deprecation = (datetime.date.today() + datetime.timedelta(days=90)).isoformat()
    text = schema.read_text()
    assert INVOICES_V1_BLOCK in text, f"v1's block not found in {schema}"
    schema.write_text(text.replace(INVOICES_V1_BLOCK, f"{INVOICES_V1_BLOCK}        deprecation_date: {deprecation}\n"
                                                      f"{INVOICES_V2_VERSION}", 1))
    v1 = (marts / "invoices.sql").read_text()
    assert v1.count(INVOICES_AMOUNT) == 1, f"invoice_amount's column not found in {marts / 'invoices.sql'}"
    (marts / "invoices_v2.sql").write_text(v1.replace(INVOICES_AMOUNT, " as amount,\n"))
    return deprecation


def named_paths(text: str) -> set[str]:
    """Repository paths a page of the docs names: in backticks, in links, and at the start of the
    README's layout lines (a placeholder such as ``<domain>`` is no path)."""
    import re

    top = ("dbt/", "libs/", "locations/", "tests/", "deploy/", "bench/", ".ci/", "docs/", ".github/")
    tokens = set(re.findall(r"`([^`\s]+)`", text)) | set(re.findall(r"\]\(([^)#\s]+)", text))
    if "## Layout" in text:
        layout = text.split("## Layout", 1)[1].split("```", 2)[1]
        tokens |= set(re.findall(r"^([\w./-]+/[\w./-]*)", layout, re.M))
    paths = {t.split("::")[0] for t in tokens}  # a test named by its node id names its file
    return {t.rstrip("/,.:") for t in paths if t.startswith(top) and not re.search(r"[<*{$]", t)}


# A job of one location, in a location's own environment (which has no devsupport, whose `python
# -m devsupport.chain` the full workspace runs): a partitioned one for the days argv[3]..argv[4]
# in one run.
RUN_JOB = r"""
import importlib, sys
from dataplatform.partitions import partition_range_tags
location, job, days = sys.argv[1], sys.argv[2], sys.argv[3:]
job_def = importlib.import_module(f"{location}.definitions").defs().resolve_job_def(job)
result = job_def.execute_in_process(tags=partition_range_tags(days[0], days[-1]) if job_def.partitions_def else {})
assert result.success, job
print("materialized", len(result.get_asset_materialization_events()))
"""


@contextmanager
def small_disk(path: Path, megabytes: int):
    """A tmpfs of ``megabytes`` mounted at ``path`` for the test: a disk that can be filled. Needs
    root (CI runs the suite as root); skips with the reason elsewhere."""
    import pytest

    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a small disk needs `mount -t tmpfs` (root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill_disk(disk: Path) -> Path:
    """Write a file on ``disk`` until no byte is left; the file, to delete to free the space."""
    import errno
    import os

    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError as full:
                if full.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    return filler
