"""The production instance config (deploy/dagster.yaml) on a real PostgreSQL server.

The real platform (code servers, daemon, webserver) runs on an instance built from
deploy/dagster.yaml, connected through the DAGSTER_PG_* variables to a throwaway PostgreSQL
cluster, with its run queue open (4 runs at once) as in production. The storages are
dagster-postgres ones, the schema is migrated, runs and the state of a schedule and a trigger of
two code locations land in Postgres (read back with psycopg2, not only through Dagster), runs go
through the daemon's queue, and the snapshot pools have limit 1 from the start: two builds of one
domain start side by side and only the pool keeps their dbt steps apart (without it they would
write the DuckDB file at the same time and one would fail on its lock).

On the platform's test project (tests/fixtures/subscriptions, `fixture_root`), its day 1 landed by
the test: shared_ingest and billing are the two locations.

Last, the database goes away for a minute while a domain's build of a two-day "Materialize all"
runs: every run of the work ends SUCCESS (retries allowed), the failed run's retry starts once
its pool slot is freed, and each location's part of the backfill stays one run.
"""

import subprocess
import time

import pytest
import yaml
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.scheduler.instigation import InstigatorStatus
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage
from platform_support import (
    assert_snapshot_pools_have_limit_one,
    overlaps,
    run_window,
    start_platform,
    step_windows,
    stop_platform,
    wait_until,
)
from postgres_support import postgres_server
from support import REPO, day, fixture_domains, land_fixture_days

DEPLOY_CONFIG = REPO / "deploy" / "dagster.yaml"
# Ingest's schedule, and billing's trigger: what starts the platform's day, in two locations.
SCHEDULE, SENSOR = ("shared_ingest", "ingest_sources_daily"), ("billing", "billing_on_new_data")


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def platform(postgres, fixture_root, tmp_path_factory):
    local = tmp_path_factory.mktemp("pg_platform")
    land_fixture_days(local / "home", (1,))
    config = yaml.safe_load(DEPLOY_CONFIG.read_text())
    config["concurrency"]["runs"]["max_concurrent_runs"] = 4
    # The second of two builds launched together starts while the first holds the pool's slot, so
    # that the pool, not the queue, keeps their dbt steps apart: without a buffer, whether the queue
    # lets both start depends on whether the daemon dequeues them before the first claims the slot.
    config["concurrency"]["pools"].update(granularity="op", op_granularity_run_buffer=1)
    instance_config = local / "dagster.yaml"
    instance_config.write_text(yaml.safe_dump(config))
    # The platform's processes and this test's DagsterInstance read the connection from here.
    with pytest.MonkeyPatch.context() as env:
        for name, value in postgres.env().items():
            env.setenv(name, value)
        platform = start_platform(local / "home", instance_config, root=fixture_root)
        try:
            yield platform
        finally:
            stop_platform(platform)


@pytest.fixture(scope="module")
def runs(platform):
    """Ingest (shared_ingest), then two billing builds of the day launched together (billing)."""
    day_1 = day(1)
    ingest = platform.launch_job("shared_ingest", "ingest_sources", day_1)
    platform.wait_for_runs([ingest])
    builds = [platform.launch_job("billing", "billing_build", day_1) for _ in range(2)]
    run_ids = [ingest, *builds]
    return run_ids, platform.wait_for_runs(run_ids)


def test_the_instance_runs_on_postgres_with_its_schema_migrated(platform, postgres):
    home_config = (platform.local / "dagster_home" / "dagster.yaml").read_text()
    assert "env: DAGSTER_PG_PASSWORD" in home_config and postgres.password not in home_config
    with platform.instance() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert instance.run_storage.postgres_url.startswith("postgresql+psycopg2://")
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.run_monitoring_enabled and instance.run_retries_enabled
        assert instance.run_retries_retry_on_asset_or_op_failure
        assert not instance.get_settings("telemetry")["enabled"]
    tables = {t for (t,) in postgres.query("select table_name from information_schema.tables where table_schema = 'public'")}
    assert {"runs", "event_logs", "jobs", "instigators", "concurrency_limits", "alembic_version"} <= tables
    assert postgres.query("select count(*) from alembic_version")[0][0] >= 1


