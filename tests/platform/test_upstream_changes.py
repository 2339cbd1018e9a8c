"""The platform's patches of Dagster degrade, never block (dataplatform.patches): with Dagster changed
as a later release might change it, in a scratch environment of its own, the patch that no longer
fits stays off with one warning naming it, the Dagster version and what the user gets instead, and
the platform works as stock Dagster does.

The environment is the lock's, synced into a folder of the test's (uv links the files from its
cache, so an edit writes a new file in place of the link and the cache is never touched). Each
change, one at a time and all together: an optional parameter added to the code server's
``get_external_pipeline_subset_result`` (the dialog patch), ``_mp_ctx`` renamed in
``DagsterApiServer`` (warm runs), ``_should_backfill_atomic_asset_graph_subset_unit`` renamed in
the backfill daemon (the backfill units), and so on for each patch. Then, on the platform's test project, under the stock
``dagster-webserver`` and ``dagster-daemon run``: the three locations load, the daemon stays up,
day 1 runs through ingest, billing and care, and the logs say which patch is off and why.
"""

import os
import re
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from dagster import DagsterRunStatus
from platform_support import dev_instance_home, start_platform, stop_platform
from support import REPO, day, fixture_pythonpath, land_fixture_days, scalar, scrubbed_env, uv

# What a later release might do, per patch it unfits: (package, file in it, the edit).
CHANGES = {
    "dialog": ("dagster", "_grpc/impl.py", lambda text: text.replace(
        "    include_parent_snapshot: bool,\n):", "    include_parent_snapshot: bool,\n    upstream_option: bool = False,\n):", 1)),
    "warm_runs": ("dagster", "_grpc/server.py", lambda text: text.replace("_mp_ctx", "_multiprocessing_context")),
    "backfill_units": ("dagster", "_core/execution/asset_backfill.py", lambda text: text.replace(
        "_should_backfill_atomic_asset_graph_subset_unit", "_should_backfill_unit")),
    "backfill_split": ("dagster", "_core/execution/asset_backfill.py", lambda text: text.replace(
        "run_requests = build_run_requests_with_backfill_policies(", "run_requests = _build_run_requests(")
        + "\n_build_run_requests = build_run_requests_with_backfill_policies\n"),
    "dbt_startup": ("dagster_dbt", "core/resource.py", lambda text: text.replace("_cli_version", "_dbt_cli_version")),
    "sensor_loop": ("dagster", "_daemon/sensor.py", lambda text: text.replace(
        "MIN_INTERVAL_LOOP_TIME", "SENSOR_LOOP_SECONDS")),
    "sqlite_engines": ("dagster", "_core/storage/event_log/sqlite/sqlite_event_log.py", lambda text: text.replace(
        "_connect(", "_open_connection(")),
    "run_defs": ("dagster", "components/core/load_defs.py", lambda text: text.replace(
        "def get_library_json_enriched_defs(tree: ComponentTree | None)",
        "def get_library_json_enriched_defs(tree: ComponentTree | None, *, include_schemas: bool = True)", 1)),
}


@pytest.fixture(scope="module")
def environment(tmp_path_factory) -> Path:
    """The lock's environment (the workspace's packages and Dagster's processes), the tests' own."""
    venv = tmp_path_factory.mktemp("upstream") / "venv"
    env = scrubbed_env(UV_PROJECT_ENVIRONMENT=str(venv))
    env.pop("VIRTUAL_ENV", None)
    subprocess.run([*uv(), "sync", "--frozen", "--all-packages", "--no-default-groups", "--quiet"], cwd=REPO, env=env,
                   check=True, timeout=900)
    return venv


def package(venv: Path, name: str) -> Path:
    return next(venv.glob(f"lib/python3*/site-packages/{name}"))


def replace_file(path: Path, text: str) -> None:
    """A new file in place of ``path`` (never a write through uv's link to its cache), and no stale bytecode."""
    scratch = path.with_suffix(".edited")
    scratch.write_text(text)
    os.replace(scratch, path)
    for compiled in path.parent.glob(f"__pycache__/{path.stem}.*.pyc"):
        compiled.unlink()


@contextmanager
def changed(venv: Path, patches: tuple[str, ...]):
    """Dagster in ``venv`` changed as ``patches``' CHANGES say, restored after."""
    originals = {}
    try:
        for name in patches:
            distribution, relative, edit = CHANGES[name]
            path = package(venv, distribution) / relative
            originals.setdefault(path, path.read_text())
            text = path.read_text()
            edited = edit(text)
            assert edited != text, f"the change for {name} no longer applies to {distribution}/{relative}"
            replace_file(path, edited)
        yield
    finally:
        for path, text in originals.items():
            replace_file(path, text)


