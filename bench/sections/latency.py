"""latency: a landed day's way through the platform as it runs (`tasks.py up`, the domains'
triggers on): for each day, from ingest's end to the last domain's end, the wall, the runs' own
work and the idle between them, per hop the trigger's wait and the queue and start; then a
"Materialize all" of one more day. On the example, then on a chain of domains three deep."""

import shutil
import time
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus

from devsupport.environments import scrubbed_env
from devsupport.platform import Webserver, wait_for_locations
from devsupport.processes import free_port, stop_group, wait_until

from .common import REPO, WORK
from .platform import start_dg_dev


def bench_latency(days: int, root: Path = REPO, env: dict | None = None, name: str = "latency") -> dict:
    """A landed day's way through the platform as it runs (`tasks.py up` in ``root``, the triggers
    on, its default trigger interval): for each of ``days`` days, ingest launched as its schedule
    does, then every domain started by its trigger. From ingest's end to the last domain's end:
    ``wall``, ``work`` (the runs' own seconds along the chain that ended last) and ``idle`` (the
    rest), and per hop of that chain what the idle is: the trigger's wait (the previous run's end
    to the run's creation) and the queue and start (creation to start). Then a "Materialize all"
    of one more day, as the UI launches it, with what it waits for (Dagster's backfill daemon
    ticks every 30 s)."""
    from datetime import UTC, datetime, timedelta

    from devsupport.workspace import domains, locations

    chain_domains = list(domains(root))
    local = WORK / name
    shutil.rmtree(local, ignore_errors=True)
    local.mkdir(parents=True)
    first = datetime.now(UTC).date() - timedelta(days=days + 1)
    (local / "partitions_start").write_text(f"{first}\n")  # the dev sources land every day from it to yesterday
    env = {**(env or scrubbed_env()), "PLATFORM_LOCAL_DIR": str(local), "PLATFORM_SCHEDULES": "stopped"}
    port = free_port()
    web = Webserver(f"http://127.0.0.1:{port}")
    [process] = start_dg_dev(env, port, local, root)
    try:
        wait_for_locations(web.url, [process], local / "platform.log", 900, count=len(locations(root)), errors_count=False)
        for domain in chain_domains:
            web.set_sensor(domain, f"{domain}_on_new_data", running=True)
        figures: dict = {"domains": chain_domains, "days": []}
        with DagsterInstance.from_config(str(local / "dagster_home")) as instance:
            for k in range(days):
                day = (first + timedelta(days=k)).isoformat()
                ingest = web.launch_job("shared_ingest", "ingest_sources", day)
                records = wait_until(lambda day=day, ingest=ingest: _day_done(instance, ingest, day, chain_domains),
                                     f"day {day} through every domain", 900)
                figures["days"].append(_chain_latency(records))
                print(f"  {day}: {figures['days'][-1]['wall_s']:.1f} s wall, {figures['days'][-1]['idle_s']:.1f} s idle",
                      flush=True)
            for domain in chain_domains:
                web.set_sensor(domain, f"{domain}_on_new_data", running=False)
            last = (first + timedelta(days=days)).isoformat()
            backfill_id, launched = web.materialize_all([last]), time.time()
            runs = wait_until(lambda: _backfill_done(instance, backfill_id), "the Materialize all", 900)
            figures["materialize_all"] = _backfill_latency(runs, launched)
    finally:
        stop_group(process)
    return figures


def bench_chain_latency(days: int, depth: int = 3, models: int = 8) -> dict:
    """The same through a chain of domains ``depth`` deep (bench/make_organisation.py: sales,
    org_01, org_02, ... each reading the one before; inventory beside them). Few models: the
    generated ones are views of views, and a long chain of them makes every query slow."""
    from make_organisation import make_organisation, pythonpath

    root = WORK / "chain"
    shutil.rmtree(root, ignore_errors=True)
    make_organisation(root, depth + 1, models)
    env = scrubbed_env(DBT_PROJECT_DIR=str(root / "dbt"), PYTHONPATH=pythonpath(root))
    return bench_latency(days, root, env, name="chain_latency")


