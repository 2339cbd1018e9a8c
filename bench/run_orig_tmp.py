"""Benchmarks: the platform against the plain tools it orchestrates, side by side in one run.

    uv run --group bench python bench/run.py --scale 1090    # ~10M order lines (see bench/README.md)
    uv run --group bench python bench/run.py --scale 112 --sections ingest,domains

Prints, for the same data on the same machine:
  * ingest: the shared_ingest asset vs DuckDB's native read_csv into a table (and vs dlt),
    time and peak memory, each in a fresh process, at --scale and at a tenth of it (memory
    should stay flat as the rows grow tenfold);
  * each domain's one Dagster run vs today's plain path (a snapshot and a build per domain) and
    the best plain path (one `dbt build` of the group);
  * end to end: the ingest job and every domain job vs native loads and plain dbt;
  * each code location's load time and RSS vs importing dagster_dbt and reading the manifest,
    on this project and on a generated one of --models models (with a profile of one load);
  * the whole platform's RSS (webserver, daemon, code servers) once every location is loaded;
  * history: the platform's day run on day 1 and on day N after N-1 days of history, against
    the full-rebuild path (every export reloaded, every model rebuilt) on the same days;
  * backfill: N days as one run per job (the backfill policy) against N one-day runs;
  * trigger: a domain trigger's tick with --trigger-days days of history, on both projects;
  * publishing: the dbt build with blue/green publishing against the same build in place, on
    the --scale day (every model built from nothing) and on day N of the history (incremental);
  * patches: day 1's domain jobs with the dbt_startup patch and without (stock dagster-dbt).
Every measurement runs in its own process; figures are medians of --repeat runs.
Nothing here is asserted: machines are noisy, compare the ratios.
"""

import argparse
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psutil
from dagster import DagsterInstance, DagsterRunStatus

from dataplatform.dbt.plan import domain_selection
from dataplatform.partitions import partition_range_tags
from dataplatform.settings import resolve_settings
from devsupport.chain import daily_chain
from devsupport.dbt import copy_dbt_project
from devsupport.environments import install_location, scrubbed_env
from devsupport.platform import Webserver, wait_for_locations
from devsupport.processes import free_port, listening, own_process_group, stop_group, wait_until

REPO = Path(__file__).resolve().parents[1]
DAILY_CHAIN = daily_chain()  # the example's: ingest, sales, inventory
WORK = REPO / "bench" / ".work"
# The dbt project the benchmarks run: a copy taken when they start, so that editing dbt/ while a
# long benchmark runs neither changes what it measures nor breaks it half-way.
PROJECT = WORK / "dbt"


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(code: str, env: dict, cwd: Path = REPO) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB, the process and its children, sampled every 20 ms) of a
    fresh Python process running ``code``."""
    # The log goes to a file: a run of many days logs more than a pipe holds, and would block on it.
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = psutil.Popen([sys.executable, "-c", code], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss(process))
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            log.seek(0)
            raise RuntimeError(f"benchmark step failed:\n{code}\n{log.read().decode(errors='replace')[-3000:]}")
    return seconds, peak / 2**20


def measure_command(args: list[str], env: dict, cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def median(samples: list) -> float:
    return statistics.median(samples)


# The plain path: DuckDB's read_csv of every landed export (the newest for a state table), into
# a fresh table, stamped as the ingest stamps (the dbt sources read _loaded_at and _export_date).
NATIVE_LOAD = """
import duckdb
from dataplatform.landing import landed_files
from shared_ingest.loading import loaded_partitions_ddl
from dataplatform.settings import resolve_settings
from shared_ingest.catalogue import load_catalogue
with duckdb.connect({db!r}) as con:
    for table in load_catalogue(resolve_settings().require_dbt_project()).loaded:
        if {tables!r} and table.qualified_name not in {tables!r}:
            continue
        files = landed_files({landing!r}, table)
        files = files[-1:] if table.history == "state" else files
        columns = "{{" + ", ".join(f"'{{c}}': '{{t}}'" for c, t in table.columns.items()) + "}}"
        export_date = ("cast(regexp_extract(filename, '([0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})[.]csv$', 1) as date) as _export_date"
                       if table.history == "events" and {stamp!r} else "")
        select = ", ".join(part for part in ["* exclude (filename)", {stamp!r}, export_date] if part)
        con.execute(f"create schema if not exists {{table.schema}}")
        con.execute(f"create or replace table {{table.schema}}.{{table.name}} as select {{select}} "
                    f"from read_csv({{files}}, header=true, auto_detect=false, columns={{columns}}, filename=true)")
        if export_date:  # the days loaded, as ingest records them (the `delivered` source test reads them)
            con.execute("create schema if not exists ingest_log")
            con.execute(loaded_partitions_ddl("ingest_log.loaded_partitions"))
            con.execute("delete from ingest_log.loaded_partitions where source_table = ?", [table.qualified_name])
            con.execute(f"insert into ingest_log.loaded_partitions select ?, _export_date, count(*), current_timestamp "
                        f"from {{table.schema}}.{{table.name}} group by _export_date", [table.qualified_name])
"""

# One job of a location in a fresh process (a run's cost: importing the location, then the job):
# a partitioned one for the days first..last in one run. The history and backfill sections use it.
JOB_RUN = """
import sys
from devsupport.chain import main
sys.exit(main([{location!r}, {job!r}, {first!r}, {last!r}]))
"""


def run_job(location: str, job: str, first: str, last: str, env: dict) -> float:
    """A job's run in a fresh process (``JOB_RUN``): its wall seconds."""
    return measure(JOB_RUN.format(location=location, job=job, first=first, last=last), env)[0]


# The instance of the code servers below: a launched run starts at once (no queue to wait in).
LAUNCH_INSTANCE = """telemetry: {enabled: false}
run_coordinator: {module: dagster._core.run_coordinator, class: DefaultRunCoordinator}
concurrency: {pools: {default_limit: 1}}
"""


