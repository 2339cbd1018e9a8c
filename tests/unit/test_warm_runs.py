"""The warm_runs patch (dataplatform.patches): a code server forks its runs from a fork server that
has imported the location."""

import importlib.util
import json
import os
import types

import pytest
from dagster._grpc import server
from support import printed_json

from dataplatform.patches.fit import DoesNotFit
from dataplatform.patches.warm_runs import PLATFORM_MODULES, RUN_MODULES, fits, location_modules

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
    """The fork server skips a module it cannot import: a misspelt one, or one Dagster renamed,
    would go unnoticed (a slower run)."""
    assert [name for name in (*PLATFORM_MODULES, *RUN_MODULES) if importlib.util.find_spec(name) is None] == []


# A run as the code server's fork server starts one (dagster._grpc.impl._run_in_subprocess): the
# preloaded modules imported, then the instance opened from its home and the run, created before
# by its launcher, executed. Prints the modules of Dagster, SQLAlchemy and Alembic the run imported
# itself.
A_JOB = """
import dagster as dg

@dg.op
def hello():
    return 1

@dg.job(executor_def=dg.in_process_executor)
def a_job():
    hello()
"""
CREATE_THE_RUN = """
import json, sys, dagster as dg
from a_job import a_job
with dg.DagsterInstance.from_config(sys.argv[1]) as instance:
    print(json.dumps(instance.create_run_for_job(a_job).run_id))
"""
RUN_AFTER_PRELOAD = """
import json, sys
for name in json.loads(sys.argv[3]):
    __import__(name)
before = set(sys.modules)
import dagster as dg
from dagster._grpc.impl import core_execute_run
with dg.DagsterInstance.from_config(sys.argv[1]) as instance:
    run = instance.get_run_by_id(sys.argv[2])
    list(core_execute_run(dg.reconstructable(__import__("a_job").a_job), run, instance, inject_env_vars=False))
    assert instance.get_run_by_id(run.run_id).is_success
print(json.dumps(sorted(name for name in set(sys.modules) - before
                        if name.partition(".")[0] in ("dagster", "sqlalchemy", "alembic"))))
"""


def _imported_by_a_run(preload, tmp_path) -> list[str]:
    (tmp_path / "a_job.py").write_text(A_JOB)  # a module: the job must be reconstructable
    home = tmp_path / f"home{len(preload)}"
    home.mkdir()
    python = {"cwd": tmp_path, "env": {**os.environ, "PYTHONPATH": str(tmp_path)}}
    run_id = printed_json(CREATE_THE_RUN, home, **python)
    return printed_json(RUN_AFTER_PRELOAD, home, run_id, json.dumps(preload), **python)


def test_a_run_forked_from_the_fork_server_imports_next_to_nothing_of_dagster(tmp_path):
    """What RUN_MODULES names is what a run imports after its definitions: when Dagster moves its
    storage or executor elsewhere, this fails, and the list is measured again (without it a run
    imports some 400 modules, ~0.5 s; bench/run.py --sections domains)."""
    assert len(_imported_by_a_run(list(PLATFORM_MODULES), tmp_path)) > 100  # what the preload saves
    assert _imported_by_a_run([*PLATFORM_MODULES, *RUN_MODULES], tmp_path) == []


def test_a_location_preloads_its_own_modules(fixture_root):
    """A domain of the test project (billing, importable from its folder in the fixture workspace);
    the platform's modules are preloaded beside them (``apply``)."""
    importlib.import_module("billing.definitions")
    preload = location_modules("billing")
    assert {"billing", "billing.definitions"} <= set(preload)
    assert not [name for name in preload if name.startswith(("care", "shared_ingest"))]


def test_of_what_a_build_imported_the_outermost_modules_are_preloaded():
    """Importing a package imports what it imports: the fork server's command line lists the
    package, not its 1,000 modules; a module of a package imported before is listed itself."""
    imported = {"agate", "agate.aggregations", "agate.aggregations.all", "email.parser", "json.tool"}
    preload = location_modules("no_such_location", imported)
    assert {"agate", "email.parser", "json.tool"} <= set(preload)
    assert not {"agate.aggregations", "agate.aggregations.all"} & set(preload)


def test_servers_created_before_and_after_the_install_fork_their_runs():
    assert printed_json(SERVERS_BEFORE_AND_AFTER) == ["forkserver", "forkserver"]


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
    assert printed_json(SPAWNED_WITHOUT_THE_PATCH) == "spawn"
