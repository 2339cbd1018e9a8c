"""The dg component a domain location declares in its ``defs.yaml``, and how a location loads its defs.

A domain's ``defs.yaml`` names its dbt group and three daily times; the component builds the rest
the same way for every domain (``build_domain_definitions``): the platform's asset keys, daily
partitions, blue/green marts, code versions, the snapshot pool ``<group>_snapshots``, the jobs and
their schedules. It is not a ``DbtProjectComponent``: that builds one dbt op from a selection,
and a domain is three (events by day, the other models, snapshots in their pool) plus its jobs.
"""

import warnings
from pathlib import Path
from types import ModuleType

import dagster as dg
from pydantic import Field


class DomainSchedules(dg.Model):
    """Daily times (cron, UTC) of the domain's jobs."""

    snapshots: str = Field(description="dbt snapshots of the domain's source tables, after ingest (05:00).")
    build: str = Field(description="The domain's build: yesterday's partition of its event models, then the rest.")
    critical_tests: str = Field(description="Re-run of the tests tagged critical, after every domain's build.")


class DbtDomain(dg.Component, dg.Model, dg.Resolvable):
    """A business domain's slice of the one dbt project: every model, snapshot and test of its dbt group."""

    group: str = Field(description="The dbt group the domain owns (dbt_project.yml); also its asset group.")
    schedules: DomainSchedules

    @classmethod
    def get_code_references_for_yaml(cls, yaml_path, source_position, context) -> list:
        """None: each asset's "Source code" link is its dbt model's .sql (dagster-dbt's code
        references), not this defs.yaml, which dg would otherwise list first for every asset."""
        return []

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from dataplatform.domain import build_domain_definitions

        return build_domain_definitions(
            self.group,
            snapshot_cron=self.schedules.snapshots,
            build_cron=self.schedules.build,
            critical_tests_cron=self.schedules.critical_tests,
        )


def load_location(defs_folder: ModuleType) -> dg.Definitions:
    """A location's definitions: everything its ``defs`` folder declares, as ``dg`` loads it.

    Loaded from the module rather than from the project's pyproject.toml (``load_from_defs_folder``):
    a location image installs the package, where no pyproject.toml sits above the module.
    """
    from dataplatform.dialog_fix import install_dialog_fix

    install_dialog_fix()  # in the code server that loads this location (see dialog_fix)
    project_root = Path(defs_folder.__file__).parent.parent
    with warnings.catch_warnings():
        # Warnings about dg's own loading (preview and beta APIs it uses): not the user's to act on.
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.ComponentTree.from_module(defs_module=defs_folder, project_root=project_root).build_defs()
