"""Benchmarks: the platform against the plain tools it orchestrates, side by side in one run.

    uv run --group bench python bench/run.py --scale 112     # ~1M order lines

Prints, for the same data on the same machine:
  * ingest: the shared_ingest asset vs DuckDB's native read_csv into a table (and vs dlt),
    time and peak memory, each in a fresh process;
  * each domain's Dagster run vs a plain `dbt build` of the same selection;
  * each code location's load time vs importing dagster_dbt and reading the manifest.
Every measurement runs in its own process; figures are medians of --repeat runs.
Nothing here is asserted: machines are noisy, compare the ratios.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work"


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
    started = time.perf_counter()
    process = psutil.Popen([sys.executable, "-c", code], env=env, cwd=cwd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"benchmark step failed:\n{code}\n{process.stderr.read().decode()[-3000:]}")
    return seconds, peak / 2**20


def measure_command(args: list[str], env: dict, cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def median(samples: list) -> float:
    return statistics.median(samples)


NATIVE_LOAD = """
import duckdb
from shared_ingest.landing import files_to_load
from shared_ingest.tables import get_table
table = get_table("shop", "order_items")
files = files_to_load({landing!r}, table)
columns = "{{" + ", ".join(f"'{{c}}': '{{t}}'" for c, t in table.columns.items()) + "}}"
with duckdb.connect({db!r}) as con:
    con.execute("create schema if not exists raw_shop")
    con.execute(f"create or replace table raw_shop.order_items as select * from read_csv({{files}}, header=true, auto_detect=false, columns={{columns}})")
"""

ASSET_LOAD = """
from dagster import materialize
from shared_ingest.assets import LandingZone, build_ingest_asset
from shared_ingest.loaders import DuckDBLoader
from shared_ingest.tables import get_table
result = materialize([build_ingest_asset(get_table("shop", "order_items"))],
                     resources={{"landing": LandingZone(root={landing!r}), "warehouse": DuckDBLoader(database={db!r})}})
assert result.success
"""

DLT_LOAD = """
import os
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
import dlt, pyarrow.csv as pv
from shared_ingest.landing import files_to_load
from shared_ingest.tables import get_table

@dlt.resource(name="order_items", write_disposition="replace")
def order_items():
    for path in files_to_load({landing!r}, get_table("shop", "order_items")):
        yield pv.read_csv(path)

pipeline = dlt.pipeline(pipeline_name="bench", destination=dlt.destinations.duckdb({db!r}),
                        dataset_name="raw_shop_dlt", pipelines_dir={pipelines!r})
