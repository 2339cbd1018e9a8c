"""The sqlite_engines patch (dataplatform.patches): the embedded instance's event log reuses one
engine per database file; every event is still written and read back, in this process and in a
forked one (a run the warm_runs patch forks)."""

import types

import pytest
from support import printed_json

from dataplatform.patches.fit import DoesNotFit
from dataplatform.patches.sqlite_engines import ENGINES_KEPT, fits

# Events of twelve runs (a log line and a materialization each) written to a real SQLite event log,
# six runs here, then six by a child forked after them: the engines each built, and what reads back.
WRITTEN = """
import json, multiprocessing, sys, tempfile, time
from dagster import AssetKey, AssetMaterialization
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite import sqlite_event_log
if sys.argv[1] == "patched":
    from dataplatform.patches.sqlite_engines import apply
    apply()
    apply()  # idempotent

built = []
create_engine = sqlite_event_log.create_engine
sqlite_event_log.create_engine = lambda *a, **k: built.append(a[0]) or create_engine(*a, **k)
storage = sqlite_event_log.SqliteEventLogStorage(tempfile.mkdtemp())

def write(runs):
    for run in runs:
        for message in ("a line", None):
            event = None if message else DagsterEvent(
                DagsterEventType.ASSET_MATERIALIZATION.value, "job", event_specific_data=StepMaterializationData(
                    AssetMaterialization(AssetKey(["orders"]), metadata={"run": run})))
            storage.store_event(EventLogEntry(error_info=None, level=20, user_message=message or "", run_id=run,
                                              timestamp=time.time(), step_key="s", job_name="job", dagster_event=event))
    return len(built)

runs = [f"run{i}" for i in range(12)]
built_here = write(runs[:6])
built.clear()
with multiprocessing.get_context("fork").Pool(1) as pool:
    built_in_child = pool.map(write, [runs[6:]])[0]
materializations = storage.fetch_materializations(AssetKey(["orders"]), limit=100).records
print(json.dumps({"engines built here": built_here, "engines built in the child": built_in_child,
                  "events read back": sum(len(storage.get_logs_for_run(run)) for run in runs),
                  "materializations": sorted(r.asset_materialization.metadata["run"].value for r in materializations),
                  "engines kept": len(getattr(storage, "_platform_engines", {}))}))
"""


def test_the_installed_dagster_fits():
    fits()


def test_without_the_patch_each_connection_builds_an_engine():
    figures = printed_json(WRITTEN, "stock")
    # Six runs, two events each: a connection to the run's file per event, two to the index per
    # materialization, and the index's schema checked as the storage starts.
    assert figures["engines built here"] >= 6 * 2 + 6 * 2
    assert figures["events read back"] == 24


def test_with_the_patch_a_storage_builds_an_engine_per_file_and_every_event_reads_back():
    figures = printed_json(WRITTEN, "patched")
    # Here: the index and six runs' files (and the engine Dagster builds as the storage starts); the
    # child reuses the index's and builds one for each of its runs.
    assert figures["engines built here"] == 1 + 1 + 6
    assert figures["engines built in the child"] == 6
    assert figures["events read back"] == 24
    assert figures["materializations"] == sorted(f"run{i}" for i in range(12))
    assert figures["engines kept"] <= ENGINES_KEPT


def test_a_storage_that_connects_otherwise_does_not_fit_in_one_line():
    class PooledStorage:
        def _connect(self, shard):
            return self.engine.connect()

    with pytest.raises(DoesNotFit, match=r"^PooledStorage._connect no longer uses create_engine, NullPool, SQLITE_BUSY_TIMEOUT_SECONDS,"):
        fits(PooledStorage)
    with pytest.raises(DoesNotFit, match="is gone"):
        fits(types.SimpleNamespace(__name__="LaterStorage"))
