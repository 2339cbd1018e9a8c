"""A reviewable snapshot of what each location defines: asset keys with their dependencies,
groups, owners, pools, partitions and backfill policies, checks, jobs and schedules.

A change to the definitions shows up as a diff of tests/definitions/snapshots/<location>.json in
review. After a deliberate change, rewrite them with:

    UPDATE_SNAPSHOTS=1 python3 tasks.py test tests/definitions/test_definition_snapshots.py
"""

import json
import os

import pytest
from support import LOCATIONS, REPO

SNAPSHOTS = REPO / "tests" / "definitions" / "snapshots"


def snapshot_of(described: dict) -> dict:
    """What a location defines, without how it was loaded (its imported modules)."""
    return {key: value for key, value in described.items() if key != "modules"}


@pytest.mark.parametrize("location", LOCATIONS)
def test_definitions_match_their_reviewed_snapshot(location, dev_locations):
    path = SNAPSHOTS / f"{location}.json"
    current = json.dumps(snapshot_of(dev_locations[location]), indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(current)
    assert path.is_file(), f"no snapshot for {location}: run with UPDATE_SNAPSHOTS=1 and review {path}"
    assert current == path.read_text(), (
        f"{location}'s definitions changed. If that was meant, rerun with UPDATE_SNAPSHOTS=1 and commit "
        f"the reviewed {path.relative_to(REPO)}")
