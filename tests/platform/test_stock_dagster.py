"""Every patch of Dagster off (`PLATFORM_PATCHES=none`): the platform still does its job, as stock
Dagster does it, and what each patch changes is measured, not assumed (docs: Dagster pitfalls).

On the platform's test project, under `tasks.py up` (`dg dev`): a day started by its data (ingest
launched, each domain's trigger starts its build; each run starts in a fresh interpreter), and a
"Materialize all" of two days, which stock Dagster fails (the backfill_split patch's reason), and
the same days as a backfill of each location's job, which builds every asset.
"""

from collections import Counter

import pytest
from dagster import AssetKey, DagsterEventType, DagsterRunStatus
from platform_support import start_platform, stop_platform, wait_until
from support import FIXTURE_CHAIN, day, land_fixture_days

TRIGGERS = ("billing_on_new_data", "care_on_new_data")


@pytest.fixture(scope="module")
def platform(fixture_root, tmp_path_factory):
    local = tmp_path_factory.mktemp("stock_dagster")
    land_fixture_days(local, (1, 2, 3))
    platform = start_platform(local, root=fixture_root,
                              extra_env={"PLATFORM_PATCHES": "none", "PLATFORM_TRIGGER_INTERVAL_SECONDS": "3"})
    yield platform
    stop_platform(platform)


def start_up_seconds(instance, run_id: str) -> float:
    """From the run's launch (RUN_STARTING) to its start (RUN_START): the interpreter it starts in."""
    stamps = {}
    for event_type in (DagsterEventType.RUN_STARTING, DagsterEventType.RUN_START):
        [record] = instance.get_records_for_run(run_id, of_type=event_type).records
        stamps[event_type] = record.event_log_entry.timestamp
    return stamps[DagsterEventType.RUN_START] - stamps[DagsterEventType.RUN_STARTING]


def test_a_day_is_started_by_its_data_with_every_patch_off(platform):
    assert "dataplatform patch" not in platform.log.read_text()  # switched off: no warning, nothing installed
    platform.wait_for_runs([platform.launch_job("shared_ingest", "observe_sources")])
    for trigger in TRIGGERS:
        platform.set_sensor(trigger.split("_on_")[0], trigger, running=True)
    [ingest] = platform.wait_for_runs([platform.launch_job("shared_ingest", "ingest_sources", day(1))])
    assert ingest.status == DagsterRunStatus.SUCCESS

    with platform.instance() as instance:
        def domain_runs():
            runs = [r for r in instance.get_runs() if r.job_name in ("billing_build", "care_build")]
            return runs if len(runs) == 2 and all(r.status == DagsterRunStatus.SUCCESS for r in runs) else None

        runs = wait_until(domain_runs, "billing's and care's day, started by their triggers", timeout=600, interval=2)
        starts = {run.job_name: start_up_seconds(instance, run.run_id) for run in [ingest, *runs]}
    # The triggers ask for 3 s; the sensor daemon goes round every 5 s (sensor_loop's reason).
    gaps = platform.sensor_tick_gaps("billing", "billing_on_new_data")
    for trigger in TRIGGERS:
        platform.set_sensor(trigger.split("_on_")[0], trigger, running=False)
    print("stock dagster: a 3 s trigger's ticks, seconds apart: " + ", ".join(f"{g:.1f}" for g in gaps))
    assert len(gaps) >= 2 and sorted(gaps)[len(gaps) // 2] >= 4.5, gaps
    # Runs start as Dagster starts them: a fresh interpreter importing Dagster, dbt and the location.
    print("stock dagster: a run's start-up (launch to start): " + ", ".join(f"{j} {s:.2f} s" for j, s in starts.items()))
    assert all(seconds > 0 for seconds in starts.values())


def test_materialize_all_fails_and_each_locations_job_backfills_everything(platform):
    days = [day(2), day(3)]
    # The global graph's Materialize all: stock Dagster puts what one pass requests, sharing days
    # and backfill policy, in one run across locations (ingest's roots with care's, a model whose
    # only parent is the observed crm), with the checks on those assets wherever they are defined
    # (the dbt source tests, on ingest's assets, run in the domains' builds). The run cannot
    # target them: the backfill fails with nothing built. So would any asset backfill of ingest's.
    everything = platform.materialize_all(days)
    # What works: a backfill of each location's job, from its Partitions page, in dependency order.
    runs = []
    for location, job in FIXTURE_CHAIN:
        backfill, backfill_runs = platform.wait_for_backfill(platform.backfill_job(location, job, days), timeout=900)
        assert backfill.status.value == "COMPLETED_SUCCESS", (job, backfill.status)
        assert all(run.status == DagsterRunStatus.SUCCESS for run in backfill_runs), job
        runs += backfill_runs
    failed, failed_runs = platform.wait_for_backfill(everything, timeout=600)
    assert failed.status.value in ("FAILING", "FAILED") and not failed_runs, failed.status
    assert "Failed to target asset selection" in failed.error.to_string(), failed.error.to_string()[-2000:]
    by_job = Counter(run.job_name for run in runs)
    print(f"stock dagster: Materialize all of 2 days: failed, 0 runs; each location's job backfilled instead: "
          f"{len(runs)} runs {dict(by_job)}")
    nodes = platform.graphql("{ assetNodes { assetKey { path } isMaterializable } }")["assetNodes"]
    keys = [AssetKey(n["assetKey"]["path"]) for n in nodes if n["isMaterializable"]]
    with platform.instance() as instance:
        built = {key.to_user_string(): instance.get_materialized_partitions(key) for key in keys}
    assert {key: sorted(days) for key, days in built.items() if not {day(2), day(3)} <= days} == {}
