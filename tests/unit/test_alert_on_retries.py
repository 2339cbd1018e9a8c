"""A failed run the instance will retry is not an alert; one it will not retry is, and says why
(its failed step's error). Real runs
on a real (ephemeral) instance with run retries on, as deploy/dagster.yaml sets them."""

import pytest
from dagster import DagsterEventType, DagsterInstance, Definitions, asset, build_run_status_sensor_context, define_asset_job

from dataplatform.alerts import run_failure_alert

RETRIES = {"run_retries": {"enabled": True, "max_retries": 1, "retry_on_asset_or_op_failure": True}}


@asset(owners=["team:platform"])
def flaky() -> None:
    raise RuntimeError("the warehouse went away")


DEFS = Definitions(assets=[flaky], jobs=[define_asset_job("flaky_job", [flaky])])


def failed_run_alert(instance: DagsterInstance, tags: dict):
    result = DEFS.resolve_job_def("flaky_job").execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in instance.all_logs(result.run_id, of_type=DagsterEventType.RUN_FAILURE)]
    context = build_run_status_sensor_context(
        sensor_name="alert", dagster_event=failure.dagster_event, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id), repository_def=DEFS.get_repository_def(),
    ).for_run_failure()
    return run_failure_alert(context)


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral(settings=RETRIES) as instance:
        yield instance


def test_a_run_that_will_be_retried_is_not_an_alert(instance):
    assert failed_run_alert(instance, {}) is None


def test_a_run_with_no_retry_left_is_an_alert_naming_asset_and_owner(instance):
    alert = failed_run_alert(instance, {"dagster/max_retries": "0"})  # as a last retry: the instance retries no more
    assert (alert["kind"], alert["assets"], alert["owners"]) == ("run_failed", ["flaky"], ["team:platform"])
    assert "of flaky_job failed: not built flaky" in alert["summary"]
    # The step's own error, not Dagster's "Execution of run ... failed. Steps failed: [...]".
    assert (alert["step"], alert["cause"]) == ("flaky", "the warehouse went away")
    assert alert["summary"].endswith(". Step flaky failed: the warehouse went away"), alert["summary"]
