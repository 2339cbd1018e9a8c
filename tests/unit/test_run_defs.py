"""The run_defs patch (dataplatform.patches): a run's process builds its definitions without the
catalogue of component types that only the UI reads; the code server still builds it."""

import types

import pytest
from support import printed_json

from dataplatform.patches.fit import DoesNotFit
from dataplatform.patches.run_defs import fits

# The catalogue as the code server (this process) and as a run (a multiprocessing child, forked as
# the warm_runs patch forks runs) build it: whether the definitions carry it.
BUILT_HERE_AND_IN_A_RUN = """
import json, multiprocessing, sys
from dagster.components.core import load_defs
if sys.argv[1] == "patched":
    from dataplatform.patches.run_defs import apply
    apply()
    apply()  # idempotent

def carries_catalogue(_=None):
    defs = load_defs.get_library_json_enriched_defs(None)
    return load_defs.PLUGIN_COMPONENT_TYPES_JSON_METADATA_KEY in (defs.metadata or {})

with multiprocessing.get_context("fork").Pool(1) as pool:
    in_a_run = pool.map(carries_catalogue, [0])[0]
print(json.dumps({"code server": carries_catalogue(), "run": in_a_run}))
"""


def built(mode: str) -> dict:
    return printed_json(BUILT_HERE_AND_IN_A_RUN, mode)


def test_the_installed_dagster_fits():
    fits()


def test_without_the_patch_a_run_builds_the_catalogue():
    assert built("stock") == {"code server": True, "run": True}


def test_with_the_patch_only_the_code_server_builds_it():
    assert built("patched") == {"code server": True, "run": False}


def test_a_root_component_that_builds_otherwise_does_not_fit_in_one_line():
    def get_library_json_enriched_defs(tree):
        return tree

    class ComponentRootComponent:
        def build_defs(self, context):
            return context

    module = types.SimpleNamespace(__name__="later_load_defs", get_library_json_enriched_defs=get_library_json_enriched_defs)
    with pytest.raises(DoesNotFit, match=r"^ComponentRootComponent.build_defs no longer calls get_library_json_enriched_defs$"):
        fits(module, ComponentRootComponent)
    with pytest.raises(DoesNotFit, match="is gone"):
        fits(types.SimpleNamespace(__name__="later_load_defs"), ComponentRootComponent)