@pytest.mark.parametrize("name", list(CHANGES))
def test_each_change_unfits_its_own_patch_only(name, environment):
    """`python -m dataplatform.patches` in the changed environment: the patch the change concerns does
    not fit (saying why), every other one is on."""
    with changed(environment, (name,)):
        said = subprocess.run([str(environment / "bin" / "python"), "-m", "dataplatform.patches"], capture_output=True,
                              text=True, check=True, env=scrubbed_env()).stdout
    states = {line.split()[0]: line.split(None, 1)[1] for line in said.splitlines()[1:]}
    assert set(states) == set(CHANGES), said
    for patch, state in states.items():
        if patch == name:
            why = state.removeprefix("does not fit").split(None, 1)[1]  # after the need column
            assert state.startswith("does not fit") and why.strip(), said
        else:
            assert state.startswith("on "), said


# On the platform: the patch every run goes through (warm_runs: how a run's process starts) alone,
# and every change at once. The other patches act in the UI's dialog and the backfill daemon,
# which a day of launched jobs does not reach: their platform run would repeat "all", and each
# one's "off alone, the others on" is test_each_change_unfits_its_own_patch_only's.
@pytest.mark.parametrize("patches", [("warm_runs",), tuple(CHANGES)], ids=["warm_runs", "all"])
def test_a_later_dagster_leaves_the_patch_off_and_the_platform_runs(patches, environment, fixture_root, tmp_path):
    import dagster

    bin_dir = environment / "bin"
    local = tmp_path / "local"
    land_fixture_days(local, (1,))
    home = dev_instance_home(local)
    log = local / "platform.log"

    def stock_processes(port: int) -> list[str]:
        return ["bash", "-c", f"'{bin_dir}/dagster-daemon' run -w workspace.yaml & "
                              f"exec '{bin_dir}/dagster-webserver' -w workspace.yaml -h 127.0.0.1 -p {port}"]

    with changed(environment, patches):
        # The workspace's manifest, which `tasks.py up` would prepare: with the changed Dagster too.
        subprocess.run([str(bin_dir / "python"), "-m", "dataplatform.dbt.project", "prepare"], check=True, cwd=fixture_root,
                       env=scrubbed_env(PLATFORM_LOCAL_DIR=str(local), DBT_PROJECT_DIR=str(fixture_root / "dbt")))
        platform = start_platform(local, root=fixture_root, command=stock_processes,
                                  extra_env={"DAGSTER_HOME": str(home), "PYTHONPATH": fixture_pythonpath(fixture_root)})
        try:
            # The three locations loaded, with no error.
            entries = platform.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name "
                                       "locationOrLoadError { __typename } } } } }")["workspaceOrError"]["locationEntries"]
            assert {e["name"]: e["locationOrLoadError"]["__typename"] for e in entries} == {
                "shared_ingest": "RepositoryLocation", "billing": "RepositoryLocation", "care": "RepositoryLocation"}
            # Day 1 through ingest and both domains, each run queued, dequeued by the daemon, and a success.
            assert platform.launch_job("shared_ingest", "observe_sources")
            for location, job in (("shared_ingest", "ingest_sources"), ("billing", "billing_build"), ("care", "care_build")):
                [run] = platform.wait_for_runs([platform.launch_job(location, job, day(1))])
                assert run.status == DagsterRunStatus.SUCCESS, (job, run.status, log.read_text()[-3000:])
            assert platform.process.poll() is None
            assert scalar(platform.warehouse, "select count(*) from care.account_health") > 0
            daemon_alive = any("dagster-daemon" in " ".join(p.cmdline()) for p in _children(platform.process.pid))
            assert daemon_alive, "the daemon exited"
        finally:
            stop_platform(platform)
    said = log.read_text()
    for name in patches:
        found = re.search(rf"dataplatform patch {name} does not fit dagster {re.escape(dagster.__version__)}: (.+?)\. It is off: ", said)
        assert found, f"no warning for {name} in the logs:\n{said[-4000:]}"
    # A patch that fits is not named.
    assert not {name for name in CHANGES if name not in patches and f"dataplatform patch {name} does not fit" in said}


def _children(pid: int):
    import psutil

    return psutil.Process(pid).children(recursive=True)


def test_the_shared_environment_was_not_touched(environment):
    """uv links the scratch environment's files to its cache: the edits must not reach the repo's."""
    for name, (distribution, relative, edit) in CHANGES.items():
        shared = package(REPO / ".venv", distribution) / relative
        assert edit(shared.read_text()) != shared.read_text(), f"{name}: the shared environment's {relative} was edited"
