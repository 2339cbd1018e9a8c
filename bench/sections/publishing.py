"""publishing: the dbt build with blue/green publishing against the same build in place, on the
--scale day (every model built from nothing) and on day N of the history (incremental)."""

import shutil
from pathlib import Path

from .common import WORK, bench_env, day_key, landing_for, measure, median, native_load, order_lines, plain_dbt, remove_database

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
    measure(native_load(landing, base, stamp="current_timestamp as _loaded_at"), bench_env(landing, base))
    plain_dbt(["snapshot"], bench_env(landing, base))  # the marts read the snapshots, which are built in place
    print("publishing: the day's build from nothing ...", flush=True)
    figures[f"build of day 1, {order_lines(landing):,} order lines"] = publishing_overhead(
        base, ["--event-time-start", day_key(1), "--event-time-end", day_key(2)], repeat)

    history = landing_for(history_scale, days, name="history")
    remove_database(base)
    env = bench_env(history, base)
    measure(native_load(history, base, stamp="current_timestamp as _loaded_at"), env)
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


def report(results: dict) -> None:
    for build, r in results.get("publishing", {}).items():
        overhead = r["blue/green"] / r["in place"] - 1
        print(f"\npublishing, {build}:\n  blue/green {r['blue/green']:.1f} s, in place {r['in place']:.1f} s: "
              f"overhead {overhead:+.1%}")
