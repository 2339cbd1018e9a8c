"""history: the platform's day run on day 1 and on day N after N-1 days of history, against the
full-rebuild path (every export reloaded, every model rebuilt) on the same days. backfill: N days
as one run per job (the backfill policy) against N one-day runs."""

import os
import shutil
import time
from pathlib import Path

from .common import (
    DAILY_CHAIN,
    WORK,
    bench_env,
    day_key,
    landing_for,
    measure,
    native_load,
    order_lines,
    plain_dbt,
    prepare_manifest_for,
    run_job,
)


def platform_days(env: dict, first: int, last: int) -> dict[str, float]:
    """The daily chain for days first..last, one run per job, each in a fresh process: seconds by job."""
    prepare_manifest_for(env)
    return {job: run_job(location, job, day_key(first), day_key(last), env) for location, job in DAILY_CHAIN}


def full_rebuild(env: dict, landing: Path, db: Path, days: int) -> dict[str, float]:
    """The path before partitions: every landed export loaded again, then every snapshot and model
    rebuilt from all of history (``dbt build --full-refresh`` over every day landed)."""
    return {
        "load every export": measure(native_load(landing, db, stamp="current_timestamp as _loaded_at"), env)[0],
        "dbt snapshot": plain_dbt(["snapshot"], env),
        "dbt build --full-refresh": plain_dbt(["build", "--exclude", "resource_type:snapshot", "--full-refresh",
                                              "--event-time-start", day_key(1), "--event-time-end", day_key(days + 1)], env),
    }


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


def report_backfill(results: dict) -> None:
    if "backfill" in results:
        b = results["backfill"]
        single, daily = b["one run per job"], b["one run per job and day"]
        print(f"\nbackfill of {b['days']} days ({b['order_lines_per_day']:,} order lines a day) on an empty warehouse:"
              f"\n  one run per job {single:.1f} s, one run per job and day {daily:.1f} s: {daily / single:.1f}x faster in one run")


def report_history(results: dict) -> None:
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
