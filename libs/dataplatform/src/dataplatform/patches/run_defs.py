"""Patch ``run_defs`` (dataplatform.patches): a run's process builds its location's definitions
without the catalogue of installed component types that only the UI reads.

Dagster 1.13 builds every dg project's definitions through its root component
(``dagster.components.core.defs_module.ComponentRootComponent``), which adds, as repository
metadata, the JSON schema of every component type of every installed dg plugin
(``dagster.components.core.load_defs.get_library_json_enriched_defs``: entry points scanned, each
plugin imported, a pydantic schema generated per type). The webserver shows it from the code
server's snapshot. A run rebuilds its definitions in its own process (started by the code server,
forked with the warm_runs patch) and computes it again, though nothing in a run reads it: 0.2 to
0.5 s of a forked run's 0.4 to 0.9 s start-up here (bench/README.md).

The fix: in a process started by ``multiprocessing`` (a run launched by a code server, or a step
of the multiprocess executor), the function returns the definitions without that metadata. The
code server, ``dagster api execute_run`` (a run pod) and every other process compute it as Dagster
does. Installed by each location before it builds its definitions
(``dataplatform.location.load_location``). Delete it when Dagster computes it lazily.
"""

import functools
import multiprocessing

_FUNCTION = "get_library_json_enriched_defs"
_PARAMETERS = ["tree"]


def fits(load_defs_module=None, root_component=None) -> None:
    """The root component still adds the catalogue through ``get_library_json_enriched_defs(tree)``,
    looked up in its module when it builds (``load_defs_module``, ``root_component``: stand-ins in tests)."""
    from dataplatform.patches.fit import DoesNotFit, method_uses, private_function

    if load_defs_module is None:
        from dagster.components.core import load_defs as load_defs_module
    if root_component is None:
        from dagster.components.core.defs_module import ComponentRootComponent as root_component
    private_function(load_defs_module, _FUNCTION, _PARAMETERS)
    if not method_uses(root_component, "build_defs", _FUNCTION):
        raise DoesNotFit(f"{root_component.__name__}.build_defs no longer calls {_FUNCTION}")


def in_a_run() -> bool:
    """Whether this process was started by multiprocessing: a run a code server launched, or a
    step's process; never a code server, a webserver or a daemon."""
    return multiprocessing.parent_process() is not None


def apply() -> None:
    """Make a run's process build its definitions without the catalogue (idempotent)."""
    from dagster import Definitions
    from dagster.components.core import load_defs

    original = getattr(load_defs, _FUNCTION)
    if getattr(original, "skipped_in_runs", False):
        return

    @functools.wraps(original)
    def library_defs(tree):
        return Definitions(component_tree=tree) if in_a_run() else original(tree)

    library_defs.skipped_in_runs = True
    setattr(load_defs, _FUNCTION, library_defs)
