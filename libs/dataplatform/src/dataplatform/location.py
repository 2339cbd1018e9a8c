"""How a code location loads: everything its ``defs`` folder declares, as dg builds it. Every
location calls it, the ingest one too, so it imports no dbt: a domain's own definitions are its
component's (``dataplatform.components.DbtDomain``, built by ``dataplatform.domain``)."""

import sys
import warnings
from pathlib import Path
from types import ModuleType

import dagster as dg


def load_location(defs_folder: ModuleType) -> dg.Definitions:
    """A location's definitions: everything its ``defs`` folder declares, as ``dg`` loads it.

    Loaded from the module rather than from the project's pyproject.toml (``load_from_defs_folder``):
    a location image installs the package, where no pyproject.toml sits above the module.
    """
    from dataplatform.patches import install
    from dataplatform.patches.warm_runs import location_modules

    project_root = Path(defs_folder.__file__).parent.parent
    already_imported = set(sys.modules)
    install("location loader")  # before the build: what a run's build skips (the run_defs patch)
    with warnings.catch_warnings():
        # Warnings about dg's own loading (preview and beta APIs it uses): not the user's to act on.
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        defs = dg.ComponentTree.from_module(defs_module=defs_folder, project_root=project_root).build_defs()
    # In the code server that loads this location, after the build, so that what it imported is
    # preloaded too (the warm_runs patch); a patch that does not fit stays off, with a warning.
    imported_by_build = set(sys.modules) - already_imported
    install("location", warm_runs={"preload": location_modules(defs_folder.__name__.partition(".")[0], imported_by_build)})
    return defs
