"""Shared fixtures: a throwaway warehouse, landing zone and settings per test.

Tiers follow folders (tests/static, unit, definitions, e2e, deploy, platform, bigquery, example)
and get their marker automatically, so `pytest -m unit` or `pytest tests/unit` run one tier.
`static` is the linters (ruff, sqlfluff, deptry, the docs); `unit` is pure functions and runs in
seconds. The platform's own tests run on its test project (tests/fixtures/subscriptions,
`fixture_root`), never on the example, whose own tests are the `example` tier (tests/example).
Location markers (`-m sales`), one per location the workspace declares, pick the tests of what one
team owns: what a pull request that touches only that location runs beside the unit tier (docs,
"Working on one domain"): the workspace's checks of that location, and the tests that mark it.
"""

import json
from pathlib import Path

import pytest

from dataplatform.settings import Settings, resolve_settings

REPO = Path(__file__).resolve().parents[1]
TIERS = ("static", "unit", "definitions", "e2e", "deploy", "platform", "bigquery", "example")
# The test modules of the platform's own location's code (the ingest), as its marker: a pull
# request that touches locations/shared_ingest runs them. A module not listed here runs on main, in
# the full suite; a test can also carry a location's marker itself (tests/example, and the
# workspace's checks parametrized by location).
LOCATION_TIERS = {
    "e2e/test_bad_input.py": ("shared_ingest",),
    "e2e/test_ingest_partitions.py": ("shared_ingest",),
}
# `tasks.py test` runs on several workers (pytest-xdist). The tiers that read or parse the
# checkout's own dbt project (its one target/ folder, parsed under each worker's environment) run
# on one worker, one after the other; each e2e or platform module, which works on copies of its
# own, runs whole on one worker, so its module fixtures (a platform) start once.
SHARED_CHECKOUT_TIERS = ("static", "unit", "definitions", "deploy", "bigquery", "example")


def pytest_configure(config):
    """One marker per code location the workspace declares (`-m sales`), not a list kept by hand."""
    from support import LOCATIONS

    for location in LOCATIONS:
        config.addinivalue_line("markers", f"{location}: the tests of the {location} code location")


def pytest_xdist_make_scheduler(config, log):
    """xdist's scheduling by scope, where a scope is "checkout" for the tiers that share the
    checkout's dbt project, else the test module. (xdist's own `loadgroup` renames node ids, which
    pytest 9.2 no longer reads; a scheduler's `_split_scope` is how xdist's own schedulers differ.)"""
    from xdist.scheduler import LoadScopeScheduling

    class CheckoutOrModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]  # tests/<tier>/test_x.py
            parts = Path(module).parts
            return "checkout" if len(parts) > 1 and parts[1] in SHARED_CHECKOUT_TIERS else module

    return CheckoutOrModule(config, log)


def pytest_collection_modifyitems(items):
    for item in items:
        path = Path(item.fspath).relative_to(REPO / "tests")
        if path.parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, path.parts[0]))
        for location in LOCATION_TIERS.get(path.as_posix(), ()):
            item.add_marker(getattr(pytest.mark, location))


@pytest.fixture(scope="session")
def dev_env(tmp_path_factory) -> dict[str, str]:
    """A scrubbed dev environment shared by the tests that load locations in fresh interpreters:
    one warehouse path, so the manifest prepared for it is parsed once, not once per test."""
    from support import scrubbed_env

    return scrubbed_env(PLATFORM_SCHEDULES="stopped", PLATFORM_ENV="dev", PLATFORM_LOCAL_DIR=str(tmp_path_factory.mktemp("local")))


@pytest.fixture(scope="session")
def dev_locations(dev_env) -> dict[str, dict]:
    """Each location loaded alone in a fresh interpreter on dev settings, described (see support)."""
    from support import LOCATIONS, describe_location

    return {name: describe_location(name, dev_env) for name in LOCATIONS}


def point_at_dev(mp, local_dir: str) -> Settings:
    """This process on dev settings under ``local_dir`` (schedules stopped), with the environment
    dbt reads, through a pytest MonkeyPatch (undone after it)."""
    from support import scrub_env

    scrub_env(mp, PLATFORM_ENV="dev", PLATFORM_LOCAL_DIR=local_dir, PLATFORM_SCHEDULES="stopped")
    settings = resolve_settings()
    for name, value in settings.dbt_env().items():
        mp.setenv(name, value)
    return settings


@pytest.fixture
def platform_env(tmp_path, monkeypatch) -> Settings:
    """Dev settings pointing at a fresh warehouse and landing zone under tmp_path."""
    return point_at_dev(monkeypatch, str(tmp_path / "local"))


@pytest.fixture(scope="session")
def fixture_root(tmp_path_factory) -> Path:
    """The platform's test project brought into a copy of the repository, the example removed
    (support.fixture_workspace); its domain packages importable in this process."""
    import sys

    from support import fixture_pythonpath, fixture_workspace

    root = fixture_workspace(tmp_path_factory.mktemp("fixture") / "repo")
    paths = fixture_pythonpath(root).split(":")
    sys.path[:0] = paths
    yield root
    for path in paths:
        sys.path.remove(path)


def prepared_manifest(dev_env: dict[str, str], project: Path | None = None) -> dict:
    """A dev manifest, prepared as a location prepares it when it loads (``dbt deps`` and ``dbt
    parse`` only if the project changed), with no location loaded."""
    from dataplatform.dbt.project import get_dbt_project, prepare_manifest

    with pytest.MonkeyPatch.context() as mp:
        settings = point_at_dev(mp, dev_env["PLATFORM_LOCAL_DIR"])
        path = prepare_manifest(get_dbt_project(project or settings.require_dbt_project(), settings.dbt_target))
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def manifest(dev_env) -> dict:
    """The manifest of the workspace's own dbt project (whatever domains it declares): for the
    checks every project must pass."""
    return prepared_manifest(dev_env)


@pytest.fixture(scope="session")
def fixture_manifest(dev_env, fixture_root) -> dict:
    """The manifest of the platform's test project (tests/fixtures/subscriptions)."""
    return prepared_manifest(dev_env, fixture_root / "dbt")
