"""What starts what, on the real platform (`tasks.py up`: code servers, daemon, webserver).

On the platform's test project (tests/fixtures/subscriptions, `fixture_root`), its exports landed
by the test, the crm loaded as Fivetran would. billing's day starts by its data (its trigger),
care's by its own clock (its schedule, every minute in the test project); they and the alert
sensors are switched on as a user does on the Automation page. No other schedule runs, so the
crm's observation (shared_ingest's `observe_sources`) is launched as its schedule would.
Materializing ingest starts billing's day, and care's schedule builds care's once billing's public
accounts and invoices and the observed crm are in; a failed ingest starts nothing, delivers one
alert, each says what its day waits for, and the day starts once it is ingested again. A 3-day
backfill with the triggers on: test_version_skew.py.
"""

import json
import time

import pytest
from dagster import DagsterRunStatus, RunsFilter
from platform_support import start_platform, stop_platform, wait_until
from support import day, fixture_domains, land_fixture_days

DAY = {n: day(n) for n in range(1, 3)}
DOMAINS = tuple(fixture_domains())  # the test project's: billing, care
SENSOR_TAG, SCHEDULE_TAG = "dagster/sensor_name", "dagster/schedule_name"
# billing's day is started by its data (its trigger), care's by its own clock (its schedule, every
# minute in the test project: domains.toml), as each domain's defs.yaml chooses.
BY_DATA, BY_CRON = "billing_on_new_data", "care_on_cron"
SENSORS = [("billing", BY_DATA)] + [(location, f"{location}_alert_on_run_failure") for location in ("shared_ingest", *DOMAINS)]


@pytest.fixture(scope="module")
def platform(fixture_root, tmp_path_factory):
    """The test project's platform, day 1 landed (the crm loaded through it, not yet observed)."""
    local = tmp_path_factory.mktemp("automation")
    land_fixture_days(local, (1,))
    platform = start_platform(local, root=fixture_root, extra_env={"PLATFORM_TRIGGER_INTERVAL_SECONDS": "3"})
    for location, name in SENSORS:
        platform.set_sensor(location, name, running=True)
    platform.start_schedule("care", BY_CRON)
    yield platform
    stop_platform(platform)


def runs_started_by(platform, instigator: str) -> list:
    """The runs a sensor or a schedule started, oldest first."""
    tag = SCHEDULE_TAG if instigator == BY_CRON else SENSOR_TAG
    with platform.instance() as instance:
        return list(reversed(instance.get_runs(RunsFilter(tags={tag: instigator}))))


def alerts(platform) -> list[dict]:
    path = platform.local / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def last_skip_reason(platform, location: str, sensor: str) -> str:
    data = platform.graphql(
        """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor {
             sensorState { ticks(limit: 1) { status skipReason } } } } }""",
        {"s": {"repositoryLocationName": location, "repositoryName": "__repository__", "sensorName": sensor}})
    ticks = data["sensorOrError"]["sensorState"]["ticks"]
    return (ticks[0]["skipReason"] or "") if ticks else ""


def schedule_skip_reasons(platform, location: str, schedule: str) -> list[str]:
    """The skip reasons of a schedule's ticks, newest first (what the Automation page shows)."""
    data = platform.graphql(
        """query($s: ScheduleSelector!) { scheduleOrError(scheduleSelector: $s) { ... on Schedule {
             scheduleState { ticks(limit: 20) { status skipReason } } } } }""",
        {"s": {"repositoryLocationName": location, "repositoryName": "__repository__", "scheduleName": schedule}})
    return [t["skipReason"] or "" for t in data["scheduleOrError"]["scheduleState"]["ticks"]]


def test_ingest_starts_each_domain_day_in_dependency_order(platform):
    ingest = platform.launch_job("shared_ingest", "ingest_sources", DAY[1])
    observe = platform.launch_job("shared_ingest", "observe_sources")  # the crm's day 1, as its schedule would
    [billing] = wait_until(lambda: runs_started_by(platform, BY_DATA), "billing's trigger to start its day")
    [care] = wait_until(lambda: runs_started_by(platform, BY_CRON), "care's schedule to start its day (each minute)")
    ingest_run, observe_run, billing, care = platform.wait_for_runs([ingest, observe, billing.run_id, care.run_id])
    assert [r.status for r in (ingest_run, observe_run, billing, care)] == [DagsterRunStatus.SUCCESS] * 4
    assert (billing.job_name, billing.tags["dagster/partition"]) == ("billing_build", DAY[1])
    assert (care.job_name, care.tags["dagster/partition"]) == ("care_build", DAY[1])
    with platform.instance() as instance:
        ended = lambda run: instance.get_run_record_by_id(run.run_id).end_time
        started = lambda run: instance.get_run_record_by_id(run.run_id).start_time
        assert ended(ingest_run) <= started(billing) and ended(billing) <= started(care)
        assert ended(observe_run) <= started(care)
        assert not instance.get_runs(RunsFilter(tags={"dagster/schedule_name": "ingest_sources_daily"}))
    time.sleep(10)  # several ticks: nothing starts twice
    assert len(runs_started_by(platform, BY_DATA)) == len(runs_started_by(platform, BY_CRON)) == 1
    assert not alerts(platform)


