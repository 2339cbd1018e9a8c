"""One job of a location in a fresh process: a partitioned one for the days first..last in one run."""

# A run's cost: importing the location, then the job. The history, backfill and patches sections use it.

import argparse
import sys

from devsupport.chain import main


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("location")
    parser.add_argument("job")
    parser.add_argument("first")
    parser.add_argument("last")
    args = parser.parse_args()
    return main([args.location, args.job, args.first, args.last])


if __name__ == "__main__":
    sys.exit(run())
