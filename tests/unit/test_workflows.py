"""The CI workflows in .github/workflows say what the README says: main runs .ci/run (the README's
test command), and a pull request's domain CI calls `python -m devsupport.affected` with
arguments its parser accepts and runs the tiers by markers pytest knows."""

import re
import shlex

import yaml
from support import LOCATIONS, REPO

from devsupport.affected import argument_parser

WORKFLOWS = REPO / ".github" / "workflows"


def steps(workflow: str) -> list[str]:
    jobs = yaml.safe_load((WORKFLOWS / workflow).read_text())["jobs"]
    return [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]


def test_main_runs_the_ci_script():
    assert any(".ci/run" in run for run in steps("main.yml"))
    assert "python3 tasks.py test" in (REPO / ".ci" / "run").read_text()


def test_domain_ci_calls_affected_with_arguments_it_accepts():
    calls = [line for run in steps("domains.yml") for line in run.replace("\\\n", " ").splitlines()
             if "devsupport.affected" in line]
    assert len(calls) == 2  # what the change touches (--json), and the build of it (--build)
    for line in calls:
        words = shlex.split(re.sub(r"\$\{\{[^}]*\}\}|\"\$\{?\w+\}?\"|\$\w+", "X", line.split("|")[0]))
        args = argument_parser().parse_args([w.replace("X", "2026-01-01") if w == "X" else w
                                             for w in words[words.index("devsupport.affected") + 1:]])
        assert args.base.startswith("origin/")
    assert any("--build" in line and "--warehouse" in line for line in calls)


def test_domain_ci_runs_the_static_and_unit_tiers_and_the_touched_locations_tiers(pytestconfig):
    known = {m.split(":")[0] for m in pytestconfig.getini("markers")}
    assert {"static", "unit", *LOCATIONS} <= known  # a location's marker comes from the workspace (conftest)
    tier_runs = [run.strip() for run in steps("domains.yml") if "tasks.py test" in run]
    assert tier_runs == ['python3 tasks.py test -m "static or unit or ${{ needs.affected.outputs.markers }}"']


def test_the_ci_builds_the_base_warehouse_with_every_location_the_workspace_declares():
    """No list of locations kept by hand in the workflow: it asks the workspace."""
    builds = [run for run in steps("domains.yml") if "asset materialize" in run]
    assert len(builds) == 1 and "devsupport list locations" in builds[0]
    assert not any(location in builds[0].split() for location in LOCATIONS)
