"""domains: each domain's one Dagster run vs today's plain path (a snapshot and a build per domain)
and the best plain path (one `dbt build` of the group); end to end: the ingest job and every domain
job vs native loads and plain dbt. patches: day 1's domain jobs with the dbt_startup patch and
without (stock dagster-dbt)."""

import json
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus

from dataplatform.dbt.plan import domain_selection
from dataplatform.partitions import partition_range_tags
from devsupport.processes import stop_group, wait_until

from .common import (
    DAILY_CHAIN,
    LAUNCH_INSTANCE,
    REPO,
    WORK,
    bench_env,
    day_key,
    instance_home,
    measure,
    median,
    native_load,
    plain_dbt,
    prepare_manifest_for,
    run_job,
    start_code_servers,
)


@contextmanager
def code_servers(env: dict, home: Path, warm: bool):
    """One `dagster api grpc` per location of the daily chain on the instance at ``home``, each
    starting its runs warm (the warm_runs patch, dataplatform.patches) or as Dagster does (the
    patch off: a fresh interpreter per run). Yields ``launch(location, job, first, last)``."""
    from dataplatform.patches import PATCHES

    mode = "on" if warm else "off"
    patches = "all" if warm else ",".join(p.name for p in PATCHES if p.name != "warm_runs")
    env = {**env, "DAGSTER_HOME": str(home), "PLATFORM_PATCHES": patches}
    workspace = home / f"workspace-warm-{mode}.yaml"
    processes = start_code_servers(env, open(home / f"code-servers-warm-{mode}.log", "wb"), workspace,
                                   lambda _location: Path(sys.executable).parent)
    try:
        yield lambda location, job, first, last: launch_run(env, workspace, location, job, first, last)
    finally:
        for process in processes:
            stop_group(process)


def launch_run(env: dict, workspace: Path, location: str, job: str, first: str, last: str) -> dict[str, float]:
    """A job's run for days first..last, launched as the daemon launches a dequeued run (the
    instance's run launcher asks the location's code server to start it): seconds from launch to
    success, split where the run starts (its process up, the location's definitions built)."""
    run_id = uuid.uuid4().hex
    subprocess.run([str(Path(sys.executable).parent / "dagster"), "job", "launch", "-w", str(workspace), "-l", location,
                    "-j", job, "--tags", json.dumps(partition_range_tags(first, last)), "--run-id", run_id],
                   env=env, cwd=REPO, check=True, capture_output=True)
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        run = wait_until(lambda: (r := instance.get_run_by_id(run_id)) is not None and r.is_finished and r,
                         f"{job} run {run_id}", timeout=3600)
        if run.status != DagsterRunStatus.SUCCESS:
            raise RuntimeError(f"{job} run {run_id} ended {run.status.value}: see the instance at {env['DAGSTER_HOME']}")
        stats = instance.get_run_stats(run_id)
    return {"seconds": stats.end_time - stats.launch_time, "start-up": stats.start_time - stats.launch_time,
            "run": stats.end_time - stats.start_time}


# Each domain's job and the plain dbt commands that do its work, two ways: today's plain path (a
# snapshot, then a build of the models) and the best plain path (one build of the group, which
# builds its snapshots too). A build is incremental, for the window of whole days it is given.
def dbt_jobs(first_day: str, end_day: str) -> dict:
    window = ["--event-time-start", first_day, "--event-time-end", end_day]
    return {
        (domain, f"{domain}_build"): {
            "plain_s": [["snapshot", "--select", f"{domain_selection(domain)},resource_type:snapshot"],
                        ["build", "--select", domain_selection(domain), "--exclude", "resource_type:snapshot", *window]],
            "best_plain_s": [["build", "--select", domain_selection(domain), *window]],
        }
        for domain in ("sales", "inventory")
    }