def instance_home(home: Path, config: str) -> Path:
    """An instance home configured by ``config`` (a dagster.yaml's text), its storage created once,
    before the processes that share it race on it."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(config)
    with DagsterInstance.from_config(str(home)):
        pass
    return home


def start_code_servers(env: dict, log, workspace: Path, bin_dir_of, locations: list[str] | None = None,
                       cwd: Path = REPO) -> list[subprocess.Popen]:
    """One `dagster api grpc` per location (by default those of the daily chain), each from
    ``bin_dir_of(location)``, writing to ``log``; once every one listens, ``workspace`` names them
    all for the instance's processes (RuntimeError, naming the log, if one exits first)."""
    ports = {location: free_port() for location in (locations or [location for location, _ in DAILY_CHAIN])}
    processes = [subprocess.Popen([str(bin_dir_of(location) / "dagster"), "api", "grpc", "-m", f"{location}.definitions",
                                   "--location-name", location, "-h", "127.0.0.1", "-p", str(port)],
                                  env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=own_process_group)
                 for location, port in ports.items()]
    exited = lambda: any(process.poll() is not None for process in processes)
    wait_until(lambda: all(listening(port) for port in ports.values()) or exited(), "the code servers", timeout=900)
    if exited():
        for process in processes:
            stop_group(process)
        raise RuntimeError(f"a code server exited: see {log.name}")
    workspace.write_text(json.dumps({"load_from": [
        {"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": location}} for location, port in ports.items()]}))
    return processes


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


ASSET_LOAD = """
from dagster import materialize
from dataplatform.landing import LandingZone
from shared_ingest.assets import build_ingest_asset
from shared_ingest.duckdb_loader import DuckDBLoader
from dataplatform.settings import resolve_settings
from shared_ingest.catalogue import load_catalogue
table = load_catalogue(resolve_settings().require_dbt_project()).get("shop", "order_items")
result = materialize([build_ingest_asset(table)], partition_key={day!r},
                     resources={{"landing": LandingZone(root={landing!r}), "warehouse": DuckDBLoader(database={db!r})}})
assert result.success
"""

DLT_LOAD = """
import os
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
import dlt, pyarrow.csv as pv
from dataplatform.settings import resolve_settings
from shared_ingest.catalogue import load_catalogue
from dataplatform.landing import files_to_load

@dlt.resource(name="order_items", write_disposition="replace")
def order_items():
    for path in files_to_load({landing!r}, load_catalogue(resolve_settings().require_dbt_project()).get("shop", "order_items")):
        yield pv.read_csv(path)

pipeline = dlt.pipeline(pipeline_name="bench", destination=dlt.destinations.duckdb({db!r}),
                        dataset_name="raw_shop_dlt", pipelines_dir={pipelines!r})
pipeline.run(order_items())
"""

LOAD_LOCATION = """
import importlib
importlib.import_module("{location}.definitions").defs()
"""

LOAD_BASELINE = """
import json, dagster_dbt
json.loads(open({manifest!r}).read())
"""


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


SECTIONS = ("ingest", "domains", "load", "large", "platform", "history", "backfill", "publishing", "trigger", "patches",
            "latency", "organisation", "scaling")


def day_key(day: int) -> str:
    from sourcesim.days import day_date

    return day_date(day).isoformat()


def _order_items():
    from sourcesim.generator import SIMULATED_TABLES

    return next(t for t in SIMULATED_TABLES if (t.source, t.name) == ("shop", "order_items"))


def _generate(landing: Path, day: int, scale: float) -> None:
    from sourcesim.generator import generate_day

    generate_day(str(landing), day, scale=scale)


def _order_items_file(landing: Path, day: int) -> Path:
    from datetime import date

    from dataplatform.landing import day_file

    return Path(day_file(str(landing), _order_items(), date.fromisoformat(day_key(day))))


def landing_for(scale: float, days: int = 1, name: str = "landing") -> Path:
    """Days 1..days of the example's simulated sources at a scale, generated once and kept under bench/.work."""
    landing = WORK / f"{name}-{scale:g}"
    for day in range(1, days + 1):
        if not _order_items_file(landing, day).is_file():
            print(f"generating day {day} at scale {scale:g} into {landing}", flush=True)
            _generate(landing, day, scale)
    return landing


def order_lines(landing: Path, day: int = 1) -> int:
    with open(_order_items_file(landing, day)) as file:
        return sum(1 for _ in file) - 1


def bench_env(landing: Path, db: Path, **extra: str) -> dict:
    """Dev settings on ``db`` and ``landing``, and nothing of the machine's platform variables."""
    env = scrubbed_env(PLATFORM_LOCAL_DIR=str(WORK), LANDING_ROOT=str(landing), DUCKDB_PATH=str(db),
                       DBT_PROJECT_DIR=str(PROJECT), PLATFORM_SCHEDULES="stopped", RUNTIME__DLTHUB_TELEMETRY="false") | extra
    return env | resolve_settings(env).dbt_env()  # the calendar and warehouse that plain dbt reads too


def bench_ingest(scale: float, repeat: int, with_dlt: bool) -> dict:
    """Day 1's ``shop.order_items`` at ``scale`` and at a tenth of it, each load into a fresh
    warehouse: native read_csv into a table vs the ingest asset's partition load (vs dlt)."""
    figures = {}
    for at in (scale / 10, scale):
        landing = landing_for(at)
        db = WORK / f"ingest-{at:g}.duckdb"
        env = bench_env(landing, db)
        fmt = dict(landing=str(landing), db=str(db), pipelines=str(WORK / "dlt"), tables=["shop.order_items"], stamp="",
                   day=day_key(1))
        contenders = {"native read_csv": NATIVE_LOAD, "ingest asset": ASSET_LOAD}
        if with_dlt and at < scale:  # dlt is measured at the small scale only: it is not the ingest path
            contenders["dlt (arrow)"] = DLT_LOAD
        samples = {name: [] for name in contenders}
        for _ in range(repeat):
            for name, code in contenders.items():  # interleaved, so drift hits every contender alike
                remove_database(db)
                samples[name].append(measure(code.format(**fmt), env))
        figures[f"{order_lines(landing):,} rows"] = {
            name: {"seconds": median([s for s, _ in runs]), "peak_rss_mb": median([m for _, m in runs])}
            for name, runs in samples.items()
        }
        remove_database(db)
    return figures


