"""A code location's load, as a code server loads it: import ``<location>.definitions`` and build its definitions."""

import argparse
import cProfile
import importlib


def load(location: str) -> None:
    importlib.import_module(f"{location}.definitions").defs()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("location")
    parser.add_argument("--profile", metavar="PATH", help="profile the load (cProfile) into PATH")
    args = parser.parse_args()
    if args.profile:
        cProfile.runctx("load(location)", globals(), {"location": args.location}, args.profile)
    else:
        load(args.location)


if __name__ == "__main__":
    main()
