"""The daily chain, and one location's job run in process as the daemon would launch it.

``python -m devsupport.chain LOCATION JOB FIRST_DAY [LAST_DAY] [--phases FILE]`` runs it in a
fresh interpreter (a run's cost: importing the location, then the job) on an ephemeral instance;
``--phases`` writes when the job was loaded and when its run ended, for the bench's breakdown.
"""

import argparse
import importlib
import json
import sys
import time

from dataplatform.partitions import partition_range_tags

# In the order the domains' triggers start it: ingest, then each domain's one build.
DAILY_CHAIN = (("shared_ingest", "ingest_sources"), ("sales", "sales_build"), ("inventory", "inventory_build"))


def execute_job(location: str, job: str, first_day: str | None = None, last_day: str | None = None,
                assets: list[str] | None = None, instance=None):
    """One location's job in process: for a partitioned job, the partition ``first_day`` or the
    range ``first_day..last_day`` in one run (a backfill's run); with ``assets`` (keys as
    ``sales/orders``), only that subset of it, as a retry would."""
    return run_job(load_job(location, job), first_day, last_day, assets, instance)


def load_job(location: str, job: str):
    """The job as a run worker gets it: the location imported and its definitions built."""
    return importlib.import_module(f"{location}.definitions").defs().resolve_job_def(job)


def run_job(job_def, first_day: str | None = None, last_day: str | None = None,
            assets: list[str] | None = None, instance=None):
    """A loaded job's run for a day or a range of days (see ``execute_job``)."""
    from dagster import AssetKey

    tags = partition_range_tags(first_day, last_day or first_day) if job_def.partitions_def is not None else {}
    selection = [AssetKey.from_user_string(key) for key in assets] if assets else None
    return job_def.execute_in_process(tags=tags, raise_on_error=False, asset_selection=selection, instance=instance)


def main(argv: list[str]) -> int:
    from dagster import DagsterInstance

    parser = argparse.ArgumentParser(prog="python -m devsupport.chain", description=__doc__.splitlines()[0])
    parser.add_argument("location")
    parser.add_argument("job")
    parser.add_argument("first_day")
    parser.add_argument("last_day", nargs="?")
    parser.add_argument("--phases", help="write {loaded, ran} (epoch seconds) to this JSON file")
    args = parser.parse_args(argv)
    job_def = load_job(args.location, args.job)
    loaded = time.time()
    with DagsterInstance.ephemeral() as instance:
        result = run_job(job_def, args.first_day, args.last_day, instance=instance)
    if args.phases:
        with open(args.phases, "w") as file:
            json.dump({"loaded": loaded, "ran": time.time()}, file)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
