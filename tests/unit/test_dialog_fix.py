"""The dialog patch (dataplatform.patches): a code server previews its asset job for a selection
spanning code locations; without it, stock Dagster fails the preview (the dialog's "Unknown error")."""

import types

import pytest
from dagster import AssetKey
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._grpc import impl, server

from dataplatform.patches.dialog import apply, fits, own_asset_selection
from dataplatform.patches.fit import DoesNotFit

LOCATION_FILE = '''
from dagster import Definitions, asset

@asset
def mine():
    pass

defs = Definitions(assets=[mine])
'''
MINE, OTHER_LOCATIONS = AssetKey("mine"), AssetKey(["billing", "invoices"])


@pytest.fixture
def location(tmp_path):
    """A one-asset code location, loaded the way a code server loads it."""
    (tmp_path / "location.py").write_text(LOCATION_FILE)
    recon = ReconstructableRepository.for_file(str(tmp_path / "location.py"), "defs")
    return recon.get_definition(), recon


def test_without_the_fix_the_preview_of_foreign_keys_fails(location):
    """Stock Dagster: the preview the dialog asks of the first asset's location, for every asset of
    every location, fails there (the dialog prints it as "Unknown error")."""
    repo, recon = location
    selection = {MINE, OTHER_LOCATIONS}  # what the dialog sends: every asset of every location
    unfixed = impl.get_external_pipeline_subset_result(repo, recon, "__ASSET_JOB", None, selection, None, False)
    assert not unfixed.success and "no AssetsDefinition objects supply these keys" in unfixed.error.message


def test_the_preview_of_the_asset_job_for_the_whole_graph_succeeds_on_each_location(location):
    repo, recon = location
    selection = {MINE, OTHER_LOCATIONS}
    apply()
    apply()  # idempotent
    fixed = server.get_external_pipeline_subset_result(repo, recon, "__ASSET_JOB", None, selection, None, False)
    assert fixed.success, fixed.error
    assert server.get_external_pipeline_subset_result.__wrapped__ is impl.get_external_pipeline_subset_result


def test_only_the_implicit_asset_job_previews_with_the_locations_own_keys(location):
    repo, _ = location
    assert own_asset_selection(repo, "__ASSET_JOB", {MINE, OTHER_LOCATIONS}) == {MINE}
    assert own_asset_selection(repo, "__ASSET_JOB", {OTHER_LOCATIONS}) == {OTHER_LOCATIONS}  # still refused
    assert own_asset_selection(repo, "billing_build", {MINE, OTHER_LOCATIONS}) == {MINE, OTHER_LOCATIONS}


def test_the_fix_does_not_fit_internals_it_was_not_written_for():
    fits(impl, server)  # the installed dagster: fits
    fits()

    def other(repo_def, job_name, selection):
        pass

    with pytest.raises(DoesNotFit, match=r"get_external_pipeline_subset_result takes"):
        fits(types.SimpleNamespace(get_external_pipeline_subset_result=other), server)
    handler = types.SimpleNamespace(DagsterApiServer=types.SimpleNamespace(ExternalPipelineSubsetSnapshot=other))
    with pytest.raises(DoesNotFit, match="no longer calls get_external_pipeline_subset_result"):
        fits(impl, handler)
