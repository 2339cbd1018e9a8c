"""The real platform as `python3 tasks.py up` runs it (`dg dev`): three code servers, the daemon, the webserver.

On the platform's test project (tests/fixtures/subscriptions, brought into a copy of the
repository: `fixture_root`), its exports landed by the test. One graph across the three locations
(shared_ingest, billing, care), the crm that Fivetran loads an observed source in it. Runs
launched at the same time from every location queue on the one-writer DuckDB and all succeed, one
domain's builds (and so its snapshots) never overlap, and the marts they build are rated fresh.
What starts what: test_automation.py. "Materialize all" across the locations: test_version_skew.py.
"""

import ipaddress
import json
import time

import psutil
import pytest
from dagster import AssetKey, AssetMaterialization, DagsterEvent, DagsterEventType, DagsterRunStatus, EventLogEntry, RunsFilter
from platform_support import (
    assert_snapshot_pools_have_limit_one,
    materialized_keys,
    overlaps,
    run_window,
    start_platform,
    step_windows,
    stop_platform,
    wait_until,
)
from support import day, fixture_domains, land_fixture_days, scalar

DAYS = [day(d) for d in (1, 2)]
DOMAINS = tuple(fixture_domains())  # the test project's: billing, care


@pytest.fixture(scope="module")
def platform(fixture_root, tmp_path_factory):
    """The test project's platform, day 1 landed (and the crm loaded through it)."""
    local = tmp_path_factory.mktemp("platform")
    land_fixture_days(local, (1,))
    # The daemon rates freshness every 30 s by default: every 2 s here.
    platform = start_platform(local, root=fixture_root, extra_env={"FRESHNESS_DAEMON_INTERVAL_SECONDS": "2"})
    yield platform
    stop_platform(platform)


def test_snapshot_pools_have_limit_one_before_any_run(platform):
    assert_snapshot_pools_have_limit_one(platform, DOMAINS)


