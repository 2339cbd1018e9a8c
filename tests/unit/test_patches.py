"""The registry of the platform's patches of Dagster (dataplatform.patches): each is complete, fits
the installed Dagster, fails open when it does not (a warning, stock Dagster's behaviour, never an
exception), is switched off by PLATFORM_PATCHES, and the docs' table says what the registry says."""

import logging
import os
import re

import pytest
from support import REPO

from dataplatform import patches
from dataplatform.patches import PATCHES, DoesNotFit, active, install, status

DOCS = REPO / "docs" / "pitfalls.md"
TABLE = re.compile(r"<!-- patches: start -->\n(.*?)<!-- patches: end -->", re.S)


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    """Each test sees the fit and the warnings anew (they are kept once a process)."""
    monkeypatch.delenv("PLATFORM_PATCHES", raising=False)
    patches._fit.cache_clear()
    patches._warn_once.cache_clear()
    yield
    patches._fit.cache_clear()
    patches._warn_once.cache_clear()


def test_each_patch_is_described_whole_and_its_evidence_exists():
    for patch in PATCHES:
        assert all([patch.changes, patch.why, patch.without, patch.evidence]), patch.name
        assert patch.need in ("mission", "optimisation", "cosmetic")
        assert patch.installed_by in ("run coordinator", "location", "location loader", "dbt resource")
        module = patch._implementation()
        assert callable(module.fits) and callable(module.apply)
        path, _, test = patch.evidence.partition("::")
        assert (REPO / path.split(" ")[0]).is_file(), patch.evidence
        assert not test or f"def {test}(" in (REPO / path).read_text(), patch.evidence


def test_every_patch_fits_the_installed_dagster():
    assert {name: why for name, _, why in status() if why} == {}
    for patch in PATCHES:
        patch.fits()


def test_a_patch_that_does_not_fit_stays_off_with_one_warning_and_the_rest_install(monkeypatch, caplog):
    import dagster

    def later_dagster():
        raise DoesNotFit("get_external_pipeline_subset_result takes [..., 'one_more']")

    monkeypatch.setattr(patches.BY_NAME["dialog"]._implementation(), "fits", later_dagster)
    with caplog.at_level(logging.WARNING):
        assert install("location", warm_runs={"preload": []}) == ["warm_runs"]
        assert not active("dialog") and active("warm_runs")
    warnings = [r.getMessage() for r in caplog.records if "dialog" in r.getMessage()]
    assert warnings == [f"dataplatform patch dialog does not fit dagster {dagster.__version__}: "
                        f"get_external_pipeline_subset_result takes [..., 'one_more']. It is off: "
                        f"{patches.BY_NAME['dialog'].without} (dataplatform.patches; python -m dataplatform.patches)"]
    assert ("dialog", "does not fit", "get_external_pipeline_subset_result takes [..., 'one_more']") in status()


def test_a_private_module_gone_is_a_patch_that_does_not_fit(monkeypatch):
    def moved():
        raise ModuleNotFoundError("No module named 'dagster._core.execution.asset_backfill'")

    monkeypatch.setattr(patches.BY_NAME["backfill_units"]._implementation(), "fits", moved)
    assert install("run coordinator") == ["backfill_split", "sensor_loop"]
    assert ("backfill_units", "does not fit",
            "ModuleNotFoundError: No module named 'dagster._core.execution.asset_backfill'") in status()


def test_platform_patches_switches_them_off_one_by_one(monkeypatch):
    monkeypatch.setenv("PLATFORM_PATCHES", "none")
    assert install("run coordinator") == [] and not any(active(p.name) for p in PATCHES)
    monkeypatch.setenv("PLATFORM_PATCHES", "backfill_units,dbt_startup")
    assert {name for name, state, _ in status() if state == "on"} == {"backfill_units", "dbt_startup"}
    assert {name for name, state, _ in status() if state == "off"} == {"backfill_split", "dialog", "run_defs", "sensor_loop",
                                                                       "sqlite_engines", "warm_runs"}


def render_table() -> str:
    """The registry as the docs show it."""
    rows = ["| patch | need | what it changes | without it (stock Dagster) | installed by | evidence |",
            "|---|---|---|---|---|---|"]
    rows += [f"| `{p.name}` | {p.need} | {p.changes} | {p.without} | {p.installed_by} | `{p.evidence}` |" for p in PATCHES]
    return "\n".join(rows) + "\n"


def test_the_docs_list_the_patches_as_the_registry_does():
    """Rewrite the table with UPDATE_DOCS=1 after a change to the registry."""
    text = DOCS.read_text()
    if os.environ.get("UPDATE_DOCS"):
        DOCS.write_text(TABLE.sub(lambda _: f"<!-- patches: start -->\n{render_table()}<!-- patches: end -->", text))
        text = DOCS.read_text()
    found = TABLE.search(text)
    assert found, f"{DOCS.relative_to(REPO)} has no table between <!-- patches: start --> and <!-- patches: end -->"
    assert found.group(1) == render_table(), "the docs' table of patches differs from the registry: UPDATE_DOCS=1"
