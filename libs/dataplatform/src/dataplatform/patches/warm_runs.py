"""Patch ``warm_runs`` (dataplatform.patches): runs forked from a warm process of their code server,
not started in a fresh interpreter.

Dagster's code server (dagster 1.13, ``DagsterApiServer``) starts each run it is asked for
(``StartRun``: the default run launcher, so `dg dev`, `dagster dev` and any host that serves a
location with `dagster api grpc`) in a new interpreter, ``multiprocessing.get_context("spawn")``.
Each run imports Dagster, dagster-dbt (most of dbt-core) and the location again before it
starts (~2.2 s here, paid by every run of the daily chain), and finalizes all of it when it ends.

The fix: the server's context is a ``forkserver`` one whose server process has imported the
location's modules. A run is forked from it in milliseconds, builds its definitions afresh from
the files on disk, as a spawned run does (only imported modules are shared), and ends through
``os._exit``, as every forked multiprocessing child does. The fork server is a fresh interpreter
that the code server starts at its first run, never a fork of the gRPC server and its threads,
and it ends with its code server (a reload starts a new code server, and so a new fork server).

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


def location_modules(package: str) -> list[str]:
    """The modules of the location ``package`` imported so far, to preload."""
    return sorted(name for name in sys.modules if name == package or name.startswith(package + "."))


def apply(preload: Iterable[str] = ()) -> None:
    """Make the code servers of this process fork their runs from a fork server that has imported
    ``preload`` and the platform's modules (idempotent: the first location loaded in a process
    names them)."""
    from dagster._grpc import server

    if isinstance(server.DagsterApiServer.__dict__.get(_ATTRIBUTE), property):
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(sorted({*preload, *PLATFORM_MODULES}))
    # A data descriptor on the class wins over the instance attribute __init__ assigns, so a
    # server created before this ran (the one that is loading this location) forks its runs too.
    setattr(server.DagsterApiServer, _ATTRIBUTE, property(lambda _server: context, lambda _server, _spawn: None))
