"""load and large: each code location's load time and RSS vs importing dagster_dbt and reading the
manifest, on this project (load) and on a generated one of --models models (large, with a profile
of one load)."""

import io
import json
import pstats
import subprocess
from pathlib import Path

from .common import measure, median, prepare_manifest_for, script


def bench_load(env: dict, project: Path, repeat: int, profile_to: Path | None = None) -> dict:
    """Each location built in a fresh interpreter vs the floor (import dagster_dbt + read the manifest)."""
    env = {**env, "DBT_PROJECT_DIR": str(project)}
    prepare_manifest_for(env)
    manifest = project / "target" / "manifest.json"
    models = sum(1 for node in json.loads(manifest.read_text())["nodes"].values() if node["resource_type"] == "model")
    floor = [measure(script("load_baseline", manifest), env) for _ in range(repeat)]
    figures = {"models": models, "floor (import dagster_dbt + read manifest)": {
        "seconds": median([s for s, _ in floor]), "peak_rss_mb": median([m for _, m in floor])}}
    for location in ("shared_ingest", "sales", "inventory"):
        runs = [measure(script("load_location", location), env) for _ in range(repeat)]
        figures[location] = {"seconds": median([s for s, _ in runs]), "peak_rss_mb": median([m for _, m in runs])}
    if profile_to is not None:
        subprocess.run(script("load_location", "sales", "--profile", profile_to), env=env, check=True,
                       stdout=subprocess.DEVNULL)
    return figures


def profile_summary(path: Path, limit: int = 18) -> str:
    """The functions a location load spends its time in, by cumulative time."""
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("cumulative").print_stats(r"(dataplatform|dagster_dbt|dagster/_core/(definitions|remote))", limit)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ncalls"))
    return "\n".join(lines[start:start + limit + 1])


def report(results: dict) -> None:
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