def test_snapshot_pools_have_limit_one_from_the_start(platform):
    assert_snapshot_pools_have_limit_one(platform, tuple(fixture_domains()))


def test_runs_of_two_locations_go_through_the_daemon_and_are_stored_in_postgres(platform, postgres, runs):
    run_ids, finished = runs
    assert [r.status for r in finished] == [DagsterRunStatus.SUCCESS] * 3, [(r.run_id, r.status) for r in finished]
    rows = postgres.query("select run_id, pipeline_name, status from runs where run_id = any(%s)", (run_ids,))
    jobs = ["ingest_sources", "billing_build", "billing_build"]
    assert sorted(rows) == sorted(zip(run_ids, jobs, ["SUCCESS"] * 3, strict=True))
    # Queued by the webserver, then taken off the queue and launched by the daemon (RUN_STARTING is
    # the daemon's dequeue event); Postgres stores the legacy PIPELINE_* names.
    lifecycle = [DagsterEventType.RUN_ENQUEUED, DagsterEventType.RUN_STARTING, DagsterEventType.RUN_START,
                 DagsterEventType.RUN_SUCCESS]
    for run_id in run_ids:
        events = [e for (e,) in postgres.query(
            "select dagster_event_type from event_logs where run_id = %s and dagster_event_type = any(%s) order by id",
            (run_id, [e.value for e in lifecycle]))]
        assert events == [e.value for e in lifecycle], events
    # The daemon keeps its heartbeats there too: it runs on this instance, not on a SQLite one.
    daemons = {d for (d,) in postgres.query("select daemon_type from daemon_heartbeats")}
    assert {"QUEUED_RUN_COORDINATOR", "SCHEDULER", "MONITORING"} <= daemons, daemons
    with platform.instance() as instance:
        info = instance.event_log_storage.get_concurrency_info("billing_snapshots")
        assert (info.limit, info.claimed_slots) == (1, []), info


def test_two_builds_of_one_domain_wait_for_the_pool(platform, runs):
    run_ids, _ = runs
    pair = run_ids[1:]
    for _attempt in range(2):
        with platform.instance() as instance:
            runs_overlapped = overlaps([run_window(instance, r) for r in pair])
            steps = [step_windows(instance, r)["billing_dbt"] for r in pair]
        if runs_overlapped:
            break
        # The daemon dequeued the second only after the first ended (a timing of the queue, seen
        # once in CI): two more builds launched together, once.
        pair = [platform.launch_job("billing", "billing_build", day(1)) for _ in range(2)]
        platform.wait_for_runs(pair)
    assert runs_overlapped, "the runs did not run side by side, twice, so this test proves nothing"
    assert not overlaps(steps)


def test_a_schedule_and_a_trigger_of_two_locations_are_stored_in_postgres(platform, postgres, runs):
    # Tests run with PLATFORM_SCHEDULES=stopped: start them as a user would in the UI.
    location, name = SCHEDULE
    result = platform.graphql(
        """mutation($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) {
             __typename ... on ScheduleStateResult { scheduleState { id status } } ... on PythonError { message } } }""",
        {"s": {"repositoryLocationName": location, "repositoryName": "__repository__", "scheduleName": name}},
    )["startSchedule"]
    assert result["__typename"] == "ScheduleStateResult", result
    platform.set_sensor(*SENSOR, running=True)
    try:
        with platform.instance() as instance:
            states = instance.all_instigator_state()
            running = {(s.origin.repository_origin.code_location_origin.location_name, s.name)
                       for s in states if s.status == InstigatorStatus.RUNNING}
        assert {SCHEDULE, SENSOR} <= running
        bodies = {kind: [body for (body,) in postgres.query(
            "select instigator_body from instigators where instigator_type = %s and status = 'RUNNING'", (kind,))]
            for kind in ("SCHEDULE", "SENSOR")}
        assert sum(f'"{SCHEDULE[1]}"' in body for body in bodies["SCHEDULE"]) == 1, bodies
        assert sum(f'"{SENSOR[1]}"' in body for body in bodies["SENSOR"]) == 1, bodies
    finally:
        # Stopped again, so the daemon never launches a run of its own while the module runs.
        platform.stop_schedule(*SCHEDULE)
        platform.set_sensor(*SENSOR, running=False)
    assert not postgres.query("select 1 from instigators where status = 'RUNNING'")


