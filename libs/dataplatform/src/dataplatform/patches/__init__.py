"""Every use of a private API of Dagster or dagster-dbt, in one place, each switched on or off alone.

A **patch** changes how Dagster behaves. The registry below says of each: what it changes, why
(the upstream issue), whether the platform needs it or it is an optimisation, what a user meets
without it, how it checks that it fits the installed Dagster, and where it is installed. Each is
installed where Dagster runs the code it changes: the backfill patches by the instance's run
coordinator (``dataplatform.run_coordinator``, named by every dagster.yaml here), the code-server
patches by each location as it loads (``dataplatform.location.load_location``), the dbt start-up
patch by the dbt resource.

**They fail open.** A patch that does not fit the installed Dagster is not installed: one warning
names it, the Dagster version, what changed and what the user gets instead (stock Dagster's
behaviour), and the location loads, the daemon starts and runs run. None of them guards the data's
correctness (one build of a domain at a time is Dagster's pools; nothing published from a failed
build is dbt's hooks): the worst a missing one does is a slower run, more runs, a failed
cross-location backfill of unpartitioned assets or an error in a dialog.

**A switch:** ``PLATFORM_PATCHES`` (``all``, the default; ``none``; or a comma-separated list of
the names below) turns them off one by one (``dataplatform.settings.enabled_patches``).

The other private uses (names Dagster keeps in private modules, read by the triggers, the tests and
the benchmarks) are in ``dataplatform.patches.internals``, each pinned by a contract test.

``python -m dataplatform.patches`` prints each patch, whether it fits here and whether it is on.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from dataplatform.patches.fit import DoesNotFit

__all__ = ["PATCHES", "DoesNotFit", "Patch", "active", "install", "status"]


@dataclass(frozen=True)
class Patch:
    name: str  # its name in PLATFORM_PATCHES
    changes: str
    why: str  # the upstream issue or PR, and what Dagster does today
    need: str  # "mission" (a promise of the platform needs it) | "optimisation" | "cosmetic"
    without: str  # what a user meets with it off: stock Dagster's behaviour
    installed_by: str  # "run coordinator" | "location" (after its build) | "location loader" (before it) | "dbt resource"
    evidence: str  # the test that shows stock Dagster's behaviour without it

    def _implementation(self):
        """dataplatform.patches.<name>: its fits() and apply()."""
        import importlib

        return importlib.import_module(f"dataplatform.patches.{self.name}")

    def fits(self) -> None:
        """Nothing if the installed Dagster is what the patch was written for; else DoesNotFit."""
        self._implementation().fits()

    def apply(self, **options) -> None:
        """Install the patch (idempotent); assumes it fits."""
        self._implementation().apply(**options)


PATCHES: tuple[Patch, ...] = (
    Patch(
        name="backfill_split",
        changes="A backfill's run request for assets or checks of several code locations (unpartitioned ones, or a "
                "range of days of single-run ones) is split into one run request per location, each check going "
                "with the location that defines it (build_run_requests_with_backfill_policies, wrapped).",
        why="Dagster 1.13 groups what a backfill pass requests by partitions, days and backfill policy, not by code "
            "location (it splits only per-day requests by location): the run goes to one location, which does not "
            "define the rest, and fails with 'Failed to target asset selection'.",
        need="mission",
        without="A Materialize all (any asset backfill of ingest's assets) fails its first run with 'Failed to "
                "target asset selection': the dbt source tests are checks on ingest's assets defined in the "
                "domains, and assets of two locations ready together share a run (dagster-dbt gives daily dbt "
                "assets a single-run policy). A backfill of each location's job works: ingest, then each domain.",
        installed_by="run coordinator",
        evidence="tests/platform/test_stock_dagster.py::test_materialize_all_fails_and_each_locations_job_backfills_everything",
    ),
    Patch(
        name="backfill_units",
        changes="In a backfill, a domain op's assets wait until every input from outside the op that the backfill "
                "targets is built or failed, and each pass reconsiders the roots not yet requested "
                "(_should_backfill_atomic_asset_graph_subset_unit and _get_candidate_asset_graph_subset, wrapped).",
        why="Dagster holds a non-subsettable op until all its assets are ready but takes a subsettable op's assets "
            "one by one, and requests a backfill's roots on its first pass only.",
        need="optimisation",
        without="A Materialize all takes more runs: a domain that reads another's model is split into a run per "
                "group of assets that become ready together (care: 3 runs instead of 1).",
        installed_by="run coordinator",
        evidence="tests/e2e/test_backfill_units.py::test_without_the_hold_care_is_three_runs",
    ),
    Patch(
        name="sensor_loop",
        changes="The sensor daemon goes round its sensors every second instead of every 5 s, each sensor still "
                "ticking at its own minimum interval (dagster._daemon.sensor.MIN_INTERVAL_LOOP_TIME, set).",
        why="Dagster's sensor daemon sleeps until 5 s after each round began, a constant: a sensor whose interval "
            "is shorter ticks every 5 s.",
        need="optimisation",
        without="The domains' triggers tick every 5 s, not every 3 s: a day waits 0 to 5 s per hop for its "
                "trigger instead of 0 to 3 s.",
        installed_by="run coordinator",
        evidence="tests/platform/test_stock_dagster.py::test_a_day_is_started_by_its_data_with_every_patch_off",
    ),
    Patch(
        name="dialog",
        changes="A code server previews its implicit asset job for the selected keys it executes "
                "(get_external_pipeline_subset_result, wrapped in the code server).",
        why="The Materialize all dialog (dagster-webserver 1.13) asks the first asset's location for the asset "
            "job subset of every asset of the graph (dagster#32043, #31938).",
        need="cosmetic",
        without="The Materialize all dialog over several locations shows 'Error loading base asset job - Unknown "
                "error'; the backfill it launches is not affected.",
        installed_by="location",
        evidence="tests/unit/test_dialog_fix.py::test_without_the_fix_the_preview_of_foreign_keys_fails",
    ),
    Patch(
        name="warm_runs",
        changes="A code server starts each run it launches from a fork server that has imported the location, what "
                "its build imports and what Dagster imports in every run (its instance's storage, its executor) "
                "(DagsterApiServer._mp_ctx replaced by a forkserver context).",
        why="Dagster's code server starts every run in a fresh interpreter (multiprocessing spawn): ~2.2 s of "
            "imports and definitions before the run starts, here.",
        need="optimisation",
        without="Each run launched by a code server (dg dev, dagster dev, a host serving dagster api grpc) starts "
                "in a fresh interpreter: 1.2 to 2.4 s from launch to start instead of 0.24 to 0.29 s here; nothing "
                "changes under the Helm chart's K8sRunLauncher.",
        installed_by="location",
        evidence="tests/unit/test_warm_runs.py::test_without_the_patch_a_code_server_spawns_its_runs",
    ),
    Patch(
        name="run_defs",
        changes="A run's process (started by multiprocessing: a run a code server launches, a step's process) builds "
                "its location's definitions without the JSON catalogue of installed component types "
                "(get_library_json_enriched_defs, wrapped).",
        why="Dagster's dg root component adds that catalogue to every build of a dg project's definitions, for the "
            "UI, which reads it from the code server: a run computes it again and never reads it.",
        need="optimisation",
        without="Each run builds the catalogue as it starts: 0.2 to 0.5 s more from launch to start here "
                "(bench/run.py --sections domains), more on a run's first component plugin imports.",
        installed_by="location loader",
        evidence="tests/unit/test_run_defs.py::test_without_the_patch_a_run_builds_the_catalogue",
    ),
    Patch(
        name="sqlite_engines",
        changes="The embedded instance's SQLite event log opens its connections from one SQLAlchemy engine per "
                "database file (the index, the newest runs'), not a new engine per connection "
                "(SqliteEventLogStorage._connect, replaced).",
        why="Dagster's SQLite event log builds an engine for every connection it opens (its dialect initialised "
            "again, its compiled statements lost): a run writes each event through one to four connections.",
        need="optimisation",
        without="A run spends more CPU on each event it writes to the embedded instance, beside its dbt: about "
                "400 new engines for a domain's build of 50 nodes here. The production instance (PostgreSQL) is "
                "not affected.",
        installed_by="location loader",
        evidence="tests/unit/test_sqlite_engines.py::test_without_the_patch_each_connection_builds_an_engine",
    ),
    Patch(
        name="dbt_startup",
        changes="The dbt resource reads the installed dbt-core's version instead of running `dbt --version`, and "
                "loads no dbt adapter in the run process unless asked (DbtCliResource._cli_version and "
                "_initialize_dbt_core_adapter, overridden).",
        why="dagster-dbt starts `dbt --version` before every dbt command (to tell dbt Fusion from dbt-core) and "
            "loads an adapter in the run process that only fetch_row_counts and fetch_column_metadata use.",
        need="optimisation",
        without="Every dbt command of a run starts dbt twice (`dbt --version` first) and loads an adapter in the "
                "run process: a domain's run takes 3.4 to 3.5 s more here (bench/run.py --sections patches).",
        installed_by="dbt resource",
        evidence="tests/definitions/test_dbt_cli.py::test_without_the_patch_dagster_dbt_starts_dbt_twice_per_command",
    ),
)
BY_NAME = {patch.name: patch for patch in PATCHES}


def _enabled() -> frozenset[str]:
    import os

    from dataplatform.settings import enabled_patches

    return enabled_patches(os.environ, tuple(BY_NAME))


@functools.cache
def _fit(name: str) -> str | None:
    """Why the patch does not fit the installed Dagster, or None if it does (checked once a process)."""
    try:
        BY_NAME[name].fits()
    except DoesNotFit as unfit:
        return str(unfit)
    except (ImportError, AttributeError) as gone:  # a private module or name it reads is gone
        return f"{type(gone).__name__}: {gone}"
    return None


def _dagster_version() -> str:
    import dagster

    return dagster.__version__


def active(name: str) -> bool:
    """Whether the patch is on here: switched on, and fitting the installed Dagster. The first time
    a patch that is switched on does not fit, one warning says what the user gets instead."""
    if name not in _enabled():
        return False
    if (unfit := _fit(name)) is not None:
        _warn_once(name, unfit)
        return False
    return True


@functools.cache
def _warn_once(name: str, unfit: str) -> None:
    from dagster import get_dagster_logger

    patch = BY_NAME[name]
    get_dagster_logger("patches").warning(f"dataplatform patch {name} does not fit dagster {_dagster_version()}: {unfit}. It is off: "
                f"{patch.without} (dataplatform.patches; python -m dataplatform.patches)")


def install(where: str, **options) -> list[str]:
    """Install the patches ``where`` ("run coordinator", "location") installs that are active; the
    names installed. Never raises for a patch that does not fit: it stays off, with its warning."""
    installed = []
    for patch in PATCHES:
        if patch.installed_by == where and active(patch.name):
            patch.apply(**options.get(patch.name, {}))
            installed.append(patch.name)
    return installed


def status(names: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """(name, 'on' | 'off' | 'does not fit', why) of each patch, here."""
    enabled = _enabled()
    rows = []
    for patch in PATCHES:
        if names is not None and patch.name not in names:
            continue
        unfit = _fit(patch.name)
        state = "does not fit" if unfit else ("on" if patch.name in enabled else "off")
        rows.append((patch.name, state, unfit or ("" if patch.name in enabled else "PLATFORM_PATCHES")))
    return rows


def main() -> None:
    """``python -m dataplatform.patches``: each patch, whether it fits here, and whether it is on."""
    print(f"dagster {_dagster_version()}")
    for name, state, why in status():
        print(f"{name:16} {state:13} {BY_NAME[name].need:13} {why}")
