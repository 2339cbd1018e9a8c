"""The instance is written three times: dagster.yaml (dev), deploy/dagster.yaml (production
without Kubernetes) and deploy/helm/values.yaml (production with Dagster's Helm chart). These
tests keep the two production ones equal, and the dev one configuring the same features."""

import yaml
from support import REPO

# The sections the platform sets, beside storage (dev: the default SQLite; production: Postgres).
SECTIONS = {"run_coordinator", "concurrency", "run_monitoring", "run_retries", "freshness", "telemetry"}


def load(path: str) -> dict:
    return yaml.safe_load((REPO / path).read_text())


def rendered_by_the_chart(values: dict) -> dict:
    """The sections of dagster.yaml that Dagster's chart renders from our values, key for key as
    its templates/configmap-instance.yaml does."""
    daemon, monitoring, retries = values["dagsterDaemon"], values["dagsterDaemon"]["runMonitoring"], values["dagsterDaemon"]["runRetries"]
    return {
        "run_coordinator": {key: daemon["runCoordinator"]["config"]["customRunCoordinator"][key] for key in ("module", "class")},
        "concurrency": {"runs": {"max_concurrent_runs": values["concurrency"]["runs"]["maxConcurrentRuns"]},
                        "pools": {"default_limit": values["concurrency"]["pools"]["defaultLimit"]}},
        "run_monitoring": {"enabled": monitoring["enabled"], "start_timeout_seconds": monitoring["startTimeoutSeconds"],
                           "cancel_timeout_seconds": monitoring["cancelTimeoutSeconds"],
                           "max_resume_run_attempts": monitoring["maxResumeRunAttempts"],
                           "poll_interval_seconds": monitoring["pollIntervalSeconds"],
                           "free_slots_after_run_end_seconds": monitoring["freeSlotsAfterRunEndSeconds"]},
        "run_retries": {"enabled": retries["enabled"], "max_retries": retries["maxRetries"],
                        "retry_on_asset_or_op_failure": retries["retryOnAssetOrOpFailure"]},
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
        **values.get("additionalInstanceConfig", {}),
    }


def test_the_helm_values_render_the_production_instance():
    production = load("deploy/dagster.yaml")
    assert rendered_by_the_chart(load("deploy/helm/values.yaml")) == {name: production[name] for name in SECTIONS}


def test_dev_and_production_configure_the_same_features():
    dev, production = load("deploy/dev/dagster.yaml"), load("deploy/dagster.yaml")
    assert SECTIONS <= set(dev) and SECTIONS <= set(production)
    for name in SECTIONS - {"run_coordinator"}:  # the dev queue also sets how often it dequeues
        assert set(dev[name]) <= set(production[name]) | {"dequeue_interval_seconds"}, name
    assert dev["freshness"] == production["freshness"] and dev["telemetry"] == production["telemetry"]
    # Both load the run coordinator that installs the backfill fix in the daemon.
    assert {k: dev["run_coordinator"][k] for k in ("module", "class")} == production["run_coordinator"]