def bench_domains(landing: Path, repeat: int) -> dict:
    """Day 1's pipeline: the ingest job and each domain's one job for the day's partition, each
    launched through its code server as the daemon launches it, warm (the platform) and spawned
    (Dagster's own start), vs native loads and plain dbt on the same day (the same incremental
    work), and the sum end to end."""
    db = WORK / "warehouse.duckdb"
    env = bench_env(landing, db)
    # The plain path stamps _loaded_at and _export_date too: the dbt sources read them.
    load_all = native_load(landing, db, stamp="current_timestamp as _loaded_at")
    dbt_args_by_job = dbt_jobs(day_key(1), day_key(2))
    prepare_manifest_for(env)
    chain = [(location, job, day_key(1), day_key(1)) for location, job in DAILY_CHAIN]
    native_all = []
    jobs = {job: {path: [] for path in paths} for (_, job), paths in dbt_args_by_job.items()}
    runs = {contender: {job: [] for _, job in DAILY_CHAIN} for contender in ("warm", "spawned")}  # launch_run's figures
    with tempfile.TemporaryDirectory(dir=WORK) as folder:
        home = instance_home(Path(folder), LAUNCH_INSTANCE)
        with code_servers(env, home, warm=True) as warm, code_servers(env, home, warm=False) as spawned:
            # A code server starts its fork server at its first run: that run is not a warm one.
            first_warm = {job: warm(location, job, first, last) for location, job, first, last in chain}
            for _ in range(repeat):  # interleaved: drift hits every contender alike
                for launch, contender in ((warm, "warm"), (spawned, "spawned")):
                    runs[contender]["ingest_sources"].append(launch(*chain[0]))
                native_all.append(measure(load_all, env)[0])
                for location, job, first, last in chain[1:]:
                    for launch, contender in ((warm, "warm"), (spawned, "spawned")):
                        runs[contender][job].append(launch(location, job, first, last))
                    for path, commands in dbt_args_by_job[(location, job)].items():
                        jobs[job][path].append(sum(plain_dbt(args, env) for args in commands))
    run_s = {contender: {job: median([run["seconds"] for run in samples]) for job, samples in by_job.items()}
             for contender, by_job in runs.items()}
    figures = {"ingest_sources (all tables)": {"dagster_run_s": run_s["warm"]["ingest_sources"],
                                               "spawned_run_s": run_s["spawned"]["ingest_sources"],
                                               "plain_s": median(native_all), "best_plain_s": median(native_all)}}
    for job, samples in jobs.items():
        figures[job] = {"dagster_run_s": run_s["warm"][job], "spawned_run_s": run_s["spawned"][job],
                        **{name: median(values) for name, values in samples.items()}}
    figures["end to end (sum)"] = {key: sum(f[key] for f in figures.values())
                                   for key in ("dagster_run_s", "spawned_run_s", "plain_s", "best_plain_s")}
    figures["phases"] = {f"{job}, {contender}": {phase: median([run[phase] for run in samples]) for phase in ("start-up", "run")}
                         for contender, by_job in runs.items() for job, samples in by_job.items()}
    figures["phases"] |= {f"{job}, warm, first run": {phase: run[phase] for phase in ("start-up", "run")}
                          for job, run in first_warm.items()}
    return figures


def bench_patches(landing: Path, repeat: int) -> dict:
    """Day 1's domain jobs, each in a fresh process, with the dbt_startup patch (the platform) and
    without it (stock dagster-dbt: `dbt --version` before the build, an adapter loaded in the run),
    interleaved: what the patch saves a run. The warm_runs patch's figures are the domains section's."""
    from dataplatform.patches import PATCHES

    env = bench_env(landing, WORK / "warehouse.duckdb")
    prepare_manifest_for(env)
    without = ",".join(p.name for p in PATCHES if p.name != "dbt_startup")
    contenders = {"with dbt_startup": "all", "without (stock dagster-dbt)": without}
    first = day_key(1)
    run_job(*DAILY_CHAIN[0], first, first, env)  # the day's sources, once
    samples = {name: {job: [] for _, job in DAILY_CHAIN[1:]} for name in contenders}
    for _ in range(repeat):
        for location, job in DAILY_CHAIN[1:]:
            for name, switch in contenders.items():
                samples[name][job].append(run_job(location, job, first, first, {**env, "PLATFORM_PATCHES": switch}))
    return {name: {job: median(values) for job, values in by_job.items()} for name, by_job in samples.items()}


def report_domains(results: dict) -> None:
    if "domains" in results:
        print("\njob (launched through its code server)  warm run s  spawned s   today's plain s  ratio"
              "   best plain s  ratio (warm; spawned)")
        domains = dict(results["domains"])
        phases = domains.pop("phases")
        for job, r in domains.items():
            print(f"  {job:<36} {r['dagster_run_s']:10.2f}  {r['spawned_run_s']:9.2f}   {r['plain_s']:15.2f}"
                  f"  {r['dagster_run_s'] / r['plain_s']:5.2f}x   {r['best_plain_s']:12.2f}"
                  f"  {r['dagster_run_s'] / r['best_plain_s']:5.2f}x; {r['spawned_run_s'] / r['best_plain_s']:.2f}x")
        print("\nwhere a Dagster run's seconds go           start-up    run   (launch to start; start to success)")
        for name, p in phases.items():
            print(f"  {name:<40} {p['start-up']:8.2f} {p['run']:6.2f}")


def report_patches(results: dict) -> None:
    if "patches" in results:
        print("\na domain job's run in a fresh process (wall s)   " + "   ".join(results["patches"]))
        with_patch, without_patch = results["patches"].values()
        for job, seconds in with_patch.items():
            print(f"  {job:<44} {seconds:16.2f}   {without_patch[job]:27.2f}   (+{without_patch[job] - seconds:.2f} s without)")
