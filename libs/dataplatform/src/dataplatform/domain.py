"""The thin builder that turns a domain's plan (dataplatform.dbt.plan) into its location's
``Definitions``: its dbt op, its jobs, what starts its day, its alerts."""

import functools
import json
from datetime import timedelta
from pathlib import Path

from dagster import AssetSelection, Definitions, FreshnessPolicy, define_asset_job, get_dagster_logger
from dagster_dbt import DbtProject

from dataplatform.automation.alerts import location_alerts
from dataplatform.automation.status import schedule_status, sensor_status
from dataplatform.automation.triggers import domain_schedule, domain_trigger
from dataplatform.dbt.op import build_dbt_assets
from dataplatform.dbt.plan import DomainPlan, plan_domain
from dataplatform.dbt.project import dbt_cli, get_dbt_project, prepare_manifest
from dataplatform.dbt.slices import slice_path
from dataplatform.dbt.translator import PlatformTranslator
from dataplatform.partitions import daily_partitions
from dataplatform.runs import RUN_TAGS, platform_executor
from dataplatform.settings import Settings, resolve_settings


def marts_freshness(fresh_by: str, allowed: timedelta = timedelta(hours=3)) -> FreshnessPolicy:
    """Each mart is expected materialized within ``allowed`` before ``fresh_by`` (a daily cron, UTC), every day."""
    return FreshnessPolicy.cron(deadline_cron=fresh_by, lower_bound_delta=allowed)


def build_domain_definitions(domain: str, *, marts_fresh_by: str, start: str = "data", cron: str | None = None,
                             settings: Settings | None = None) -> Definitions:
    """Everything a domain location defines, from its dbt group, the daily time its marts are due
    and what starts its day (``start``: data, cron or both; ``cron``: its schedule's)."""
    settings = settings or resolve_settings()
    settings.export_dbt_env()
    project = get_dbt_project(settings.require_dbt_project(), settings.dbt_target)
    manifest_path = prepare_manifest(project)
    # Its own slice of the manifest; the whole one if its group has none (an undeclared group:
    # plan_domain names the groups the project declares).
    path = slice_path(manifest_path, domain)
    path = path if path.is_file() else manifest_path
    stat = path.stat()
    return _domain_definitions(domain, marts_fresh_by, start, cron, settings, project, path,
                               (stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _domain_definitions(domain: str, marts_fresh_by: str, start: str, cron: str | None, settings: Settings,
                        project: DbtProject, manifest_path: Path, manifest_version: tuple[int, int]) -> Definitions:
    """Built once per domain, settings and manifest version. A code server calls a location's
    ``@definitions`` function twice at start (once for its load context, then for the repository):
    the second call gets the first's definitions, not a second copy of the domain's specs."""
    manifest = json.loads(manifest_path.read_text())
    translator = PlatformTranslator(source_tests_as_checks=True, marts_freshness=marts_freshness(marts_fresh_by),
                                    project=project)
    plan = plan_domain(manifest, domain, marts_fresh_by, translator, start=start, cron=cron)
    if plan is None:
        get_dagster_logger().warning(f"the dbt group {domain!r} owns no model yet: the {domain} location defines no "
                                     f"asset until models are added under dbt/models/{domain}/")
        return Definitions(sensors=location_alerts(domain, settings))
    return definitions_of(plan, project, manifest, translator, settings)


def definitions_of(plan: DomainPlan, project: DbtProject, manifest, translator: PlatformTranslator,
                   settings: Settings) -> Definitions:
    """The plan's op, jobs, trigger or schedule (or both), and alerts."""
    dbt_op = build_dbt_assets(plan, project, manifest, translator)
    build = define_asset_job(
        plan.job, selection=AssetSelection.assets(dbt_op) | AssetSelection.checks(*dbt_op.check_keys),
        tags=RUN_TAGS,
        description=f"{plan.domain}'s day, or a range of days: one dbt build of its whole dbt group, started by "
                    + " and ".join(([f"its trigger {plan.trigger}"] if plan.starts_by_data else [])
                                   + ([f"its schedule {plan.schedule} ({plan.cron} UTC)"] if plan.schedule else [])) + ".",
    )
    jobs = [build]
    if plan.critical_tests_job:
        critical = sorted((key for key in dbt_op.check_keys if key.name in plan.critical_tests), key=str)
        # Checks only: dagster-dbt runs just these tests (`dbt build --select <tests>`), no model.
        jobs.append(define_asset_job(plan.critical_tests_job, selection=AssetSelection.checks(*critical),
                                     description="Re-runs the critical tests on demand, without building anything."))
    triggers = [domain_trigger(plan, build, daily_partitions(), sensor_status(settings),
                               settings.trigger_interval_seconds)] if plan.starts_by_data else []
    schedules = [domain_schedule(plan, build, daily_partitions(), schedule_status(settings))] if plan.schedule else []
    return Definitions(
        assets=[dbt_op],
        jobs=jobs,
        schedules=schedules,
        sensors=[*triggers, *location_alerts(plan.domain, settings)],
        resources={"dbt": dbt_cli(project)},
        executor=platform_executor(settings),
    )
