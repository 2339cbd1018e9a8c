"""The factory every domain location calls: its dbt slice, snapshots, jobs and schedules."""


import json
from collections.abc import Mapping
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetSelection,
    AssetsDefinition,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
)
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from dataplatform.dbt_project import dbt_cli, get_dbt_project, prepare_manifest
from dataplatform.execution import RETRY_FROM_ASSET_FAILURE, platform_executor, schedule_status
from dataplatform.keys import snapshot_pool
from dataplatform.settings import Settings, resolve_settings
from dataplatform.translator import PlatformTranslator


def domain_selection(domain: str) -> str:
    """dbt selection of a domain's models (and their tests): its dbt group, snapshots excluded."""
    return f"group:{domain}"


def domain_snapshot_selection(domain: str) -> str:
    """dbt selection of a domain's snapshots: the intersection of its group and snapshots."""
    return f"group:{domain},resource_type:snapshot"


def count_nodes(manifest: Mapping[str, Any], domain: str, resource_type: str) -> int:
    """How many dbt nodes of one type the domain owns."""
    return sum(
        1
        for node in manifest["nodes"].values()
        if node["resource_type"] == resource_type and node.get("config", {}).get("group") == domain
    )


def build_dbt_assets(
    name: str,
    project: DbtProject,
    manifest: Mapping[str, Any],
    select: str,
    exclude: str | None = None,
    pool: str | None = None,
    source_tests_as_checks: bool = False,
) -> AssetsDefinition:
    """One ``dbt build`` over a selection; its dbt tests become asset checks."""

    @dbt_assets(
        manifest=manifest,
        project=project,
        select=select,
        exclude=exclude,
        name=name,
        dagster_dbt_translator=PlatformTranslator(source_tests_as_checks),
        pool=pool,
    )
    def _dbt(context: AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()

    return _dbt


def build_domain_definitions(
    domain: str,
    *,
    build_cron: str,
    snapshot_cron: str,
    settings: Settings | None = None,
) -> Definitions:
    """Everything a domain location defines, from its dbt group and two cron strings."""
    settings = settings or resolve_settings()
    settings.export_dbt_env()
    project = get_dbt_project(settings.require_dbt_project(), settings.dbt_target)
    manifest = json.loads(prepare_manifest(project).read_text())
    if count_nodes(manifest, domain, "model") == 0:
        raise ValueError(f"dbt group {domain!r} owns no model in {project.project_dir}")

    # Snapshots are a separate op in the domain's pool: an op has one pool, and models must not
    # wait for another run's snapshot. Snapshots read sources only, so the two ops never form a cycle.
    # The models op carries the tests on the sources it reads: dbt build runs them first, and a
    # failing one (stale or broken raw data) skips every model built on that source.
    models = build_dbt_assets(
        f"{domain}_dbt_models", project, manifest, domain_selection(domain), exclude="resource_type:snapshot",
        source_tests_as_checks=True,
    )
    assets = [models]
    jobs = [define_asset_job(
        f"{domain}_build",
        selection=AssetSelection.assets(models) | AssetSelection.checks(*models.check_keys),
        tags=RETRY_FROM_ASSET_FAILURE,
    )]
    if count_nodes(manifest, domain, "snapshot"):
        snapshots = build_dbt_assets(
            f"{domain}_dbt_snapshots", project, manifest, domain_snapshot_selection(domain), pool=snapshot_pool(domain)
        )
        assets.append(snapshots)
        jobs.append(
            define_asset_job(f"{domain}_snapshots", selection=AssetSelection.assets(snapshots), tags=RETRY_FROM_ASSET_FAILURE)
        )

    crons = {f"{domain}_build": build_cron, f"{domain}_snapshots": snapshot_cron}
    schedules = [
        ScheduleDefinition(
            name=f"{job.name}_daily",
            job=job,
            cron_schedule=crons[job.name],
            execution_timezone="UTC",
            default_status=schedule_status(settings),
        )
        for job in jobs
    ]
    return Definitions(
        assets=assets,
        jobs=jobs,
        schedules=schedules,
        resources={"dbt": dbt_cli(project)},
        executor=platform_executor(settings),
    )
