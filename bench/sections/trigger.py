"""trigger: a domain trigger's tick with --trigger-days days of history (scripts/trigger_tick.py),
on this project and on the generated one. The organisation section ticks its triggers the same way."""

import json
import subprocess
from pathlib import Path

from .common import PROJECT, REPO, WORK, bench_env, prepare_manifest_for, script


def bench_trigger(large: Path, days: int) -> dict:
    """The sales trigger's tick time with ``days`` days of history, on this project and on the
    generated one (its sales group holds most of the generated models)."""
    figures = {}
    for name, project in (("this project", PROJECT), (f"generated project ({large.name})", large)):
        env = {**bench_env(WORK, WORK / "trigger.duckdb"), "DBT_PROJECT_DIR": str(project),
               "PLATFORM_PARTITIONS_START": "2025-01-01"}  # more than `days` partitions
        prepare_manifest_for(env)
        out = subprocess.run(script("trigger_tick", "--manifest", project / "target" / "manifest.json", "--days", days,
                                    "--domain", "sales"),
                             env=env, cwd=REPO, capture_output=True, text=True, check=True).stdout
        figures[name] = json.loads(out.strip().splitlines()[-1])
    return figures


def trigger_tick(env: dict, root: Path, domain: str, days: int) -> dict:
    """``domain``'s trigger's tick with ``days`` days of its inputs materialized (scripts/trigger_tick.py)."""
    env = {**env, "PLATFORM_PARTITIONS_START": "2025-01-01"}  # more than `days` partitions
    manifest = root / "dbt" / "target" / "manifest.json"
    out = subprocess.run(script("trigger_tick", "--manifest", manifest, "--days", days, "--domain", domain),
                         env=env, cwd=root, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def report(results: dict) -> None:
    for name, r in results.get("trigger", {}).items():
        print(f"\ntrigger tick (sales_on_new_data), {name}: {r['tick_s'] * 1000:.0f} ms with {r['events']:,} "
              f"materializations ({r['inputs']} inputs, {r['readers']} readers, {r['assets']} assets)")
