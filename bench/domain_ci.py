"""Wall time of a sales-only pull request's CI (.github/workflows/domains.yml), step by step,
against the full suite that main runs, side by side in one run.

    uv run --no-sync python bench/domain_ci.py          # the domain CI's steps (~5 min)
    uv run --no-sync python bench/domain_ci.py --full   # and the full suite beside it (~30 min more)

The change: a comment in sales' private `int_payments_summed_to_orders`, in a git worktree of HEAD.
The steps are the workflow's: `affected --json` (cold: no parsed base), the base warehouse (day 1
by the three locations' own jobs; the workflow caches it per base commit, so a pull request pays it
once per base), `affected --build`, and `tasks.py test -m "static or unit or <touched>"`.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work" / "domain_ci"
BIN = Path(sys.executable).parent
DAY = "2026-01-01"
CHANGED = "dbt/models/sales/intermediate/int_payments_summed_to_orders.sql"


def timed(args: list, cwd: Path, env: dict, log: Path) -> tuple[float, str]:
    """Seconds and stdout of a command, its output kept in ``log``; stops the bench if it fails."""
    started = time.perf_counter()
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    log.write_text(result.stdout + "\n--- stderr ---\n" + result.stderr)
    if result.returncode != 0:
        sys.exit(f"failed ({log}): {' '.join(map(str, args))}\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def pytest_summary(stdout: str) -> str:
    found = re.findall(r"(\d+ passed[^\n]*?) in [\d.]+s", stdout)
    return found[-1] if found else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="also run the full suite, for the ratio")
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    subprocess.run(["git", "worktree", "prune"], cwd=REPO, check=True)
    pr = WORK / "pr"
    subprocess.run(["git", "worktree", "add", "--quiet", "--detach", str(pr), "HEAD"], cwd=REPO, check=True)
    try:
        changed = pr / CHANGED
        changed.write_text("-- reviewed: a comment, the smallest change a model can have\n" + changed.read_text())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLATFORM_", "DUCKDB_", "DBT_", "DAGSTER_"))}
        env |= {"PLATFORM_PARTITIONS_START": DAY, "PLATFORM_SCHEDULES": "stopped", "PLATFORM_LOCAL_DIR": str(WORK / "local")}
        base_env = env | {"PLATFORM_LOCAL_DIR": str(WORK / "base")}
        figures: dict[str, float] = {}

        figures["affected --json"], out = timed([sys.executable, "-m", "devsupport.affected", "--base", "HEAD", "--json"],
                                                pr, env, WORK / "affected.log")
        markers = json.loads(out)["markers"]
        started = time.perf_counter()
        timed([BIN / "generate-source-data", "--day", "1", "--scale", "0.05"], REPO, base_env, WORK / "landing.log")
        for location in ("shared_ingest", "sales", "inventory"):
            timed([BIN / "dagster", "asset", "materialize", "-m", f"{location}.definitions", "--select", "*",
                   "--partition", DAY], REPO, base_env, WORK / f"base-{location}.log")
        figures["base warehouse (cached per base commit)"] = time.perf_counter() - started
        figures["affected --build"], _ = timed(
            [sys.executable, "-m", "devsupport.affected", "--base", "HEAD", "--build", "--day", DAY,
             "--warehouse", WORK / "base" / "warehouse.duckdb"], pr, env, WORK / "build.log")
        figures[f"tiers: static or unit or {markers}"], out = timed(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-m", f"static or unit or {markers}"],
            REPO, env, WORK / "tiers.log")
        tiers = pytest_summary(out)
        full = None
        if args.full:
            full, out = timed([sys.executable, "-m", "pytest", "-q"], REPO, env, WORK / "full.log")
            full_summary = pytest_summary(out)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(pr)], cwd=REPO)

    print(f"\nsales-only change ({CHANGED}), touches: {markers}")
    for step, seconds in figures.items():
        print(f"  {step:<42} {seconds:7.1f} s")
    # On the CI host the tiers and the build are parallel jobs after `affected`; the base warehouse
    # is a cache hit after the base's first pull request.
    tier_key = f"tiers: static or unit or {markers}"
    wall = figures["affected --json"] + max(figures["affected --build"], figures[tier_key])
    serial = figures["affected --json"] + figures["affected --build"] + figures[tier_key]
    print(f"  tiers: {tiers}")
    print(f"domain CI wall time: {wall:.1f} s with its two jobs in parallel, {serial:.1f} s one after another "
          f"(+{figures['base warehouse (cached per base commit)']:.1f} s on a cache miss)")
    if full is not None:
        print(f"full suite: {full:.1f} s ({full_summary}); domain CI / full suite = {wall / full:.2f} "
              f"({serial / full:.2f} serial)")


if __name__ == "__main__":
    main()
