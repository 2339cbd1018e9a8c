"""The daily chain, and one location's job run in process as the daemon would launch it.

``python -m devsupport.chain LOCATION JOB FIRST_DAY [LAST_DAY]`` runs it in a fresh interpreter
(a run's cost: importing the location, then the job) on an ephemeral instance.
"""

import argparse
import importlib
import sys

from dataplatform.partitions import partition_range_tags
from devsupport import DOMAINS


def daily_chain(domains: tuple[str, ...] = DOMAINS) -> tuple[tuple[str, str], ...]:
    """(location, job) of a day: ingest, then each domain's one build, in the workspace's order
    (a domain is listed after the domains it reads, as `new-domain` appends them)."""
    return (("shared_ingest", "ingest_sources"), *((domain, f"{domain}_build") for domain in domains))


def execute_job(location: str, job: str, first_day: str | None = None, last_day: str | None = None,
                assets: list[str] | None = None, instance=None):
    """One location's job in process: for a partitioned job, the partition ``first_day`` or the
    range ``first_day..last_day`` in one run (a backfill's run), or, with no day, unpartitioned (as
    a schedule runs the observation job); with ``assets`` (keys as
    ``sales/orders``), only that subset of it, as a retry would."""
    from dagster import AssetKey

    job_def = importlib.import_module(f"{location}.definitions").defs().resolve_job_def(job)
    partitioned = job_def.partitions_def is not None and first_day is not None
    tags = partition_range_tags(first_day, last_day or first_day) if partitioned else {}
    selection = [AssetKey.from_user_string(key) for key in assets] if assets else None
    return job_def.execute_in_process(tags=tags, raise_on_error=False, asset_selection=selection, instance=instance)


def main(argv: list[str]) -> int:
    from dagster import DagsterInstance

    parser = argparse.ArgumentParser(prog="python -m devsupport.chain", description=__doc__.splitlines()[0])
    parser.add_argument("location")
    parser.add_argument("job")
    parser.add_argument("first_day")
    parser.add_argument("last_day", nargs="?")
    args = parser.parse_args(argv)
    with DagsterInstance.ephemeral() as instance:
        result = execute_job(args.location, args.job, args.first_day, args.last_day, instance=instance)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