def test_a_trigger_ticks_at_its_own_interval(platform):
    """Its interval here is 3 s; Dagster's sensor daemon would go round every 5 s (the sensor_loop
    patch makes it every second: tests/platform/test_stock_dagster.py has the 5 s without it)."""
    gaps = wait_until(lambda: (g := platform.sensor_tick_gaps("billing", BY_DATA)) and len(g) >= 5 and g,
                      "five ticks of billing's trigger", 120)
    print("a 3 s trigger's ticks, seconds apart: " + ", ".join(f"{g:.1f}" for g in gaps))
    assert min(gaps) >= 2.9 and sorted(gaps)[len(gaps) // 2] < 4.5, gaps


def test_a_failed_ingest_starts_no_domain_and_alerts_once(platform):
    land_fixture_days(platform.local, (2,))  # and the crm loaded through day 2, no run writing meanwhile
    (platform.local / "landing" / "billing" / "invoices" / f"{DAY[2]}.csv").write_text("invoice_id\nnot-a-number\n")
    [failed] = platform.wait_for_runs([platform.launch_job("shared_ingest", "ingest_sources", DAY[2])])
    assert failed.status == DagsterRunStatus.FAILURE
    [alert] = wait_until(lambda: alerts(platform), "the failure's alert", 120)
    assert (alert["kind"], alert["run_id"], alert["partition"], alert["location"]) == (
        "run_failed", failed.run_id, DAY[2], "shared_ingest")
    assert "raw/billing/invoices" in alert["assets"] and DAY[2] in alert["summary"]
    # It says why: the failed step's error names the table, the landing file and its line.
    assert alert["step"] and f"Step {alert['step']} failed: billing.invoices: partition {DAY[2]} not loaded" in alert["summary"]
    assert f"invoices/{DAY[2]}.csv" in alert["cause"] and "line " in alert["cause"], alert["cause"]
    reason = wait_until(lambda: (r := last_skip_reason(platform, "billing", "billing_on_new_data")) and DAY[2] in r and r,
                        "billing's trigger to say what it waits for", 60)
    day_2 = reason.split("; ")[0]
    assert day_2.startswith(f"{DAY[2]}: waits for ") and f"raw/billing/invoices (run {failed.run_id[:8]} failure)" in day_2
    # care's schedule, at its next minute, says what its day 2 waits for: billing's day 2, not built.
    care_waits = wait_until(lambda: next((r for r in schedule_skip_reasons(platform, "care", BY_CRON)[:1]
                                          if f"{DAY[2]}: waits for" in r), None), "care's schedule to tick", 90)
    assert "billing/accounts (not materialized)" in care_waits or "billing/invoices (not materialized)" in care_waits, care_waits
    time.sleep(10)
    assert [len(runs_started_by(platform, name)) for name in (BY_DATA, BY_CRON)] == [1, 1]  # day 1's only
    assert len(alerts(platform)) == 1


def test_the_automation_page_shows_what_the_day_waits_for(platform, tmp_path):
    """What a person sees: billing's trigger on the UI's sensor page; its newest tick, opened, says
    what the day waits for (the tick table itself shows "0 runs requested")."""
    from platform_support import browser_page, open_ui, screenshot

    with browser_page(tmp_path / "chromium") as page:
        open_ui(page, f"{platform.url}/locations/__repository__@billing/sensors/billing_on_new_data")
        page.get_by_text("billing_on_new_data").first.wait_for(timeout=60_000)
        # The newest tick's result ("0 runs requested") opens the tick, with its skip reason.
        page.get_by_role("button", name="0 runs requested").or_(page.get_by_role("link", name="0 runs requested")).first.click()
        page.get_by_text("waits for raw/billing/invoices", exact=False).first.wait_for(timeout=30_000)
        screenshot(page, "billing-trigger-waiting")
        text = page.inner_text("body")
    assert f"{DAY[2]}: waits for" in text and "raw/billing/invoices (run " in text


def test_a_late_day_starts_its_domains_once_it_is_in(platform):
    """The export of day 2 is fixed and ingested again, the crm's day 2 observed: billing's and
    care's day 2 start."""
    land_fixture_days(platform.local, (2,))
    [ingest, observe] = platform.wait_for_runs([platform.launch_job("shared_ingest", "ingest_sources", DAY[2]),
                                                platform.launch_job("shared_ingest", "observe_sources")])
    assert (ingest.status, observe.status) == (DagsterRunStatus.SUCCESS, DagsterRunStatus.SUCCESS)
    for name in (BY_DATA, BY_CRON):
        runs = wait_until(lambda name=name: len(runs_started_by(platform, name)) == 2 and runs_started_by(platform, name),
                          f"{name} to start day 2")
        [run] = platform.wait_for_runs([runs[-1].run_id])
        assert (run.status, run.tags["dagster/partition"]) == (DagsterRunStatus.SUCCESS, DAY[2])
    assert len(alerts(platform)) == 1