def _day_done(instance: DagsterInstance, ingest: str, day: str, domains) -> list | None:
    """Ingest's run record, then each domain's day run's (started by its trigger), once all ended."""
    from dagster import RunsFilter

    records = [instance.get_run_record_by_id(ingest)]
    for domain in domains:
        records += instance.get_run_records(RunsFilter(tags={"dagster/partition": day,
                                                             "dagster/sensor_name": f"{domain}_on_new_data"}))
    if failed := [r.dagster_run.run_id for r in records if r.dagster_run.status != DagsterRunStatus.SUCCESS
                  and r.dagster_run.is_finished]:
        raise RuntimeError(f"day {day}: runs failed: {failed}")
    if len(records) == 1 + len(domains) and all(r.dagster_run.status == DagsterRunStatus.SUCCESS for r in records):
        return records
    return None


def _chain_latency(records: list) -> dict:
    """The day's figures along the chain of runs that ended last: from the last domain run back,
    each run's predecessor is the run that ended last before it started (ingest at the head). On
    the one-writer warehouse that may be a run of another branch the queue made it wait for.
    A hop's idle is its trigger's wait (the predecessor's end to the run's creation, none if the
    trigger saw its inputs before that run had ended) and its queue and start (the rest)."""
    ingest, *domains = records
    chain = [max(domains, key=lambda r: r.end_time)]
    while True:
        before = [r for r in domains if r.end_time <= chain[0].start_time and r not in chain]
        if not before:
            break
        chain.insert(0, max(before, key=lambda r: r.end_time))
    hops, previous_end = [], ingest.end_time
    for record in chain:
        created = record.create_timestamp.timestamp()
        hops.append({"job": record.dagster_run.job_name, "trigger_wait_s": max(0.0, created - previous_end),
                     "queue_and_start_s": record.start_time - max(created, previous_end),
                     "run_s": record.end_time - record.start_time})
        previous_end = record.end_time
    wall = previous_end - ingest.end_time
    work = sum(hop["run_s"] for hop in hops)
    return {"ingest_s": ingest.end_time - ingest.start_time, "wall_s": wall, "work_s": work, "idle_s": wall - work,
            "idle_per_hop_s": (wall - work) / len(hops), "hops": hops, "runs": len(domains)}


def _backfill_done(instance: DagsterInstance, backfill_id: str) -> list | None:
    from dagster import RunsFilter

    backfill = instance.get_backfill(backfill_id)
    if backfill.status.value == "REQUESTED":
        return None
    records = instance.get_run_records(RunsFilter(tags={"dagster/backfill": backfill_id}))
    return records if all(r.dagster_run.is_finished for r in records) else None


def _backfill_latency(records: list, launched: float) -> dict:
    records = sorted(records, key=lambda r: r.start_time)
    wall = max(r.end_time for r in records) - launched
    work = sum(r.end_time - r.start_time for r in records)
    return {"runs": len(records), "statuses": sorted({r.dagster_run.status.value for r in records}),
            "wall_s": wall, "work_s": work, "idle_s": wall - work,
            "waits_s": [r.create_timestamp.timestamp() - (previous.end_time if previous else launched)
                        for previous, r in zip([None, *records], records, strict=False)]}


def report(results: dict) -> None:
    for name, r in results.get("latency", {}).items():
        print(f"\na landed day, {name} ({', '.join(r['domains'])}; triggers on; seconds from ingest's end):")
        print("  day  wall    work    idle   idle/hop   along the chain that ended last: trigger wait + queue and start")
        for n, day in enumerate(r["days"], 1):
            hops = ", ".join(f"{h['job']} {h['trigger_wait_s']:.1f}+{h['queue_and_start_s']:.1f}" for h in day["hops"])
            print(f"  {n:3}  {day['wall_s']:5.1f}  {day['work_s']:6.1f}  {day['idle_s']:6.1f}  {day['idle_per_hop_s']:8.1f}   {hops}")
        m = r["materialize_all"]
        print(f"  Materialize all of one day: {m['runs']} runs ({', '.join(m['statuses'])}), {m['wall_s']:.1f} s wall, "
              f"{m['work_s']:.1f} s of runs, {m['idle_s']:.1f} s idle; each run waited "
              + ", ".join(f"{w:.1f}" for w in m["waits_s"]) + " s from the launch or the previous run's end")
