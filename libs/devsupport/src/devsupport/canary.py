"""The upstream canary: the platform against the newest Dagster, dagster-dbt and dbt on the registry,
before a routine `uv lock --upgrade` meets them.

    python3 tasks.py canary          # .github/workflows/canary.yml runs it every Monday

In a copy of this checkout (``.local/canary/tree``) it locks dagster, dagster-webserver,
dagster-dbt, dbt-core and dbt-duckdb, and every dagster-* and dbt-* package released with them, at
their newest release on the registry (as overrides: dagster-dbt pins the exact dagster it was
released with, and the workspace pins dbt-core's minor), the rest of the lock moving only as they
need, and syncs its environment.
There it runs the contract tests, the unit and definitions tiers, the backfill patches' tests and
a day through ingest and both domains of the platform's test project (tests/e2e/test_blue_green.py),
then prints, per patch of ``dataplatform.patches``: fits, does not fit (why), or no longer needed
(its evidence test, which shows stock Dagster's problem, fails: Dagster may behave right without
it). It exits 1 when something needs a person: a test failed, a patch does not fit or may be gone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from devsupport import REPO
from devsupport.environments import copy_checkout, scrubbed_env, uv

UPSTREAM = ("dagster", "dagster-webserver", "dagster-dbt", "dbt-core", "dbt-duckdb")
# Released with them, so moved with them: every dagster-* and dbt-* package of the lock.
FAMILY = re.compile(r"(dagster|dagster-[a-z0-9-]+|dbt-[a-z0-9-]+)")
# dbt-core 1.12's parser (dbt-core-experimental-parser) builds from GitHub past 2.0.0a4, which is on PyPI.
PINNED = {"dbt-core-experimental-parser": "2.0.0a4"}
TESTS = ["-m", "unit or definitions or e2e", "tests/unit", "tests/definitions", "tests/e2e/test_backfill_units.py",
         "tests/e2e/test_blue_green.py"]


def run(command: list[str], cwd: Path = REPO, **kwargs) -> subprocess.CompletedProcess:
    print("canary: " + " ".join(map(str, command))[:200], flush=True)
    return subprocess.run(command, cwd=cwd, text=True, **kwargs)


def newest(name: str) -> str:
    """The newest release of ``name`` on PyPI."""
    import urllib.request

    with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=60) as response:
        return json.load(response)["info"]["version"]


def overrides(lock: dict) -> dict[str, str]:
    """The family's newest releases (the parser dbt-core 1.12 needs here, pinned)."""
    family = {package["name"] for package in lock["package"] if FAMILY.fullmatch(package["name"])} | set(UPSTREAM)
    return {name: PINNED.get(name) or newest(name) for name in sorted(family | set(PINNED))}


def with_overrides(pyproject: str, pins: dict[str, str]) -> str:
    """The root pyproject.toml with ``pins`` as uv overrides, in place of its constraints."""
    kept = [line for line in pyproject.splitlines() if not line.startswith("constraint-dependencies")]
    at = kept.index("[tool.uv]") + 1
    kept.insert(at, "override-dependencies = [" + ", ".join(f'"{n}=={v}"' for n, v in pins.items()) + "]")
    return "\n".join(kept) + "\n"


def install(folder: Path) -> tuple[Path, str]:
    """A copy of this checkout locked and synced with the newest upstream family; the copy and its python."""
    shutil.rmtree(folder, ignore_errors=True)
    tree = copy_checkout(folder / "tree")
    pins = overrides(tomllib.loads((tree / "uv.lock").read_text()))
    (tree / "pyproject.toml").write_text(with_overrides((tree / "pyproject.toml").read_text(), pins))
    env = scrubbed_env()
    env.pop("VIRTUAL_ENV", None)
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    run([*uv(), "lock", "--quiet", *(arg for name in pins for arg in ("--upgrade-package", name))], cwd=tree, env=env, check=True)
    run([*uv(), "sync", "--frozen", "--all-packages", "--quiet"], cwd=tree, env=env, check=True)
    return tree, str(tree / ".venv" / "bin" / "python")


def versions(python: str) -> dict[str, str]:
    code = ("import importlib.metadata as m, json; "
            f"print(json.dumps({{n: m.version(n) for n in {list(UPSTREAM)!r}}}))")
    return json.loads(run([python, "-c", code], capture_output=True, check=True).stdout)


def patch_states(python: str, tree: Path) -> dict[str, tuple[str, str, str]]:
    """name -> (state here, why, evidence test)."""
    code = ("import json; from dataplatform.patches import PATCHES, status; "
            "print(json.dumps([[*row, next(p.evidence for p in PATCHES if p.name == row[0])] for row in status()]))")
    rows = json.loads(run([python, "-c", code], cwd=tree, capture_output=True, check=True, env=scrubbed_env()).stdout)
    return {name: (state, why, evidence) for name, state, why, evidence in rows}


def test_outcomes(python: str, tree: Path, report: Path) -> dict[str, str]:
    """pytest's outcome of each test (``path::name``) of the canary's selection, from its JUnit report."""
    environment = scrubbed_env()
    environment.pop("VIRTUAL_ENV", None)
    run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *TESTS], cwd=tree, env=environment)
    outcomes = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/") + ".py"
        name = case.get("name", "").split("[")[0]
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        previous = outcomes.get(f"{path}::{name}")
        outcomes[f"{path}::{name}"] = "failed" if failed or previous == "failed" else ("skipped" if skipped else "passed")
    return outcomes


def outcome_of(outcomes: dict[str, str], evidence: str) -> str:
    path, _, name = evidence.partition("::")
    found = [o for test, o in outcomes.items() if test.endswith(f"{path}::{name}") or test.endswith(
        f"{Path(path).stem}.py::{name}")]
    return found[0] if found else "not run"


def main() -> None:
    folder = REPO / ".local" / "canary"
    tree, python = install(folder)
    found = versions(python)
    states = patch_states(python, tree)
    outcomes = test_outcomes(python, tree, folder / "report.xml")
    evidence = {state[2].split(" ")[0] for state in states.values()}
    failed = sorted(t for t, o in outcomes.items() if o == "failed" and not any(t.endswith(e.split("::")[-1]) for e in evidence))
    print("\ncanary: the newest on the registry: " + ", ".join(f"{n} {v}" for n, v in found.items()))
    print(f"canary: {sum(o == 'passed' for o in outcomes.values())} tests passed, {len(failed)} failed"
          + "".join(f"\n  failed: {t}" for t in failed))
    attention = bool(failed)
    for name, (state, why, test) in states.items():
        shown = outcome_of(outcomes, test)
        if state == "does not fit":
            verdict, attention = f"does not fit: {why}", True
        elif shown == "failed":
            verdict, attention = f"fits, and may be no longer needed: its evidence ({test}) fails", True
        else:
            verdict = f"fits (evidence {shown})"
        print(f"canary: patch {name:15} {verdict}")
    sys.exit(1 if attention else 0)


if __name__ == "__main__":
    main()