def test_one_graph_where_raw_sources_are_the_ingest_assets(platform):
    """A dbt source must not shadow the ingest asset of the same key (dagster#21760); a source
    another tool loads is shared_ingest's observed asset, never materialized."""
    nodes = platform.graphql("""{ assetNodes { assetKey { path } isMaterializable
        repository { location { name } } dependencyKeys { path } } }""")["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    raw = {k: n for k, n in by_key.items() if k.startswith("raw/")}
    assert sorted(raw) == ["raw/billing/accounts", "raw/billing/invoice_lines", "raw/billing/invoices",
                           "raw/crm/contacts", "raw/support/tickets"]
    assert {n["repository"]["location"]["name"] for n in raw.values()} == {"shared_ingest"}
    assert [k for k, n in raw.items() if not n["isMaterializable"]] == ["raw/crm/contacts"]  # observed (Fivetran's)
    assert len(nodes) == len(by_key), "an asset key appears twice in the global graph"
    deps = lambda key: {"/".join(d["path"]) for d in by_key[key]["dependencyKeys"]}
    assert deps("billing/stg_billing__invoices") == {"raw/billing/invoices"}
    assert deps("care/stg_support__tickets") == {"raw/support/tickets"}
    assert deps("care/stg_crm__contacts") == {"raw/crm/contacts"}
    assert {"billing/accounts", "billing/invoices"} <= deps("care/account_health")


def test_webserver_and_code_servers_listen_on_localhost_only(platform):
    """`dg dev` serves code over Unix sockets; whatever listens on TCP listens on loopback."""
    processes = [psutil.Process(platform.process.pid), *psutil.Process(platform.process.pid).children(recursive=True)]
    listening = {c.laddr for p in processes for c in p.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    assert listening  # the webserver
    loopback = lambda ip: ipaddress.ip_address(ip).is_loopback or ipaddress.ip_address(ip).ipv4_mapped.is_loopback
    assert all(loopback(address.ip.split("%")[0]) for address in listening), listening


def test_the_daemon_dg_dev_starts_runs_the_backfill_fix(platform):
    """`dg dev` starts the stock daemon (`python -m dagster._daemon run`) with the instance it
    was given: its run coordinator is the one that installs the cross-location backfill fix,
    which test_stock_commands.py runs end to end with "Materialize all"."""
    from dagster._core.instance.ref import InstanceRef  # the daemon's --instance-ref argument
    from dagster_shared.serdes import deserialize_value

    [daemon] = [p for p in psutil.Process(platform.process.pid).children(recursive=True)
                if p.cmdline()[1:4] == ["-m", "dagster._daemon", "run"]]
    ref = deserialize_value(daemon.cmdline()[daemon.cmdline().index("--instance-ref") + 1], InstanceRef)
    coordinator = ref.run_coordinator_data
    assert (coordinator.module_name, coordinator.class_name) == ("dataplatform.run_coordinator", "PlatformRunCoordinator")


MARTS = [AssetKey(["billing", name]) for name in ("invoices", "accounts", "daily_billing")] + [
    AssetKey(["care", name]) for name in ("tickets", "account_health")]


def freshness(platform, keys: list[AssetKey]) -> dict[AssetKey, str]:
    """The freshness state the daemon recorded for each key that it rated."""
    with platform.instance() as instance:
        return {key: record.freshness_state.value for key, record in instance.get_freshness_state_records(keys).items()}


def test_a_mart_whose_build_stopped_days_ago_is_rated_stale(platform):
    """The marts carry the freshness policy of their domain's defs.yaml (marts_fresh_by). A mart last
    built three days ago (its materialization recorded with that time) fails its policy."""
    from dagster._core.events import StepMaterializationData  # the record of a past build

    stale = AssetKey(["billing", "daily_billing"])
    platform.set_sensor("billing", "billing_alert_on_stale_marts", running=True)
    three_days_ago = time.time() - 3 * 86400
    with platform.instance() as instance:
        instance.store_event(EventLogEntry(
            error_info=None, level="INFO", user_message="", run_id="", timestamp=three_days_ago,
            dagster_event=DagsterEvent(DagsterEventType.ASSET_MATERIALIZATION.value, job_name="",
                                       event_specific_data=StepMaterializationData(AssetMaterialization(stale))),
        ))
    wait_until(lambda: freshness(platform, [stale]).get(stale) == "FAIL", "the daemon to rate the mart stale", 120)
    # And it is one alert, to the mart's owner (the sensor reads the daemon's state changes).
    alerts = platform.local / "alerts.jsonl"
    [alert] = wait_until(lambda: alerts.exists() and [json.loads(line) for line in alerts.read_text().splitlines()],
                         "the stale mart's alert", 120)
    assert (alert["kind"], alert["assets"], alert["owners"]) == (
        "freshness_failed", ["billing/daily_billing"], ["billing-data@example.com"])
    platform.set_sensor("billing", "billing_alert_on_stale_marts", running=False)


def test_a_storm_of_six_runs_from_three_locations_queues_and_all_succeed(platform):
    """As a catch-up would: 6 runs enqueued at once (two days of the daily chain: ingest, each
    domain's build); the daemon starts them one at a time (DuckDB has one writer), none fails on
    the lock, the queue adds little to their sum, and every mart they built is rated fresh."""
    land_fixture_days(platform.local, (2,))  # and the crm loaded through day 2, before any run
    storm = [launch for day in DAYS for launch in (
        ("shared_ingest", "ingest_sources", day), ("billing", "billing_build", day), ("care", "care_build", day))]
    enqueued = time.time()
    run_ids = [platform.launch_job(*launch) for launch in storm]
    runs = platform.wait_for_runs(run_ids)
    assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS] * len(runs)
    with platform.instance() as instance:
        windows = [run_window(instance, r) for r in run_ids]
        logs = "".join(str(rec.message) for r in run_ids for rec in instance.all_logs(r))
        domain_steps = {
            domain: [step_windows(instance, r)[f"{domain}_dbt"]
                     for r, (_, job, _) in zip(run_ids, storm, strict=True) if job == f"{domain}_build"]
            for domain in DOMAINS
        }
        # A run's own cost runs from the daemon taking it off the queue (its worker starts) to its end.
        costs = [launch_window(instance, r) for r in run_ids]
    assert not overlaps(windows), "DuckDB runs overlapped: the run queue did not hold them"
    assert all(len(steps) == 2 and not overlaps(steps) for steps in domain_steps.values())
    assert "Could not set lock" not in logs and "Conflicting lock" not in logs
    busy = sum(end - start for start, end in costs)
    wall = max(end for _, end in costs) - enqueued
    print(f"\nstorm: {len(runs)} runs, sum of the runs (dequeued to done) {busy:.1f} s, wall {wall:.1f} s, "
          f"wall/sum {wall / busy:.2f}, mean run {busy / len(runs):.1f} s")
    assert wall < 1.5 * busy, "the queue spent a third as long between runs as in them"
    # Every mart is built now, within its policy: the daemon rates each one fresh.
    wait_until(lambda: freshness(platform, MARTS) == {key: "PASS" for key in MARTS}, "every mart rated fresh", 120)


def test_a_cancelled_run_frees_its_pool_slot_and_the_queue(platform):
    """Terminate (the UI's button) a build holding its pool slot; the next one runs."""
    first, second = (platform.launch_job("billing", "billing_build", DAYS[0]) for _ in range(2))
    with platform.instance() as instance:
        wait_until(lambda: instance.event_log_storage.get_concurrency_info("billing_snapshots").claimed_slots,
                   "the first run to claim the billing_snapshots slot")
        assert instance.get_run_by_id(second).status == DagsterRunStatus.QUEUED
    result = platform.graphql("""mutation($id: String!) { terminateRun(runId: $id) { __typename } }""",
                              {"id": first})["terminateRun"]
    assert result["__typename"] == "TerminateRunSuccess", result
    cancelled, after = platform.wait_for_runs([first, second])
    assert (cancelled.status, after.status) == (DagsterRunStatus.CANCELED, DagsterRunStatus.SUCCESS)
    with platform.instance() as instance:
        assert instance.event_log_storage.get_concurrency_info("billing_snapshots").claimed_slots == []


def test_a_run_killed_mid_build_is_retried_to_completion(platform):
    """SIGKILL the run worker and its dbt process after a rebuild of a day has materialized some
    models (as a node loss would): the code server fails the run, run_retries retries it from the
    assets not yet materialized, the DuckDB file opens, and snapshots keep one current row a key."""
    killed = platform.launch_job("billing", "billing_build", DAYS[1])
    with platform.instance() as instance:
        wait_until(lambda: materialized_keys(instance, killed), "the build to materialize a first model")
    dbt = next(p for p in psutil.Process(platform.process.pid).children(recursive=True)
               if "build" in p.cmdline() and any(part.endswith("dbt") for part in p.cmdline()[:2]))
    for process in (dbt.parent(), dbt):
        process.kill()
    [failed] = platform.wait_for_runs([killed])
    assert failed.status == DagsterRunStatus.FAILURE
    with platform.instance() as instance:
        retry_ids = lambda: [r.run_id for r in instance.get_runs(RunsFilter(tags={"dagster/parent_run_id": killed}))]
        wait_until(retry_ids, "run_retries to launch a retry")
        [retry] = platform.wait_for_runs(retry_ids())
        assert retry.status == DagsterRunStatus.SUCCESS
        before, again = materialized_keys(instance, killed), materialized_keys(instance, retry.run_id)
    assert before and again and not before & again, "the retry rebuilt what the killed run had finished"
    assert "billing/daily_billing" in before | again
    assert scalar(platform.warehouse, """select count(*) from (select account_id from
        billing_snapshots.accounts_snapshot where dbt_valid_to is null group by 1 having count(*) > 1)""") == 0


def launch_window(instance, run_id) -> tuple[float, float]:
    """From the daemon dequeuing a run (RUN_STARTING) to the run's end."""
    [dequeued] = [r.timestamp for r in instance.all_logs(run_id, of_type=DagsterEventType.RUN_STARTING)]
    return dequeued, run_window(instance, run_id)[1]

