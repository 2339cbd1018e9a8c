"""Patch ``dbt_startup`` (dataplatform.patches): dagster-dbt's dbt CLI resource without two
start-up costs it pays on every dbt command of every run.

* To tell dbt-core from dbt Fusion, dagster-dbt starts ``dbt --version`` before each dbt command:
  a second dbt start-up that also asks PyPI for the latest release (5-10 s). The dbt beside this
  Python is the installed dbt-core, whose package metadata has the version; any other executable
  is still asked.
* It also loads a dbt adapter (dbt's macros, a profile) inside the run process (~4 s), used only by
  ``fetch_row_counts()`` and ``fetch_column_metadata()``, which the platform's assets do not call.
  ``in_process_adapter=True`` loads it for an asset that does.

The resource overrides two private hooks of ``DbtCliResource`` (``_cli_version``,
``_initialize_dbt_core_adapter``); ``dataplatform.dbt.project.dbt_cli`` gives it only when the
patch is on and fits, and plain ``DbtCliResource`` otherwise. tests/definitions/test_dbt_cli.py
checks that a real ``cli()`` still calls both hooks.
"""

import importlib.metadata
import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource
from packaging.version import Version

from dataplatform.patches.fit import DoesNotFit, method_uses


class PlatformDbtCli(DbtCliResource):
    """dagster-dbt's dbt CLI resource, without ``dbt --version`` and the in-process adapter."""

    in_process_adapter: bool = False

    @cached_property
    def _cli_version(self) -> Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return Version(importlib.metadata.version("dbt-core"))
        return DbtCliResource._cli_version.func(self)

    def _initialize_dbt_core_adapter(self, args):
        return super()._initialize_dbt_core_adapter(args) if self.in_process_adapter else None


def fits() -> None:
    """``DbtCliResource`` still has both hooks, as the resource overrides them, and ``cli`` calls them."""
    import inspect

    if not isinstance(DbtCliResource.__dict__.get("_cli_version"), cached_property):
        raise DoesNotFit("DbtCliResource._cli_version is no longer a cached property")
    initialize = DbtCliResource.__dict__.get("_initialize_dbt_core_adapter")
    if not callable(initialize) or list(inspect.signature(initialize).parameters) != ["self", "args"]:
        raise DoesNotFit("DbtCliResource._initialize_dbt_core_adapter is gone or takes other parameters")
    for hook in ("_cli_version", "_initialize_dbt_core_adapter"):
        if not method_uses(DbtCliResource, "cli", hook):
            raise DoesNotFit(f"DbtCliResource.cli no longer uses {hook}")


def apply() -> None:
    """Nothing to install: the dbt resource is ``PlatformDbtCli`` where the patch is on."""
