"""The floor of a location's load: import dagster_dbt and read the whole manifest."""

import argparse
import json

import dagster_dbt  # noqa: F401  (what is measured: its import)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("manifest")
    args = parser.parse_args()
    json.loads(open(args.manifest).read())


if __name__ == "__main__":
    main()
