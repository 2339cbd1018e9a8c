"""One domain's trigger tick on an instance holding ``--days`` days of history: prints its figures as JSON."""

# Every input and every reader of an input materialized for each day, the newest day's inputs only
# (one day to start).

import argparse
import importlib
import json
import statistics
import tempfile
import time

from dagster import AssetMaterialization, DagsterInstance, build_sensor_context

from dataplatform.dbt.plan import plan_domain
from dataplatform.partitions import daily_partitions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--manifest", required=True, help="the project's manifest.json")
    parser.add_argument("--days", type=int, required=True)
    args = parser.parse_args()
    domain = args.domain
    repo = importlib.import_module(f"{domain}.definitions").defs().get_repository_def()
    sensor = repo.get_sensor_def(f"{domain}_on_new_data")
    plan = plan_domain(json.load(open(args.manifest)), domain, "0 7 * * *")
    days = daily_partitions().get_partition_keys()[:args.days]
    readers = sorted({r for i in plan.inputs for r in i.readers}, key=str)
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
        print(json.dumps({"tick_s": statistics.median(ticks), "inputs": len(plan.inputs), "readers": len(readers),
                          "assets": len(plan.assets), "events": len(days) * (len(plan.inputs) + len(readers)),
                          "fill_s": filled}))


if __name__ == "__main__":
    main()
