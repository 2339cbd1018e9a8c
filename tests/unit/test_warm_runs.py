"""The warm_runs patch (dataplatform.patches): a code server forks its runs from a fork server that
has imported the location."""

import importlib.util
import json
import subprocess
import sys
import types

import pytest
from dagster._grpc import server

from dataplatform.patches.fit import DoesNotFit
from dataplatform.patches.warm_runs import PLATFORM_MODULES, fits, location_modules

# A code server created before the fix is installed (as the one loading a location is) and one
# created after: both start their runs from the fork server.
SERVERS_BEFORE_AND_AFTER = """
import json, logging, threading
from dagster._core.utils import FuturesAwareThreadPoolExecutor
from dagster._grpc.server import DagsterApiServer
from dataplatform.patches.warm_runs import apply

def server():
    return DagsterApiServer(threading.Event(), logging.getLogger(), FuturesAwareThreadPoolExecutor(max_workers=1),
                            lazy_load_user_code=True)

before = server()
apply(["json"])
apply(["csv"])  # idempotent: the first call names what is preloaded
after = server()
print(json.dumps([before._mp_ctx.get_start_method(), after._mp_ctx.get_start_method()]))
"""


def test_the_installed_dagster_fits():
    fits(server)
    fits()


def _fake_server(start_run_uses_context: bool):
    """A later Dagster whose StartRun starts runs from ``self._mp_ctx``, or from elsewhere."""

    class DagsterApiServer:
        def __init__(self):
            self._mp_ctx = None

        def StartRun(self):  # noqa: N802 (Dagster's name)
            return self._mp_ctx

    if not start_run_uses_context:
        DagsterApiServer.StartRun = lambda self: self._run_starter
    return types.SimpleNamespace(DagsterApiServer=DagsterApiServer)


def test_a_code_server_that_starts_runs_otherwise_does_not_fit_in_one_line():
    with pytest.raises(DoesNotFit, match=r"^DagsterApiServer.StartRun no longer uses self._mp_ctx$"):
        fits(_fake_server(start_run_uses_context=False))
    with pytest.raises(DoesNotFit, match="DagsterApiServer is gone"):
        fits(types.SimpleNamespace())
    fits(_fake_server(start_run_uses_context=True))


def test_the_preloaded_platform_modules_exist():
    """The fork server skips a module it cannot import: a misspelt one would go unnoticed."""
    assert [name for name in PLATFORM_MODULES if importlib.util.find_spec(name) is None] == []


def test_a_location_preloads_its_own_modules(fixture_root):
    """A domain of the test project (billing, importable from its folder in the fixture workspace);
    the platform's modules are preloaded beside them (``apply``)."""
    importlib.import_module("billing.definitions")
    preload = location_modules("billing")
    assert {"billing", "billing.definitions"} <= set(preload)
    assert not [name for name in preload if name.startswith(("care", "shared_ingest"))]


def test_servers_created_before_and_after_the_install_fork_their_runs():
    result = subprocess.run([sys.executable, "-c", SERVERS_BEFORE_AND_AFTER], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == ["forkserver", "forkserver"]


SPAWNED_WITHOUT_THE_PATCH = """
import json, logging, threading
from dagster._core.utils import FuturesAwareThreadPoolExecutor
from dagster._grpc.server import DagsterApiServer
server = DagsterApiServer(threading.Event(), logging.getLogger(), FuturesAwareThreadPoolExecutor(max_workers=1),
                          lazy_load_user_code=True)
print(json.dumps(server._mp_ctx.get_start_method()))
"""


def test_without_the_patch_a_code_server_spawns_its_runs():
    """Stock Dagster: every run a code server starts is a fresh interpreter (multiprocessing spawn)."""
    result = subprocess.run([sys.executable, "-c", SPAWNED_WITHOUT_THE_PATCH], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.splitlines()[-1]) == "spawn"