pipeline.run(order_items())
"""

DOMAIN_RUN = """
import importlib
from dagster import DagsterInstance
defs = importlib.import_module("{domain}.definitions").defs()
result = defs.resolve_job_def("{job}").execute_in_process(instance=DagsterInstance.ephemeral())
assert result.success
"""

LOAD_LOCATION = """
import importlib
importlib.import_module("{location}.definitions").defs()
"""

LOAD_BASELINE = """
import json, dagster_dbt
json.loads(open({manifest!r}).read())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=112.0, help="112 gives about 1M order lines")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-dlt", action="store_true")
    args = parser.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    landing, db = WORK / f"landing-{args.scale:g}", WORK / "warehouse.duckdb"
    env = {**os.environ, "PLATFORM_LOCAL_DIR": str(WORK), "LANDING_ROOT": str(landing),
           "DUCKDB_PATH": str(db), "PLATFORM_SCHEDULES": "stopped", "RUNTIME__DLTHUB_TELEMETRY": "false"}
    for name in ("DAGSTER_HOME", "DBT_TARGET", "PLATFORM_ENV"):
        env.pop(name, None)
    results: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                     "scale": args.scale}

    from shared_ingest.generator import generate_day
    from shared_ingest.landing import files_to_load
    from shared_ingest.tables import get_table

    if not files_to_load(str(landing), get_table("shop", "order_items")):
        print(f"generating day 1 at scale {args.scale:g} into {landing}", flush=True)
        generate_day(str(landing), 1, scale=args.scale)
    lines = sum(1 for path in files_to_load(str(landing), get_table("shop", "order_items")) for _ in open(path)) - 1
    results["order_lines"] = lines
    print(f"{lines:,} order lines", flush=True)

    # Ingest, one table of ~1M rows: native read_csv vs the ingest asset vs dlt (arrow).
    fmt = dict(landing=str(landing), db=str(db), pipelines=str(WORK / "dlt"))
    ingest = {"native read_csv": NATIVE_LOAD, "ingest asset": ASSET_LOAD}
    if not args.skip_dlt:
        ingest["dlt (arrow)"] = DLT_LOAD
    samples = {name: [] for name in ingest}
    for _ in range(args.repeat):
        for name, code in ingest.items():  # interleaved, so drift hits every contender alike
            samples[name].append(measure(code.format(**fmt), env))
    results["ingest"] = {
        name: {"seconds": median([s for s, _ in runs]), "peak_rss_mb": median([m for _, m in runs])}
        for name, runs in samples.items()
    }

    # Domain runs: load every raw table once, then each job vs plain dbt on the same selection.
    subprocess.run([sys.executable, "-c", "from shared_ingest.definitions import defs\n"
                    "assert defs().resolve_implicit_global_asset_job_def().execute_in_process().success"],
                   env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dbt = [str(Path(sys.executable).parent / "dbt")]
    jobs = {
        ("sales", "sales_snapshots"): ["snapshot", "--select", "group:sales,resource_type:snapshot"],
        ("sales", "sales_build"): ["build", "--select", "group:sales", "--exclude", "resource_type:snapshot"],
        ("inventory", "inventory_snapshots"): ["snapshot", "--select", "group:inventory,resource_type:snapshot"],
        ("inventory", "inventory_build"): ["build", "--select", "group:inventory", "--exclude", "resource_type:snapshot"],
    }
    results["domains"] = {}
    for (domain, job), dbt_args in jobs.items():
        dagster_runs, plain_runs = [], []
        for _ in range(args.repeat):
            dagster_runs.append(measure(DOMAIN_RUN.format(domain=domain, job=job), env)[0])
            plain_runs.append(measure_command([*dbt, *dbt_args, "--profiles-dir", "."], env, REPO / "dbt"))
        results["domains"][job] = {"dagster_run_s": median(dagster_runs), "plain_dbt_s": median(plain_runs)}

    # Code location load: a fresh interpreter building the definitions vs the floor.
    manifest = REPO / "dbt" / "target" / "manifest.json"
    results["load"] = {"baseline (import dagster_dbt + read manifest)": median(
        [measure(LOAD_BASELINE.format(manifest=str(manifest)), env)[0] for _ in range(args.repeat)])}
    for location in ("shared_ingest", "sales", "inventory"):
        runs = [measure(LOAD_LOCATION.format(location=location), env) for _ in range(args.repeat)]
        results["load"][location] = median([s for s, _ in runs])
        results["load"][f"{location} peak_rss_mb"] = median([m for _, m in runs])

    report(results)
    (WORK / "results.json").write_text(json.dumps(results, indent=2))


def report(results: dict) -> None:
    print(f"\nmachine: {results['machine']}; scale {results['scale']:g}, {results['order_lines']:,} order lines")
    native = results["ingest"]["native read_csv"]
    print("\ningest shop.order_items            seconds   peak RSS MB   vs native")
    for name, r in results["ingest"].items():
        print(f"  {name:<30} {r['seconds']:8.2f}   {r['peak_rss_mb']:11.0f}   {r['seconds'] / native['seconds']:6.2f}x")
    print("\ndomain job                   Dagster s   plain dbt s   ratio")
    for job, r in results["domains"].items():
        print(f"  {job:<26} {r['dagster_run_s']:9.2f}   {r['plain_dbt_s']:11.2f}   {r['dagster_run_s'] / r['plain_dbt_s']:5.2f}x")
    print("\ncode location load (fresh interpreter), seconds")
    for name, value in results["load"].items():
        print(f"  {name:<48} {value:8.2f}")


if __name__ == "__main__":
    main()
