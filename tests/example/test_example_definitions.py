"""A reviewable snapshot of what the example's locations define (asset keys with their
dependencies, groups, owners, pools, partitions and backfill policies, checks, jobs, schedules,
sensors), in tests/example/snapshots/<location>.json. After a deliberate change to the example:

    UPDATE_SNAPSHOTS=1 python3 tasks.py test tests/example/test_example_definitions.py
"""

import json
import os

import pytest
from support import REPO

SNAPSHOTS = REPO / "tests" / "example" / "snapshots"


@pytest.mark.parametrize("location", [pytest.param(name, marks=getattr(pytest.mark, name))
                                      for name in ("shared_ingest", "sales", "inventory")])
def test_the_examples_definitions_match_their_reviewed_snapshot(location, dev_locations):
    path = SNAPSHOTS / f"{location}.json"
    described = {key: value for key, value in dev_locations[location].items() if key != "modules"}
    current = json.dumps(described, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(current)
    assert current == path.read_text(), (
        f"{location}'s definitions changed. If that was meant, rerun with UPDATE_SNAPSHOTS=1 and commit "
        f"the reviewed {path.relative_to(REPO)}")