def remove_database(db: Path) -> None:
    for path in (db, db.with_name(db.name + ".wal"), db.with_name(db.name + ".tmp")):
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


DBT = [str(Path(sys.executable).parent / "dbt")]


def plain_dbt(args: list[str], env: dict) -> float:
    """A plain dbt command, with a target folder of its own: it must not overwrite the platform's
    ``partial_parse.msgpack`` with one for another warehouse (the platform would parse again)."""
    target = WORK / f"plain-target-{Path(env['DUCKDB_PATH']).stem}"
    return measure_command([*DBT, *args, "--target", "dev", "--profiles-dir", ".", "--target-path", str(target)],
                           env, PROJECT)


def prepare_manifest_for(env: dict) -> None:
    """Parse once for a warehouse before timing runs on it, as the platform does when it starts."""
    subprocess.run([sys.executable, "-m", "dataplatform.dbt.project", "prepare"], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def bench_domains(landing: Path, repeat: int) -> dict:
    """Day 1's pipeline: the ingest job and each domain's one job for the day's partition, each
    launched through its code server as the daemon launches it, warm (the platform) and spawned
    (Dagster's own start), vs native loads and plain dbt on the same day (the same incremental
    work), and the sum end to end."""
    db = WORK / "warehouse.duckdb"
    env = bench_env(landing, db)
    # The plain path stamps _loaded_at and _export_date too: the dbt sources read them.
    fmt = dict(landing=str(landing), db=str(db), tables=[], stamp="current_timestamp as _loaded_at")
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
                native_all.append(measure(NATIVE_LOAD.format(**fmt), env)[0])
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


def platform_days(env: dict, first: int, last: int) -> dict[str, float]:
    """The daily chain for days first..last, one run per job, each in a fresh process: seconds by job."""
    prepare_manifest_for(env)
    return {job: run_job(location, job, day_key(first), day_key(last), env) for location, job in DAILY_CHAIN}


def full_rebuild(env: dict, landing: Path, db: Path, days: int) -> dict[str, float]:
    """The path before partitions: every landed export loaded again, then every snapshot and model
    rebuilt from all of history (``dbt build --full-refresh`` over every day landed)."""
    fmt = dict(landing=str(landing), db=str(db), tables=[], stamp="current_timestamp as _loaded_at")
    return {
        "load every export": measure(NATIVE_LOAD.format(**fmt), env)[0],
        "dbt snapshot": plain_dbt(["snapshot"], env),
        "dbt build --full-refresh": plain_dbt(["build", "--exclude", "resource_type:snapshot", "--full-refresh",
                                              "--event-time-start", day_key(1), "--event-time-end", day_key(days + 1)], env),
    }


# One domain's trigger tick on an instance holding `days` days of history: every input and every
# reader of an input materialized for each day, the newest day's inputs only (one day to start).
TRIGGER_TICK = """
import json, statistics, tempfile, time
from dagster import AssetMaterialization, DagsterInstance, build_sensor_context
import importlib
from dataplatform.dbt.plan import plan_domain
from dataplatform.partitions import daily_partitions

repo = importlib.import_module("{domain}.definitions").defs().get_repository_def()
sensor = repo.get_sensor_def("{domain}_on_new_data")
plan = plan_domain(json.load(open({manifest!r})), "{domain}", "0 7 * * *")
days = daily_partitions().get_partition_keys()[:{days}]
readers = sorted({{r for i in plan.inputs for r in i.readers}}, key=str)
with tempfile.TemporaryDirectory() as home, DagsterInstance.local_temp(home) as instance:
    started = time.perf_counter()
    for day in days:
        for key in [i.key for i in plan.inputs] + (readers if day != days[-1] else []):
            instance.report_runless_asset_event(AssetMaterialization(key, partition=day))
    filled = time.perf_counter() - started
    ticks = []
    for _ in range(5):
        context = build_sensor_context(instance=instance, repository_def=repo)
        started = time.perf_counter()
        data = sensor.evaluate_tick(context)
        ticks.append(time.perf_counter() - started)
    assert [r.partition_key for r in data.run_requests] == [days[-1]], data.run_requests
    print(json.dumps({{"tick_s": statistics.median(ticks), "inputs": len(plan.inputs), "readers": len(readers),
                      "assets": len(plan.assets), "events": len(days) * (len(plan.inputs) + len(readers)),
                      "fill_s": filled}}))
"""


def bench_trigger(large: Path, days: int) -> dict:
    """The sales trigger's tick time with ``days`` days of history, on this project and on the
    generated one (its sales group holds most of the generated models)."""
    figures = {}
    for name, project in (("this project", PROJECT), (f"generated project ({large.name})", large)):
        env = {**bench_env(WORK, WORK / "trigger.duckdb"), "DBT_PROJECT_DIR": str(project),
               "PLATFORM_PARTITIONS_START": "2025-01-01"}  # more than `days` partitions
        prepare_manifest_for(env)
        out = subprocess.run([sys.executable, "-c", TRIGGER_TICK.format(manifest=str(project / "target" / "manifest.json"),
                                                                        days=days, domain="sales")],
                             env=env, cwd=REPO, capture_output=True, text=True, check=True).stdout
        figures[name] = json.loads(out.strip().splitlines()[-1])
    return figures


def bench_history(scale: float, days: int) -> dict:
    """Day 1, then day N after N-1 days of history, at the same daily volume: the platform's daily
    chain (partitions, incremental models) against the full-rebuild path, each on its own warehouse."""
    landing = landing_for(scale, days, name="history")
    day_one = WORK / "history-day-1"  # what had landed on day 1: day 1's files alone
    shutil.rmtree(day_one, ignore_errors=True)
    for path in landing.glob(f"*/*/{day_key(1)}.csv"):
        (day_one / path.relative_to(landing)).parent.mkdir(parents=True, exist_ok=True)
        os.link(path, day_one / path.relative_to(landing))
    platform_db, full_db = WORK / "history-platform.duckdb", WORK / "history-full.duckdb"
    for db in (platform_db, full_db):
        db.unlink(missing_ok=True)
    figures = {"order_lines_per_day": order_lines(landing), "days": days}
    print("history: day 1 ...", flush=True)
    figures["platform day 1"] = platform_days(bench_env(day_one, platform_db), 1, 1)
    figures["full rebuild day 1"] = full_rebuild(bench_env(day_one, full_db), day_one, full_db, 1)
    platform_env, full_env = bench_env(landing, platform_db), bench_env(landing, full_db)
    print(f"history: days 2..{days - 1} as one backfill ...", flush=True)
    figures[f"platform backfill of days 2..{days - 1}"] = platform_days(platform_env, 2, days - 1)
    print(f"history: day {days} ...", flush=True)
    figures[f"platform day {days}"] = platform_days(platform_env, days, days)
    figures[f"full rebuild day {days}"] = full_rebuild(full_env, landing, full_db, days)
    return figures


def bench_backfill(scale: float, days: int) -> dict:
    """Days 1..N on an empty warehouse: one run per job for the whole range (BackfillPolicy.single_run,
    what a backfill from the UI launches) against N runs per job, one a day."""
    landing = landing_for(scale, days, name="backfill")
    figures = {"order_lines_per_day": order_lines(landing), "days": days}
    for name, ranges in (("one run per job", [(1, days)]), ("one run per job and day", [(d, d) for d in range(1, days + 1)])):
        db = WORK / "backfill.duckdb"
        db.unlink(missing_ok=True)
        env = bench_env(landing, db)
        print(f"backfill: {name} ...", flush=True)
        started = time.perf_counter()
        for first, last in ranges:
            platform_days(env, first, last)
        figures[name] = time.perf_counter() - started
    return figures


# The two ways to build, and the warehouse each runs on: its own name, so its own target folder
# and partial parse (a change of --vars would make dbt parse again).
PUBLISHING = {
    "blue/green": ([], WORK / "publish-blue-green.duckdb"),
    "in place": (["--vars", "{blue_green: false}"], WORK / "publish-in-place.duckdb"),  # no blue, no promotion
}


def publishing_overhead(base: Path, window: list[str], repeat: int) -> dict:
    """``dbt build`` of every domain model for ``window`` with blue/green publishing against the
    same build in place, each run on a fresh copy of ``base``, interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in PUBLISHING}
    for extra, db in PUBLISHING.values():  # one untimed parse each
        plain_dbt(["parse", *extra], bench_env(WORK, db))
    for _ in range(repeat):
        for name, (extra, db) in PUBLISHING.items():
            remove_database(db)
            shutil.copyfile(base, db)
            samples[name].append(plain_dbt(["build", "--exclude", "resource_type:snapshot", *window, *extra],
                                           bench_env(WORK, db)))
            remove_database(db)
    return {name: median(runs) for name, runs in samples.items()}


def bench_publishing(scale: float, history_scale: float, days: int, repeat: int) -> dict:
    """The cost of blue/green publishing. On the --scale day: a warehouse with day 1 loaded and
    nothing built, so every model is built from nothing. On day N of the history: days 1..N loaded
    and 1..N-1 built as the daily schedule leaves them, so day N's build is incremental and
    blue/green first copies day N-1 back into each incremental mart's blue."""
    figures = {}
    landing = landing_for(scale)
    base = WORK / "publish-base.duckdb"
    remove_database(base)
    measure(NATIVE_LOAD.format(landing=str(landing), db=str(base), tables=[], stamp="current_timestamp as _loaded_at"),
            bench_env(landing, base))
    plain_dbt(["snapshot"], bench_env(landing, base))  # the marts read the snapshots, which are built in place
    print("publishing: the day's build from nothing ...", flush=True)
    figures[f"build of day 1, {order_lines(landing):,} order lines"] = publishing_overhead(
        base, ["--event-time-start", day_key(1), "--event-time-end", day_key(2)], repeat)

    history = landing_for(history_scale, days, name="history")
    remove_database(base)
    env = bench_env(history, base)
    measure(NATIVE_LOAD.format(landing=str(history), db=str(base), tables=[], stamp="current_timestamp as _loaded_at"), env)
    plain_dbt(["snapshot"], env)
    # The state a daily schedule leaves: days 1..N-2 built, then day N-1 built and published, so
    # each incremental mart's blue is its previous green, behind by day N-1 (`run`, not `build`:
    # a reconciliation test over every raw day would fail on a warehouse one day behind the landing).
    print(f"publishing: days 1..{days - 1} built with blue/green ...", flush=True)
    for first, end in ((1, days - 1), (days - 1, days)):
        plain_dbt(["run", "--exclude", "resource_type:snapshot", "--event-time-start", day_key(first),
                   "--event-time-end", day_key(end)], env)
    print(f"publishing: day {days}'s incremental build ...", flush=True)
    figures[f"incremental build of day {days}, {order_lines(history):,} order lines a day"] = publishing_overhead(
        base, ["--event-time-start", day_key(days), "--event-time-end", day_key(days + 1)], repeat)
    remove_database(base)
    return figures


def bench_load(env: dict, project: Path, repeat: int, profile_to: Path | None = None) -> dict:
    """Each location built in a fresh interpreter vs the floor (import dagster_dbt + read the manifest)."""
    env = {**env, "DBT_PROJECT_DIR": str(project)}
    prepare_manifest_for(env)
    manifest = project / "target" / "manifest.json"
    models = sum(1 for node in json.loads(manifest.read_text())["nodes"].values() if node["resource_type"] == "model")
    floor = [measure(LOAD_BASELINE.format(manifest=str(manifest)), env) for _ in range(repeat)]
    figures = {"models": models, "floor (import dagster_dbt + read manifest)": {
        "seconds": median([s for s, _ in floor]), "peak_rss_mb": median([m for _, m in floor])}}
    for location in ("shared_ingest", "sales", "inventory"):
        runs = [measure(LOAD_LOCATION.format(location=location), env) for _ in range(repeat)]
        figures[location] = {"seconds": median([s for s, _ in runs]), "peak_rss_mb": median([m for _, m in runs])}
    if profile_to is not None:
        code = (f"import cProfile; cProfile.run({LOAD_LOCATION.format(location='sales').strip()!r}, "
                f"{str(profile_to)!r})")
        subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL)
    return figures


