"""Benchmarks: the platform against the plain tools it orchestrates, side by side in one run.

    uv run --group bench python bench/run.py --scale 1090    # ~10M order lines (see bench/README.md)
    uv run --group bench python bench/run.py --scale 112 --sections ingest,domains

Prints, for the same data on the same machine, the sections asked for (--sections); each is
measured and reported by its module of bench/sections/, whose docstring says what it measures:
  * ingest (sections/ingest.py): the shared_ingest asset vs DuckDB's native read_csv (and dlt);
  * domains and patches (sections/domains.py): each domain's one Dagster run vs plain dbt, end to
    end; the domain jobs with the dbt_startup patch and without;
  * load and large (sections/load.py): each code location's load vs its floor, on this project
    and on a generated one of --models models (with a profile of one load);
  * platform (sections/platform.py): the whole platform's RSS once every location is loaded;
  * history and backfill (sections/history.py): day N after N-1 days vs the full rebuild; N days
    as one run per job vs N one-day runs;
  * trigger (sections/trigger.py): a domain trigger's tick with --trigger-days days of history;
  * publishing (sections/publishing.py): the dbt build with blue/green publishing vs in place;
  * latency (sections/latency.py): a landed day's way through the platform as it runs;
  * organisation and scaling (sections/organisation.py): an organisation's workspace; a domain's
    location as the project around it grows.
What a measurement runs in its fresh process is a script of bench/scripts/; what the sections share
(paths, measure, the landed days, the environment, plain dbt, code servers) is sections/common.py.
Every measurement runs in its own process; figures are medians of --repeat runs.
Nothing here is asserted: machines are noisy, compare the ratios.
"""

import argparse
import json
import os
import platform

import psutil
from sections import domains, history, ingest, latency, load, organisation, publishing, trigger
from sections import platform as whole_platform
from sections.common import PROJECT, WORK, bench_env, landing_for, order_lines

from devsupport.dbt import copy_dbt_project

SECTIONS = ("ingest", "domains", "load", "large", "platform", "history", "backfill", "publishing", "trigger", "patches",
            "latency", "organisation", "scaling")

# Each section's part of the printed report, in the report's order.
REPORTS = (ingest.report, domains.report_domains, load.report, whole_platform.report, history.report_backfill,
           trigger.report, domains.report_patches, organisation.report, latency.report, publishing.report,
           history.report_history)


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
        results["ingest"] = ingest.bench_ingest(args.scale, args.repeat, not args.skip_dlt)
    if "domains" in sections:
        print("domain jobs and end to end ...", flush=True)
        results["domains"] = domains.bench_domains(landing, args.repeat)
    if "load" in sections:
        print("location load, this project ...", flush=True)
        results["load"] = load.bench_load(env, PROJECT, args.repeat)
    large = WORK / "large_project"
    if "large" in sections or "platform" in sections or "trigger" in sections:
        from make_large_project import make_large_project

        make_large_project(large, args.models)
    if "large" in sections:
        print(f"location load, a generated project of {args.models} models ...", flush=True)
        results["load_large"] = load.bench_load(env, large, args.repeat, profile_to=WORK / "load_sales.prof")
        results["load_large_profile"] = load.profile_summary(WORK / "load_sales.prof")
    if "platform" in sections:
        print("whole platform RSS ...", flush=True)
        results["platform"] = whole_platform.bench_platform(env, large, args.models)

    if "trigger" in sections:
        print(f"trigger tick at {args.trigger_days} days ...", flush=True)
        results["trigger"] = trigger.bench_trigger(large, args.trigger_days)
    if "backfill" in sections:
        results["backfill"] = history.bench_backfill(args.backfill_scale, args.backfill_days)
    if "history" in sections:
        results["history"] = history.bench_history(args.history_scale, args.history_days)

    if "patches" in sections:
        print("the dbt_startup patch ...", flush=True)
        results["patches"] = domains.bench_patches(landing, args.repeat)
    if "publishing" in sections:
        results["publishing"] = publishing.bench_publishing(args.scale, args.history_scale, args.history_days, args.repeat)
    if "organisation" in sections:
        print(f"an organisation: {args.org_domains} domains, {args.org_models} models ...", flush=True)
        results["organisation"] = organisation.bench_organisation(args.org_domains, args.org_models, args.org_days,
                                                                  loads=not args.org_skip_loads)
    if "scaling" in sections:
        counts = [int(n) for n in args.scaling_domains.split(",")]
        print(f"a domain's location as the project grows to {counts} domains of {args.scaling_models} models ...", flush=True)
        results["scaling"] = organisation.bench_scaling(counts, args.scaling_models, args.repeat)
    if "latency" in sections:
        print(f"a day's latency through the example's domains, {args.repeat} day(s) ...", flush=True)
        results["latency"] = {"the example": latency.bench_latency(args.repeat)}
        print(f"a day's latency through a chain of three domains, {args.repeat} day(s) ...", flush=True)
        results["latency"]["a chain three deep"] = latency.bench_chain_latency(args.repeat)

    report(results)
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nraw figures: {WORK / 'results.json'}")


def report(results: dict) -> None:
    day_1 = f"; scale {results['scale']:g}, {results['order_lines']:,} order lines" if results["order_lines"] else ""
    print(f"\nmachine: {results['machine']}{day_1}")
    for section_report in REPORTS:
        section_report(results)


if __name__ == "__main__":
    main()
