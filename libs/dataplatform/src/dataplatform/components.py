"""The dg component a domain location declares in its ``defs.yaml``, and the field types of components.

A domain's ``defs.yaml`` names its dbt group and the daily time its marts are due; the component
builds the rest the same way for every domain (dataplatform.dbt.plan plans it,
dataplatform.domain builds it): one daily-partitioned dbt op of the whole group in the
pool ``<group>_snapshots``, its job, what starts its day (its trigger, its own schedule, or both), the alerts. It is not
a ``DbtProjectComponent``: a domain is also its trigger, its checks' jobs and its alerts.
"""

from typing import Annotated, Literal

import dagster as dg
from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from dataplatform.partitions import daily_cron_time


def _daily(value: str, info: ValidationInfo) -> str:
    daily_cron_time(value, info.field_name)
    return value


# A component field holding a daily cron (UTC): anything else is refused at load, naming the field.
DailyCron = Annotated[str, AfterValidator(_daily)]


def _cron(value: str | None, info: ValidationInfo) -> str | None:
    if value is not None:
        try:  # Dagster's own check of a schedule's cron
            dg.ScheduleDefinition(name="cron_check", cron_schedule=value, job_name="cron_check")
        except dg.DagsterInvalidDefinitionError:
            raise ValueError(f"{info.field_name} {value!r} is not a cron schedule (five fields, as \"0 6 * * *\")") from None
    return value


Cron = Annotated[str | None, AfterValidator(_cron)]


class DbtDomain(dg.Component, dg.Model, dg.Resolvable):
    """A business domain's slice of the one dbt project: every model, snapshot and test of its dbt group."""

    group: str = Field(description="The dbt group the domain owns (dbt_project.yml); also its asset group.")
    marts_fresh_by: DailyCron = Field(description="Daily cron (UTC) by which the marts must hold yesterday; later, they "
                                "show as stale and an alert goes to the group's owner.")
    start: Literal["data", "cron", "both"] = Field(
        "data", description="How the domain's day starts: `data` (its trigger, once every input it reads for the day "
                            "is in), `cron` (its own schedule, at `cron`), or `both`.")
    cron: Cron = Field(None, description="Cron (UTC) of the domain's own schedule (with start: cron or both): it "
                                         "builds the days whose inputs are in, and its tick says what the others wait for.")

    @model_validator(mode="after")
    def _cron_goes_with_start(self):
        if self.start != "data" and self.cron is None:
            raise ValueError(f"start: {self.start} needs a cron (UTC), e.g. cron: \"0 6 * * *\"")
        if self.start == "data" and self.cron is not None:
            raise ValueError(f"cron {self.cron!r} is set but start is data: set start: cron (or both) to use it")
        return self

    @classmethod
    def get_code_references_for_yaml(cls, yaml_path, source_position, context) -> list:
        """None: each asset's "Source code" link is its dbt model's .sql (dagster-dbt's code
        references), not this defs.yaml, which dg would otherwise list first for every asset."""
        return []

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from dataplatform.domain import build_domain_definitions

        return build_domain_definitions(self.group, marts_fresh_by=self.marts_fresh_by, start=self.start, cron=self.cron)
