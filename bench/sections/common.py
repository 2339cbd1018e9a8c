"""What the sections share: the paths, a fresh process's measurement (wall seconds, peak RSS), the
simulated days landed under bench/.work, the benchmarks' environment, the plain dbt path, a job's
run in a fresh process, and the code servers the domains and platform sections start."""

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from dagster import DagsterInstance

from dataplatform.settings import resolve_settings
from devsupport.chain import daily_chain
from devsupport.environments import scrubbed_env
from devsupport.processes import free_port, listening, own_process_group, stop_group, wait_until

REPO = Path(__file__).resolve().parents[2]
DAILY_CHAIN = daily_chain()  # the example's: ingest, sales, inventory
WORK = REPO / "bench" / ".work"
# The dbt project the benchmarks run: a copy taken when they start, so that editing dbt/ while a
# long benchmark runs neither changes what it measures nor breaks it half-way.
PROJECT = WORK / "dbt"
# What a measurement runs in its fresh process: one script each, run as `python <script> <args>`.
SCRIPTS = REPO / "bench" / "scripts"


def script(name: str, *args: object) -> list[str]:
    """The command line running ``bench/scripts/<name>.py`` with ``args`` in this interpreter."""
    return [sys.executable, str(SCRIPTS / f"{name}.py"), *(str(arg) for arg in args)]


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure(command: list[str], env: dict, cwd: Path = REPO) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB, the process and its children, sampled every 20 ms) of a
    fresh Python process running ``command`` (a ``script(...)``)."""
    # The log goes to a file: a run of many days logs more than a pipe holds, and would block on it.
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = psutil.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss(process))
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            log.seek(0)
            raise RuntimeError(f"benchmark step failed:\n{' '.join(command)}\n{log.read().decode(errors='replace')[-3000:]}")
    return seconds, peak / 2**20


def measure_command(args: list[str], env: dict, cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def median(samples: list) -> float:
    return statistics.median(samples)


def native_load(landing: Path, db: Path, tables: list[str] | None = None, stamp: str = "") -> list[str]:
    """The plain path's load (scripts/native_load.py) of ``landing`` into ``db``: every table, or
    ``tables`` only; ``stamp`` is the extra column of every row (and, given, events' _export_date)."""
    return script("native_load", "--landing", landing, "--db", db, f"--stamp={stamp}",
                  *(arg for table in tables or [] for arg in ("--table", table)))


def run_job(location: str, job: str, first: str, last: str, env: dict) -> float:
    """A job's run in a fresh process (scripts/job_run.py): its wall seconds."""
    return measure(script("job_run", location, job, first, last), env)[0]


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
