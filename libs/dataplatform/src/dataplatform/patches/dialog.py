"""Patch ``dialog`` (dataplatform.patches): the UI's "Materialize all" dialog over several code
locations, installed by each location as it loads.

The dialog (dagster-webserver 1.13, ``LaunchAssetChoosePartitionsDialog``) mounts a config editor
that sends ``LaunchpadRootQuery``: ``pipelineOrError(__ASSET_JOB, assetSelection: <every asset of
the graph>)`` to the code location of the first asset only. That location cannot subset its asset
job to keys it does not define (``DagsterInvalidSubsetError``), the webserver answers
``InvalidSubsetError``, and the dialog shows "Error loading base asset job - Unknown error" on
every "Materialize all" across locations. The backfill it launches is not affected.

The fix: when a code server builds the preview of an implicit asset job (``__ASSET_JOB``) for a
selection, it drops the keys it does not execute, if any of its own remain. Runs are unaffected
(they never go through this function), and so is every other job. Delete it when the dialog asks
each location for its own assets.
"""

import functools
from collections.abc import Callable

from dataplatform.patches.fit import DoesNotFit, method_uses, private_function

_FUNCTION = "get_external_pipeline_subset_result"
_PARAMETERS = ["repo_def", "recon_repo", "job_name", "op_selection", "asset_selection",
               "asset_check_selection", "include_parent_snapshot"]


def own_asset_selection(repo_def, job_name: str, asset_selection):
    """The keys of ``asset_selection`` that the repository's implicit asset job executes, or the
    selection unchanged (another job, no selection, or none of its keys are this location's)."""
    from dagster._core.remote_representation.code_location import is_implicit_asset_job_name

    if not asset_selection or not is_implicit_asset_job_name(job_name) or not repo_def.has_job(job_name):
        return asset_selection
    own = set(asset_selection) & set(repo_def.get_job(job_name).asset_layer.executable_asset_keys)
    return own or asset_selection


def _drop_foreign_keys(build: Callable) -> Callable:
    @functools.wraps(build)
    def build_own(repo_def, recon_repo, job_name, op_selection, asset_selection, *rest):
        return build(repo_def, recon_repo, job_name, op_selection, own_asset_selection(repo_def, job_name, asset_selection),
                     *rest)

    build_own.drops_foreign_keys = True
    return build_own


def fits(impl=None, server=None) -> None:
    """The code server still answers a job subset through ``impl.get_external_pipeline_subset_result``
    with the same parameters (``impl``, ``server``: stand-ins in tests)."""
    if impl is None or server is None:
        from dagster._grpc import impl, server
    private_function(impl, _FUNCTION, _PARAMETERS)
    if not method_uses(getattr(server, "DagsterApiServer", None), "ExternalPipelineSubsetSnapshot", _FUNCTION):
        raise DoesNotFit(f"the code server's ExternalPipelineSubsetSnapshot no longer calls {_FUNCTION}")


def apply() -> None:
    """Patch the code server's job subset preview (idempotent)."""
    from dagster._grpc import impl, server

    if not getattr(server.get_external_pipeline_subset_result, "drops_foreign_keys", False):
        server.get_external_pipeline_subset_result = _drop_foreign_keys(impl.get_external_pipeline_subset_result)
