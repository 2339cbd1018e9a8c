"""A reviewable snapshot of what each location of the platform's test project defines (shared_ingest,
billing, care; tests/fixtures/subscriptions, in a copy of the repository: ``fixture_root``): asset
keys with their dependencies, groups, owners, pools, partitions and backfill policies, the
observed source assets, checks, jobs, schedules and sensors.

A change to what the platform defines for a project shows up as a diff of
tests/definitions/snapshots/<location>.json in review. After a deliberate change, rewrite them with:

    UPDATE_SNAPSHOTS=1 python3 tasks.py test tests/definitions/test_definition_snapshots.py

(The example's own snapshots are tests/example/snapshots, tests/example/test_example_definitions.py.)
"""

import json
import os

import pytest
from support import FIXTURE_LOCATIONS, REPO, describe_fixture_locations, dev_simulations

SNAPSHOTS = REPO / "tests" / "definitions" / "snapshots"


def snapshot_of(described: dict) -> dict:
    """What a location defines, without how it was loaded (its imported modules) and without what
    the simulated source systems installed in this environment add in dev (the example's, gone
    once it is removed): the project's definitions, the same with or without the example."""
    simulations, simulation_jobs = dev_simulations()
    snapshot = {key: value for key, value in described.items() if key != "modules"}
    snapshot["schedules"] = [name for name in snapshot["schedules"] if name not in simulations]
    snapshot["jobs"] = [name for name in snapshot["jobs"] if name not in simulation_jobs]
    return snapshot


# shared_ingest is the platform's own location (its marker: a change to it runs this); billing and
# care are the test project's, no location of this workspace.
@pytest.mark.parametrize("location", [pytest.param(name, marks=pytest.mark.shared_ingest) if name == "shared_ingest" else name
                                      for name in FIXTURE_LOCATIONS])
def test_definitions_match_their_reviewed_snapshot(location, fixture_root, dev_env):
    path = SNAPSHOTS / f"{location}.json"
    described = describe_fixture_locations(fixture_root, dev_env)[location]
    current = json.dumps(snapshot_of(described), indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(current)
    assert path.is_file(), f"no snapshot for {location}: run with UPDATE_SNAPSHOTS=1 and review {path}"
    assert current == path.read_text(), (
        f"{location}'s definitions changed. If that was meant, rerun with UPDATE_SNAPSHOTS=1 and commit "
        f"the reviewed {path.relative_to(REPO)}")
