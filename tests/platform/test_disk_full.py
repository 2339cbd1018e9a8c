"""A full disk under the warehouse, on the real platform (`tasks.py up`: code servers, daemon,
webserver), and the recovery an operator makes from the UI (issue 34).

On the platform's test project (tests/fixtures/subscriptions, `fixture_root`), its DuckDB warehouse
on a small disk of its own (a tmpfs: the suite runs as root in CI), the instance on another. Day 1
is built and published, day 2 ingested. The disk fills; a backfill of both domains' day 2 fails in
each domain, naming the full disk, and each domain's alert says so; nothing published changes.
Space freed, "Re-execute from failure" of that backfill rebuilds each domain in one run and
succeeds, and the day equals a clean build of it (each domain's job again), each row once.
"""

import json

import pytest
from dagster import DagsterRunStatus
from platform_support import start_platform, stop_platform, wait_until
from support import checksum, day, fill_disk, fixture_domains, land_fixture_days, query, small_disk

DAY = {n: day(n) for n in (1, 2)}
DOMAINS = tuple(fixture_domains())  # billing, care: their schemas hold what consumers read


@pytest.fixture(scope="module")
def disk(tmp_path_factory):
    with small_disk(tmp_path_factory.mktemp("disk"), 128) as disk:
        yield disk


@pytest.fixture(scope="module")
def platform(fixture_root, tmp_path_factory, disk):
    local = tmp_path_factory.mktemp("disk_full")
    land_fixture_days(local, (1, 2), warehouse=disk / "warehouse.duckdb")
    platform = start_platform(local, root=fixture_root, extra_env={"DUCKDB_PATH": str(disk / "warehouse.duckdb")})
    for location in DOMAINS:
        platform.set_sensor(location, f"{location}_alert_on_run_failure", running=True)
    yield platform
    stop_platform(platform)


def published(warehouse) -> dict[str, tuple]:
    """Every relation consumers read (the domains' schemas), with its row count and content hash."""
    names = query(warehouse, "select table_schema || '.' || table_name from information_schema.tables "
                             f"where table_schema in {DOMAINS} order by 1")
    return {name: checksum(warehouse, name) for (name,) in names}


def duplicated_rows(warehouse) -> dict[str, int]:
    """The published relations holding a row twice, and how many rows too many."""
    found = {}
    for name in published(warehouse):
        [(rows, distinct)] = query(warehouse, f"select count(*), (select count(*) from (select distinct * from {name})) "
                                              f"from {name}")
        if rows != distinct:
            found[name] = rows - distinct
    return found


def step_errors(platform, run_id: str) -> list[str]:
    """The failed steps' error messages of a run, as its page shows them."""
    data = platform.graphql(
        """query($id: ID!) { runOrError(runId: $id) { ... on Run { eventConnection { events {
             __typename ... on ExecutionStepFailureEvent { error { message causes { message } } } } } } } }""",
        {"id": run_id})
    return [e["error"]["message"] + " ".join(c["message"] for c in e["error"]["causes"])
            for e in data["runOrError"]["eventConnection"]["events"] if e["__typename"] == "ExecutionStepFailureEvent"]


def run_jobs(platform, jobs) -> None:
    """Each (location, job, day) launched from the launchpad once the one before it succeeded."""
    for location, job, partition in jobs:
        [run] = platform.wait_for_runs([platform.launch_job(location, job, partition)])
        assert run.status == DagsterRunStatus.SUCCESS, (job, partition)


def build_day(platform, n: int) -> None:
    run_jobs(platform, [(location, f"{location}_build", DAY[n]) for location in DOMAINS])


def alerts(platform) -> list[dict]:
    path = platform.local / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_full_disk_publishes_nothing_and_reexecuting_from_failure_rebuilds_the_day(platform, disk):
    warehouse = disk / "warehouse.duckdb"
    run_jobs(platform, [("shared_ingest", "ingest_sources", DAY[1])])
    build_day(platform, 1)
    run_jobs(platform, [("shared_ingest", "ingest_sources", DAY[2])])
    before = published(warehouse)

    filler = fill_disk(disk)
    failed, failed_runs = platform.wait_for_backfill(platform.materialize([DAY[2]], DOMAINS, "both domains' day 2"))
    assert failed.status.value == "COMPLETED_FAILED", failed.status
    by_location = {r.remote_job_origin.location_name: r for r in failed_runs}
    assert sorted(by_location) == sorted(DOMAINS) and len(failed_runs) == len(DOMAINS)
    assert all(r.status == DagsterRunStatus.FAILURE for r in failed_runs)
    for run in failed_runs:
        errors = step_errors(platform, run.run_id)
        assert errors and all("No space left on device" in e for e in errors), (run.job_name, errors)
    assert published(warehouse) == before  # nothing published changed, nothing half-published
    # Each domain's alert says why: the step's error names the full disk and the warehouse's file.
    delivered = wait_until(lambda: len(found := alerts(platform)) >= len(DOMAINS) and found, "both domains' alerts", 120)
    assert sorted(a["run_id"] for a in delivered) == sorted(r.run_id for r in failed_runs)
    for alert in delivered:
        assert "No space left on device" in alert["cause"] and str(warehouse) in alert["cause"], alert["cause"]
        assert f"Step {alert['step']} failed: " in alert["summary"] and "Steps failed:" not in alert["summary"]

    filler.unlink()
    retried, retried_runs = platform.wait_for_backfill(platform.reexecute_backfill(failed.backfill_id))
    assert retried.status.value == "COMPLETED_SUCCESS", retried.status
    assert sorted(r.remote_job_origin.location_name for r in retried_runs) == sorted(DOMAINS)  # one run per domain
    assert all(r.status == DagsterRunStatus.SUCCESS for r in retried_runs)
    recovered = published(warehouse)
    assert recovered != before and not duplicated_rows(warehouse)
    print("a full disk: failed backfill " + ", ".join(f"{r.job_name} {r.status.value}" for r in failed_runs)
          + f"; re-executed from failure: {retried.status.value}, " + ", ".join(r.job_name for r in retried_runs))

    # A clean build of the same day, over what the recovery left: the same rows.
    build_day(platform, 2)
    assert published(warehouse) == recovered
    print("alerts: " + "; ".join(a["summary"] for a in delivered))