def profile_summary(path: Path, limit: int = 18) -> str:
    """The functions a location load spends its time in, by cumulative time."""
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("cumulative").print_stats(r"(dataplatform|dagster_dbt|dagster/_core/(definitions|remote))", limit)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ncalls"))
    return "\n".join(lines[start:start + limit + 1])


def start_dg_dev(env: dict, port: int, local: Path, root: Path = REPO) -> list[subprocess.Popen]:
    """`python3 tasks.py up` after its sync: prepare, then `dg dev` (a dev process that starts a
    proxy per location, which starts the location's code server; the webserver; the daemon)."""
    return [subprocess.Popen([sys.executable, str(root / "tasks.py"), "serve", "--port", str(port)], env=env,
                             cwd=root, stdout=open(local / "platform.log", "wb"), stderr=subprocess.STDOUT,
                             preexec_fn=own_process_group)]


def start_one_process_per_location(env: dict, port: int, local: Path, root: Path = REPO,
                                   own_environments: bool = True) -> list[subprocess.Popen]:
    """The deployed shape (the Helm chart's user deployments run `dagster api grpc`): one code
    server process per location, each from its own environment as its image has it (or, with
    ``own_environments`` off, this one: the same modules, so the same memory), and the
    webserver and daemon (the platform image: this environment) reading them over gRPC."""
    from devsupport.workspace import locations

    home = instance_home(local / "dagster_home", (REPO / "deploy" / "dev" / "dagster.yaml").read_text())
    env = {**env, "DAGSTER_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "dataplatform.dbt.project", "prepare"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    bin_dir, log = Path(sys.executable).parent, open(local / "platform.log", "wb")
    workspace = local / "workspace.grpc.yaml"
    bin_dir_of = ((lambda location: install_location(location, WORK / "venvs" / location)) if own_environments
                  else (lambda _location: bin_dir))
    processes = start_code_servers(env, log, workspace, bin_dir_of, [loc.name for loc in locations(root)], cwd=root)
    start = lambda args: subprocess.Popen(args, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                          preexec_fn=own_process_group)
    processes.append(start([str(bin_dir / "dagster-daemon"), "run", "-w", str(workspace)]))
    processes.append(start([str(bin_dir / "dagster-webserver"), "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)]))
    return processes


def platform_rss(env: dict, start, seconds: float = 20, timeout: float = 900, count: int | None = None) -> dict:
    """Start the platform (``start``), wait until the webserver lists every location as loaded,
    then sample the RSS of every process it runs for ``seconds``."""
    port = free_port()
    local = WORK / "platform"
    shutil.rmtree(local, ignore_errors=True)
    local.mkdir(parents=True)
    env = {**env, "PLATFORM_LOCAL_DIR": str(local), "PLATFORM_SCHEDULES": "stopped"}
    started = time.perf_counter()
    processes = start(env, port, local)
    try:
        wait_for_locations(f"http://127.0.0.1:{port}", processes, local / "platform.log", timeout, errors_count=False,
                           **({"count": count} if count else {}))
        ready = time.perf_counter() - started
        peak, by_role = 0, {}
        until = time.perf_counter() + seconds
        watched = [psutil.Process(p.pid) for p in processes]
        while time.perf_counter() < until:
            total = sum(tree_rss(p) for p in watched)
            if total > peak:
                peak, by_role = total, rss_by_role(watched)
            time.sleep(0.5)
        return {"ready_s": ready, "peak_rss_mb": peak / 2**20, "by_role_mb": by_role}
    finally:
        for process in reversed(processes):
            stop_group(process)


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


def bench_organisation(domain_count: int, models: int, days: int = 2, loads: bool = True) -> dict:
    """An organisation's workspace (bench/make_organisation.py: ``domain_count`` domains reading
    each other in a chain, ``models`` models): the manifest's preparation (the slices included);
    each location's load in a fresh interpreter (seconds, peak RSS) against two floors (import
    dagster_dbt; that and read the whole manifest); the triggers' tick with a year of history; the
    whole platform's RSS as deployed (a code server per location) and under `dg dev` (all of it
    only with ``loads``); and a "Materialize all" of ``days`` days (runs per location, wall time)."""
    from make_organisation import make_organisation, pythonpath

    root = WORK / "organisation"
    shutil.rmtree(root, ignore_errors=True)
    make_organisation(root, domain_count, models)
    env = scrubbed_env(PLATFORM_LOCAL_DIR=str(root / ".local"), DBT_PROJECT_DIR=str(root / "dbt"),
                       PYTHONPATH=pythonpath(root), PLATFORM_SCHEDULES="stopped")
    started = time.perf_counter()
    prepare_manifest_for(env)
    manifest = root / "dbt" / "target" / "manifest.json"
    nodes = json.loads(manifest.read_text())["nodes"].values()
    figures: dict = {"domains": domain_count, "days": days, "models": sum(n["resource_type"] == "model" for n in nodes),
                     "manifest_mb": manifest.stat().st_size / 2**20, "prepare_s": time.perf_counter() - started,
                     "locations": {}}
    if loads:
        measure_locations(figures, root, env, manifest, nodes)
    if days:
        figures["materialize_all"] = materialize_all_days(root, env, days)
        print(f"  Materialize all of {days} days: {figures['materialize_all']}", flush=True)
    return figures


def bench_scaling(domain_counts: list[int], per_domain: int, repeat: int) -> dict:
    """The same domain's location (sales, ``per_domain`` models) as the project around it grows:
    an organisation of each of ``domain_counts`` domains (``per_domain`` models each), its manifest
    prepared, sales' location and the organisation's last domain's loaded ``repeat`` times each in a
    fresh interpreter (median seconds, median peak RSS). A location should cost its own slice."""
    from make_organisation import make_organisation, pythonpath

    from devsupport.workspace import locations

    figures = {}
    for count in domain_counts:
        root = WORK / f"organisation-{count}"
        shutil.rmtree(root, ignore_errors=True)
        make_organisation(root, count, per_domain * count)
        env = scrubbed_env(PLATFORM_LOCAL_DIR=str(root / ".local"), DBT_PROJECT_DIR=str(root / "dbt"),
                           PYTHONPATH=pythonpath(root), PLATFORM_SCHEDULES="stopped")
        prepare_manifest_for(env)
        nodes = json.loads((root / "dbt" / "target" / "manifest.json").read_text())["nodes"].values()
        project = {"models": sum(n["resource_type"] == "model" for n in nodes), "locations": len(locations(root))}
        for name in ("sales", [loc.name for loc in locations(root)][-1]):
            loads = [measure(LOAD_LOCATION.format(location=name), env, cwd=root) for _ in range(repeat)]
            project[name] = {"seconds": statistics.median(s for s, _ in loads), "peak_rss_mb": statistics.median(r for _, r in loads),
                             "models": sum(n["resource_type"] == "model" and n["config"].get("group") == name for n in nodes)}
        figures[project["models"]] = project
        print(f"  {project['models']} models, {project['locations']} locations: "
              + ", ".join(f"{k} {v['models']} models {v['seconds']:.1f} s {v['peak_rss_mb']:.0f} MB"
                          for k, v in project.items() if isinstance(v, dict)), flush=True)
        shutil.rmtree(root, ignore_errors=True)
    return figures


def measure_locations(figures: dict, root: Path, env: dict, manifest: Path, nodes) -> None:
    """The organisation's loads, triggers and RSS (bench_organisation), into ``figures``."""
    from dataplatform.dbt.slices import slice_path
    from devsupport.workspace import locations

    figures["floor"] = dict(zip(("seconds", "peak_rss_mb"), measure(LOAD_BASELINE.format(manifest=str(manifest)), env),
                                strict=True))
    figures["import floor"] = dict(zip(("seconds", "peak_rss_mb"), measure(IMPORT_FLOOR, env), strict=True))
    for location in locations(root):
        seconds, rss = measure(LOAD_LOCATION.format(location=location.name), env, cwd=root)
        owned = sum(n["resource_type"] == "model" and n["config"].get("group") == location.name for n in nodes)
        sliced = slice_path(manifest, location.name)
        figures["locations"][location.name] = {"models": owned, "seconds": seconds, "peak_rss_mb": rss,
                                               "slice_mb": sliced.stat().st_size / 2**20 if sliced.is_file() else 0}
        print(f"  {location.name}: {owned} models, {seconds:.1f} s, {rss:.0f} MB", flush=True)
    last = [loc.name for loc in locations(root)][-1]
    figures["trigger"] = {name: trigger_tick(env, root, name, 365) for name in ("sales", last)}
    print(f"  trigger ticks: {figures['trigger']}", flush=True)
    count = len(locations(root))
    figures["deployed"] = platform_rss(env, lambda e, port, local: start_one_process_per_location(
        e, port, local, root, own_environments=False), count=count)
    print(f"  as deployed: {figures['deployed']}", flush=True)
    figures["dg dev"] = platform_rss(env, lambda e, port, local: start_dg_dev(e, port, local, root), count=count)
    print(f"  under dg dev: {figures['dg dev']}", flush=True)


IMPORT_FLOOR = """
import dagster, dagster_dbt, dbt.graph.selector
"""


def trigger_tick(env: dict, root: Path, domain: str, days: int) -> dict:
    """``domain``'s trigger's tick with ``days`` days of its inputs materialized (TRIGGER_TICK)."""
    env = {**env, "PLATFORM_PARTITIONS_START": "2025-01-01"}  # more than `days` partitions
    manifest = root / "dbt" / "target" / "manifest.json"
    out = subprocess.run([sys.executable, "-c", TRIGGER_TICK.format(manifest=str(manifest), days=days, domain=domain)],
                         env=env, cwd=root, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def materialize_all_days(root: Path, env: dict, days: int) -> dict:
    """`tasks.py up` in ``root`` with ``days`` days landed, then "Materialize all" of them, as the
    UI launches it: its runs per location and its wall time."""
    from datetime import UTC, datetime, timedelta

    from devsupport.workspace import locations

    local = WORK / "organisation-days"
    shutil.rmtree(local, ignore_errors=True)
    local.mkdir(parents=True)
    first = datetime.now(UTC).date() - timedelta(days=days)
    (local / "partitions_start").write_text(f"{first}\n")
    env = {**env, "PLATFORM_LOCAL_DIR": str(local), "PLATFORM_SCHEDULES": "stopped"}
    port = free_port()
    web = Webserver(f"http://127.0.0.1:{port}")
    [process] = start_dg_dev(env, port, local, root)
    try:
        wait_for_locations(web.url, [process], local / "platform.log", 900, count=len(locations(root)), errors_count=False)
        with DagsterInstance.from_config(str(local / "dagster_home")) as instance:
            backfill_id = web.materialize_all([(first + timedelta(days=k)).isoformat() for k in range(days)])
            launched = time.time()
            runs = wait_until(lambda: _backfill_done(instance, backfill_id), "the Materialize all", 3600)
            figures = _backfill_latency(runs, launched)
            figures["runs_per_location"] = {}
            for record in runs:
                name = record.dagster_run.remote_job_origin.location_name
                figures["runs_per_location"][name] = figures["runs_per_location"].get(name, 0) + 1
            figures["backfill_status"] = instance.get_backfill(backfill_id).status.value
    finally:
        stop_group(process)
    return figures


def rss_by_role(processes: list[psutil.Process]) -> dict[str, float]:
    """RSS (MB) of the platform's processes by what they are: dev server, webserver, daemon, code
    server proxies (`code-server start`) and code servers (`api grpc`)."""
    roles: dict[str, float] = {}
    for child in [c for p in processes for c in [p, *p.children(recursive=True)]]:
        try:
            cmdline = " ".join(child.cmdline())
            rss = child.memory_info().rss / 2**20
        except psutil.Error:
            continue
        role = next((name for name in ("dagster_webserver", "dagster-webserver", "dagster._daemon", "dagster-daemon",
                                       "code-server", "api grpc", "dg dev") if name in cmdline), "other")
        roles[role] = roles.get(role, 0) + rss
    return roles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1090.0, help="1090 gives about 10M order lines, 112 about 1M")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", type=int, default=2000, help="models of the generated large dbt project")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    parser.add_argument("--skip-dlt", action="store_true")
    parser.add_argument("--history-scale", type=float, default=112.0, help="history: about 1M order lines a day")
    parser.add_argument("--history-days", type=int, default=30)
    parser.add_argument("--backfill-scale", type=float, default=11.0, help="backfill: about 100k order lines a day")
    parser.add_argument("--backfill-days", type=int, default=30)
    parser.add_argument("--trigger-days", type=int, default=365, help="trigger: days of history on the instance")
    parser.add_argument("--scaling-domains", default="2,5,10", help="scaling: the organisations' domain counts")
    parser.add_argument("--scaling-models", type=int, default=500, help="scaling: models per domain")
    parser.add_argument("--org-domains", type=int, default=10, help="organisation: domains of the generated workspace")
    parser.add_argument("--org-models", type=int, default=5000, help="organisation: its generated models")
    parser.add_argument("--org-days", type=int, default=2, help='organisation: the days of its "Materialize all" (0: none)')
    parser.add_argument("--org-skip-loads", action="store_true",
                        help='organisation: its "Materialize all" only, not the loads, triggers and RSS')
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    if unknown := sections - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    WORK.mkdir(parents=True, exist_ok=True)
    copy_dbt_project(PROJECT)
    results: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                                f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}",
                     "scale": args.scale}
    needs_day_1 = sections & {"ingest", "domains", "load", "large", "platform", "patches"}
    landing = landing_for(args.scale) if needs_day_1 else WORK / f"landing-{args.scale:g}"
    results["order_lines"] = order_lines(landing) if needs_day_1 else 0
    if needs_day_1:
        print(f"{results['order_lines']:,} order lines at scale {args.scale:g}", flush=True)
    env = bench_env(landing, WORK / "warehouse.duckdb")

    if "ingest" in sections:
        print("ingest ...", flush=True)
        results["ingest"] = bench_ingest(args.scale, args.repeat, not args.skip_dlt)
    if "domains" in sections:
        print("domain jobs and end to end ...", flush=True)
        results["domains"] = bench_domains(landing, args.repeat)
    if "load" in sections:
        print("location load, this project ...", flush=True)
        results["load"] = bench_load(env, PROJECT, args.repeat)
    large = WORK / "large_project"
    if "large" in sections or "platform" in sections or "trigger" in sections:
        from make_large_project import make_large_project

        make_large_project(large, args.models)
    if "large" in sections:
        print(f"location load, a generated project of {args.models} models ...", flush=True)
        results["load_large"] = bench_load(env, large, args.repeat, profile_to=WORK / "load_sales.prof")
        results["load_large_profile"] = profile_summary(WORK / "load_sales.prof")
    if "platform" in sections:
        print("whole platform RSS ...", flush=True)
        results["platform"] = {
            f"{project}, {shape}": platform_rss({**env, **project_env}, start)
            for project, project_env in (("this project", {}), (f"{args.models}-model project", {"DBT_PROJECT_DIR": str(large)}))
            for shape, start in (("dg dev (tasks.py up)", start_dg_dev),
                                 ("one process per location (as deployed)", start_one_process_per_location))
        }

    if "trigger" in sections:
        print(f"trigger tick at {args.trigger_days} days ...", flush=True)
        results["trigger"] = bench_trigger(large, args.trigger_days)
    if "backfill" in sections:
        results["backfill"] = bench_backfill(args.backfill_scale, args.backfill_days)
    if "history" in sections:
        results["history"] = bench_history(args.history_scale, args.history_days)

    if "patches" in sections:
        print("the dbt_startup patch ...", flush=True)
        results["patches"] = bench_patches(landing, args.repeat)
    if "publishing" in sections:
        results["publishing"] = bench_publishing(args.scale, args.history_scale, args.history_days, args.repeat)
    if "organisation" in sections:
        print(f"an organisation: {args.org_domains} domains, {args.org_models} models ...", flush=True)
        results["organisation"] = bench_organisation(args.org_domains, args.org_models, args.org_days,
                                                     loads=not args.org_skip_loads)
    if "scaling" in sections:
        counts = [int(n) for n in args.scaling_domains.split(",")]
        print(f"a domain's location as the project grows to {counts} domains of {args.scaling_models} models ...", flush=True)
        results["scaling"] = bench_scaling(counts, args.scaling_models, args.repeat)
    if "latency" in sections:
        print(f"a day's latency through the example's domains, {args.repeat} day(s) ...", flush=True)
        results["latency"] = {"the example": bench_latency(args.repeat)}
        print(f"a day's latency through a chain of three domains, {args.repeat} day(s) ...", flush=True)
        results["latency"]["a chain three deep"] = bench_chain_latency(args.repeat)

    report(results)
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nraw figures: {WORK / 'results.json'}")


def report(results: dict) -> None:
    day_1 = f"; scale {results['scale']:g}, {results['order_lines']:,} order lines" if results["order_lines"] else ""
    print(f"\nmachine: {results['machine']}{day_1}")
    for rows, contenders in results.get("ingest", {}).items():
        native = contenders["native read_csv"]
        print(f"\ningest shop.order_items, {rows:<16} seconds   peak RSS MB   throughput vs native")
        for name, r in contenders.items():
            print(f"  {name:<32} {r['seconds']:8.2f}   {r['peak_rss_mb']:11.0f}   {native['seconds'] / r['seconds']:6.2f}x")
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
    for key, title in (("load", "this project"), ("load_large", "the generated project")):
        if key in results:
            load = dict(results[key])
            print(f"\ncode location load (fresh interpreter), {title}, {load.pop('models')} models")
            floor = load["floor (import dagster_dbt + read manifest)"]["seconds"]
            for name, r in load.items():
                print(f"  {name:<46} {r['seconds']:7.2f} s  {r['peak_rss_mb']:6.0f} MB  {r['seconds'] / floor:5.2f}x floor")
    if "load_large_profile" in results:
        print("\nprofile of the sales location load (generated project), by cumulative time:")
        print(results["load_large_profile"])
    for name, r in results.get("platform", {}).items():
        roles = ", ".join(f"{role} {mb:.0f}" for role, mb in sorted(r["by_role_mb"].items()))
        print(f"\nwhole platform, {name}: {r['peak_rss_mb']:.0f} MB RSS once loaded ({r['ready_s']:.0f} s to load); MB by role: {roles}")
    if "backfill" in results:
        b = results["backfill"]
        single, daily = b["one run per job"], b["one run per job and day"]
        print(f"\nbackfill of {b['days']} days ({b['order_lines_per_day']:,} order lines a day) on an empty warehouse:"
              f"\n  one run per job {single:.1f} s, one run per job and day {daily:.1f} s: {daily / single:.1f}x faster in one run")
    for name, r in results.get("trigger", {}).items():
        print(f"\ntrigger tick (sales_on_new_data), {name}: {r['tick_s'] * 1000:.0f} ms with {r['events']:,} "
              f"materializations ({r['inputs']} inputs, {r['readers']} readers, {r['assets']} assets)")
    if "patches" in results:
        print("\na domain job's run in a fresh process (wall s)   " + "   ".join(results["patches"]))
        with_patch, without_patch = results["patches"].values()
        for job, seconds in with_patch.items():
            print(f"  {job:<44} {seconds:16.2f}   {without_patch[job]:27.2f}   (+{without_patch[job] - seconds:.2f} s without)")
    if "organisation" in results:
        r = results["organisation"]
        print(f"\nan organisation: {r['domains']} domains, {r['models']:,} models, manifest {r['manifest_mb']:.0f} MB "
              f"(prepared in {r['prepare_s']:.0f} s)")
    if "organisation" in results and "floor" in results["organisation"]:
        r = results["organisation"]
        print(f"  floors: import dagster_dbt {r['import floor']['seconds']:.1f} s, "
              f"{r['import floor']['peak_rss_mb']:.0f} MB; and read the whole manifest {r['floor']['seconds']:.1f} s, "
              f"{r['floor']['peak_rss_mb']:.0f} MB")
        print("  location          models   slice MB   load s   peak RSS MB")
        for name, loc in r["locations"].items():
            print(f"  {name:<16} {loc['models']:7}  {loc['slice_mb']:8.1f}  {loc['seconds']:7.1f}  {loc['peak_rss_mb']:12.0f}")
        for name, t in r["trigger"].items():
            print(f"  trigger tick ({name}_on_new_data): {t['tick_s'] * 1000:.0f} ms with {t['events']:,} materializations "
                  f"({t['inputs']} inputs, {t['readers']} readers, {t['assets']} assets)")
        for shape in ("deployed", "dg dev"):
            d = r[shape]
            print(f"  whole platform, {shape}: {d['peak_rss_mb']:,.0f} MB, ready in {d['ready_s']:.0f} s; by role: "
                  + ", ".join(f"{role} {mb:,.0f}" for role, mb in d["by_role_mb"].items()))
    if "organisation" in results:
        r = results["organisation"]
        m = r.get("materialize_all", {"backfill_status": "not run", "runs": 0, "runs_per_location": {}, "wall_s": 0, "work_s": 0})
        print(f"  Materialize all of {r.get('days', 2)} days: {m['backfill_status']}, {m['runs']} runs ("
              + ", ".join(f"{name} {n}" for name, n in sorted(m["runs_per_location"].items()))
              + f"), {m['wall_s']:.0f} s wall, {m['work_s']:.0f} s of runs")
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
    for build, r in results.get("publishing", {}).items():
        overhead = r["blue/green"] / r["in place"] - 1
        print(f"\npublishing, {build}:\n  blue/green {r['blue/green']:.1f} s, in place {r['in place']:.1f} s: "
              f"overhead {overhead:+.1%}")
    if "history" in results:
        h = results["history"]
        n = h["days"]
        print(f"\nhistory: {h['order_lines_per_day']:,} order lines a day, day 1 and day {n} after {n - 1} days")
        for name, steps in h.items():
            if isinstance(steps, dict):
                detail = ", ".join(f"{step} {seconds:.1f}" for step, seconds in steps.items())
                print(f"  {name:<34} {sum(steps.values()):7.1f} s  ({detail})")
        total = lambda name: sum(h[name].values())
        print(f"history: full rebuild day {n} / day 1 = {total(f'full rebuild day {n}') / total('full rebuild day 1'):.2f}")
        print(f"history: platform day {n} / day 1 = {total(f'platform day {n}') / total('platform day 1'):.2f}")


if __name__ == "__main__":
    main()
