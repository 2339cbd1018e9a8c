"""organisation: an organisation's workspace (bench/make_organisation.py, --org-domains domains,
--org-models models): the manifest's preparation, each location's load against two floors, the
triggers' tick with a year of history, the whole platform's RSS as deployed and under `dg dev`, and
a "Materialize all" of --org-days days. scaling: the same domain's location as the project around
it grows (--scaling-domains organisations of --scaling-models models per domain)."""

import json
import shutil
import statistics
import time
from pathlib import Path

from dagster import DagsterInstance

from devsupport.environments import scrubbed_env
from devsupport.platform import Webserver, wait_for_locations
from devsupport.processes import free_port, stop_group, wait_until

from .common import WORK, measure, prepare_manifest_for, script
from .latency import _backfill_done, _backfill_latency
from .platform import platform_rss, start_dg_dev, start_one_process_per_location
from .trigger import trigger_tick


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
            loads = [measure(script("load_location", name), env, cwd=root) for _ in range(repeat)]
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

    figures["floor"] = dict(zip(("seconds", "peak_rss_mb"), measure(script("load_baseline", manifest), env),
                                strict=True))
    figures["import floor"] = dict(zip(("seconds", "peak_rss_mb"), measure(script("import_floor"), env), strict=True))
    for location in locations(root):
        seconds, rss = measure(script("load_location", location.name), env, cwd=root)
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
            runs = wait_until(lambda: _backfill_done(instance, backfill_id), "the Materialize all", 7200)
            figures = _backfill_latency(runs, launched)
            figures["runs_per_location"] = {}
            for record in runs:
                name = record.dagster_run.remote_job_origin.location_name
                figures["runs_per_location"][name] = figures["runs_per_location"].get(name, 0) + 1
            figures["backfill_status"] = instance.get_backfill(backfill_id).status.value
    finally:
        stop_group(process)
    return figures


def report(results: dict) -> None:
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