def test_the_database_password_is_in_no_file_of_the_repo_and_no_log_of_a_run(platform, postgres, runs):
    """Credentials come from the environment only: the secret this test set is nowhere on disk
    (repo files, the instance home, the platform's logs, compute logs) nor in the runs' event logs."""
    secret = postgres.password.encode()
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    repo_files = [REPO / name for name in tracked.decode().split("\0") if name]
    written = [p for p in platform.local.rglob("*") if p.is_file()]
    assert len(repo_files) > 50 and any(p.name.endswith(".log") for p in written)
    leaked = [str(p) for p in [*repo_files, *written] if p.exists() and secret in p.read_bytes()]
    assert leaked == []
    run_ids, _ = runs
    with platform.instance() as instance:
        messages = [str(record) for run_id in run_ids for record in instance.all_logs(run_id)]
    assert messages and not [m for m in messages if postgres.password in m]


OUTAGE_SECONDS = 60
PARENT_RUN = "dagster/parent_run_id"


def test_a_60_s_database_outage_during_a_backfill_is_survived(platform, postgres, runs):
    """PostgreSQL stopped at once (as a crash or a failover) while billing's build of a two-day
    Materialize all runs, and started again a minute later."""
    land_fixture_days(platform.local, (2,))
    backfill_id = platform.materialize_all([day(1), day(2)])
    with platform.instance() as instance:
        building = wait_until(lambda: [r for r in instance.get_runs(RunsFilter(
            tags={"dagster/backfill": backfill_id}, statuses=[DagsterRunStatus.STARTED]))
            if r.remote_job_origin.location_name == "billing"], "billing's build of the backfill to start", 600)
    time.sleep(2)  # into its dbt build
    postgres.stop()
    time.sleep(OUTAGE_SECONDS)
    postgres.start()

    backfill, backfill_runs = platform.wait_for_backfill(backfill_id, timeout=1500)
    with platform.instance() as instance:
        records = {r.dagster_run.run_id: r for r in instance.get_run_records(RunsFilter(tags={"dagster/backfill": backfill_id}))}
    retries = {r.dagster_run.tags[PARENT_RUN]: r for r in records.values() if PARENT_RUN in r.dagster_run.tags}
    first_runs = [r for r in records.values() if PARENT_RUN not in r.dagster_run.tags]
    figures = {r.dagster_run.remote_job_origin.location_name: [] for r in first_runs}
    for record in sorted(first_runs, key=lambda r: r.create_timestamp):
        chain = [record]
        while chain[-1].dagster_run.run_id in retries:
            chain.append(retries[chain[-1].dagster_run.run_id])
        # Every run of the work ends SUCCESS, with its retries.
        assert chain[-1].dagster_run.status == DagsterRunStatus.SUCCESS, [(r.dagster_run.run_id, r.dagster_run.status) for r in chain]
        figures[record.dagster_run.remote_job_origin.location_name].append(
            [(r.dagster_run.status.value, round(r.end_time - r.start_time, 1) if r.start_time else None) for r in chain]
            + [f"retry started {later.start_time - earlier.end_time:.0f} s after the failure"
               for earlier, later in zip(chain, chain[1:], strict=False)])
    print(f"outage of {OUTAGE_SECONDS} s during {building[0].run_id[:8]}: backfill {backfill.status.value}; by location "
          f"(each run of the work, and its retries): {figures}")
    assert backfill.status.value == "COMPLETED_SUCCESS"
    # Each location's part of the backfill is one run, however many times it was retried.
    assert {location: len(chains) for location, chains in figures.items()} == {"shared_ingest": 1, "billing": 1, "care": 1}
    assert retries, "no run failed in the outage, so this test proves nothing"
    for parent, retry in retries.items():
        # Its pool slot, claimed by the run that died, freed within free_slots_after_run_end_seconds
        # and a monitoring poll (15 + 15 s in deploy/dagster.yaml; 120 + 60 s before).
        assert retry.start_time - records[parent].end_time < 90, (parent, retry.start_time - records[parent].end_time)
