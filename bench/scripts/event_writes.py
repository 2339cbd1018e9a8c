"""Seconds (CPU and wall) of Dagster's SQLite event log writing 100 of a domain run's events (a
materialization or a check evaluation per dbt node), each way in a fresh process: stock, with the
sqlite_engines patch, and with the patch and SQLite's ``synchronous=OFF`` (no fsync at commit: what
the platform does NOT do, shown for what Dagster's durable commits cost here):

    uv run --no-sync python bench/scripts/event_writes.py
"""

import statistics
import subprocess
import sys

WRITE = """
import sys, tempfile, time
from dagster import AssetCheckEvaluation, AssetKey, AssetMaterialization
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
if sys.argv[1] != "stock":
    from dataplatform.patches.sqlite_engines import apply
    apply()
if sys.argv[1] == "no fsync":
    from dagster._core.storage.event_log.sqlite import sqlite_event_log
    from sqlalchemy import event as sqlalchemy_event

    def create_engine(*args, create=sqlite_event_log.create_engine, **kwargs):
        engine = create(*args, **kwargs)
        sqlalchemy_event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA synchronous=OFF"))
        return engine

    sqlite_event_log.create_engine = create_engine

storage = SqliteEventLogStorage(tempfile.mkdtemp())

def event(i):
    key = AssetKey(["domain", f"model_{i % 50}"])
    data = (StepMaterializationData(AssetMaterialization(key, metadata={"rows": i})) if i % 2 else
            AssetCheckEvaluation(asset_key=key, check_name="not_null", passed=True))
    kind = DagsterEventType.ASSET_MATERIALIZATION if i % 2 else DagsterEventType.ASSET_CHECK_EVALUATION
    return EventLogEntry(error_info=None, level=20, user_message="", run_id="run", timestamp=time.time(),
                         step_key="dbt", job_name="build", dagster_event=DagsterEvent(kind.value, "build", event_specific_data=data))

storage.store_event(event(1))  # the files created, as a run's first event does
cpu, wall = time.process_time(), time.perf_counter()
for i in range(100):
    storage.store_event(event(i))
print(time.process_time() - cpu, time.perf_counter() - wall)
"""


def seconds(mode: str) -> tuple[float, float]:
    result = subprocess.run([sys.executable, "-c", WRITE, mode], capture_output=True, text=True, check=True)
    cpu, wall = result.stdout.split()[-2:]
    return float(cpu), float(wall)


def main() -> None:
    modes = ("stock", "patched", "no fsync")
    samples = {mode: [] for mode in modes}
    for _ in range(5):  # interleaved: drift hits every mode alike
        for mode in modes:
            samples[mode].append(seconds(mode))
    print("100 events written      CPU s   wall s   (medians of 5)")
    for mode, values in samples.items():
        print(f"  {mode:<20} {statistics.median(c for c, _ in values):7.3f}  {statistics.median(w for _, w in values):7.3f}")


if __name__ == "__main__":
    main()
