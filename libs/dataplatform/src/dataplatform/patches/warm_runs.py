"""Patch ``warm_runs`` (dataplatform.patches): runs forked from a warm process of their code server,
not started in a fresh interpreter.

Dagster's code server (dagster 1.13, ``DagsterApiServer``) starts each run it is asked for
(``StartRun``: the default run launcher, so `dg dev`, `dagster dev` and any host that serves a
location with `dagster api grpc`) in a new interpreter, ``multiprocessing.get_context("spawn")``.
Each run imports Dagster, dagster-dbt (most of dbt-core) and the location again before it
starts (~2.2 s here, paid by every run of the daily chain), and finalizes all of it when it ends.

The fix: the server's context is a ``forkserver`` one whose server process has imported the
location's modules, what building its definitions imported, and what Dagster imports in every
run (``RUN_MODULES``: its instance's storage, its executor). A run is forked from it in
milliseconds, builds its definitions afresh from the files on disk, as a spawned run does (only
imported modules are shared), and ends through ``os._exit``, as every forked multiprocessing
child does. The fork server is a fresh interpreter that the code server starts at its first
run, never a fork of the gRPC server and its threads, and it ends with its code server (a reload
starts a new code server, and so a new fork server).

Production on Kubernetes starts a pod per run (K8sRunLauncher): its code servers start no run,
and this changes nothing there. ``PLATFORM_PATCHES`` without ``warm_runs`` keeps Dagster's spawn.
Delete it when the code server lets a deployment choose how runs start.
"""

import multiprocessing
import sys
from collections.abc import Iterable

# Imported by every run of a location, but only while its definitions are built (after the
# location's own modules): preloaded too, so that a run pays none of their import.
PLATFORM_MODULES = ("dagster", "dagster_dbt", "dbt.graph", "dataplatform.domain", "dataplatform.automation.triggers")

# What Dagster imports in every run once its definitions are built, whatever the location: the
# instance's storage (SQLite in dev, dagster_postgres on the production instance), SQLAlchemy and
# Alembic under it, the in-process executor, the compute log manager, the run's plan. About 450
# modules, 0.5 to 1 s of every forked run here when they were not preloaded. Dagster's private
# module names: one that no longer imports is skipped by the fork server (the run imports what it
# needs itself, a little slower), and tests/unit/test_warm_runs.py fails loudly on it.
RUN_MODULES = (
    "_strptime",
    "dagster._core.definitions.external_asset",
    "dagster._core.definitions.repository_definition.repository_data_builder",
    "dagster._core.execution.plan.active",
    "dagster._core.executor.in_process",
    "dagster._core.instance.factory",
    "dagster._core.secrets.env_file",
    "dagster._core.storage.local_compute_log_manager",
    "dagster._core.storage.migration.utils",
    "dagster._core.storage.root",
    "dagster._core.storage.sqlite_storage",
    "dagster._core.system_config.composite_descent",
    "dagster._core.utility_ops",
    "dagster._daemon",
    "dagster._utils.temp_file",
    "dagster._utils.test.definitions",
    "dagster_postgres",
    "fsspec.implementations.local",
    "upath.implementations.local",
)

# The spawn context the code server assigns in __init__, and the one StartRun reads.
_ATTRIBUTE = "_mp_ctx"


def fits(server_module=None) -> None:
    """``DagsterApiServer`` still keeps its multiprocessing context in ``_mp_ctx``, set in
    ``__init__`` and used by ``StartRun`` (``server_module``: a stand-in in tests)."""
    from dataplatform.patches.fit import DoesNotFit, method_uses

    if server_module is None:
        from dagster._grpc import server as server_module
    server_class = getattr(server_module, "DagsterApiServer", None)
    if server_class is None:
        raise DoesNotFit("the code server's DagsterApiServer is gone")
    for method in ("__init__", "StartRun"):
        if not method_uses(server_class, method, _ATTRIBUTE):
            raise DoesNotFit(f"DagsterApiServer.{method} no longer uses self.{_ATTRIBUTE}")


def location_modules(package: str, imported_by_its_build: Iterable[str] = ()) -> list[str]:
    """The modules of the location ``package`` and of the platform imported so far, and what
    building its definitions imported (``imported_by_its_build``: dbt's, a dev source's entry
    point), to preload. Of the latter only the outermost (a module whose package is not among
    them): importing it imports the rest, and the fork server's command line, which lists them,
    stays short."""
    own = {name for name in sys.modules if name.partition(".")[0] in (package, "dataplatform")}
    built = set(imported_by_its_build)
    return sorted(own | {name for name in built if name.rpartition(".")[0] not in built})


def apply(preload: Iterable[str] = ()) -> None:
    """Make the code servers of this process fork their runs from a fork server that has imported
    ``preload`` and the platform's modules (idempotent: the first location loaded in a process
    names them)."""
    from dagster._grpc import server

    if isinstance(server.DagsterApiServer.__dict__.get(_ATTRIBUTE), property):
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(sorted({*preload, *PLATFORM_MODULES, *RUN_MODULES}))
    # A data descriptor on the class wins over the instance attribute __init__ assigns, so a
    # server created before this ran (the one that is loading this location) forks its runs too.
    setattr(server.DagsterApiServer, _ATTRIBUTE, property(lambda _server: context, lambda _server, _spawn: None))
